"""PostgreSQL: a statement sent now and read later (``Database.send``, storage/sent.py)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from headwater.storage.db import Database
from headwater.storage.faults import DatabaseUnavailable

pytestmark = pytest.mark.postgres


@pytest.fixture
def db(postgres_url: str) -> Iterator[Database]:
    database = Database(postgres_url)
    with database.transaction() as tx:
        tx.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, name TEXT NOT NULL, x FLOAT8)")
        tx.execute("INSERT INTO t (k, name) VALUES (1, 'one')")
    yield database
    database.close()


def rows(db: Database) -> list[tuple[int, str, float | None]]:
    with db.read() as tx:
        return [(r["k"], r["name"], r["x"]) for r in tx.all("SELECT * FROM t ORDER BY k")]


INSERT = "INSERT INTO t (k, name, x) SELECT :k, :name, :x WHERE :ok RETURNING k, name, x"


def test_the_first_row_comes_back_as_text_and_the_change_is_committed(db: Database) -> None:
    name = 'it\'s \\ "quoted" é'  # bound on the client: quoted, not pasted
    sent = db.send(INSERT, {"k": 2, "name": name, "x": 0.1, "ok": True})
    assert sent.one() == {"k": "2", "name": name, "x": "0.1"}
    assert sent.one() == {"k": "2", "name": name, "x": "0.1"}  # read once, kept
    assert rows(db) == [(1, "one", None), (2, name, 0.1)]
    assert db.send(INSERT, {"k": 3, "name": "no", "x": None, "ok": False}).one() is None
    assert rows(db) == [(1, "one", None), (2, name, 0.1)]


def test_the_caller_goes_on_while_the_statement_waits_on_the_server(db: Database) -> None:
    holder = psycopg.connect(db.dsn)
    holder.execute("UPDATE t SET name = 'held' WHERE k = 1")  # row lock until COMMIT
    # The update below waits for that lock on the server; send() has returned all the same.
    sent = db.send("UPDATE t SET name = :n WHERE k = 1 RETURNING name", {"n": "mine"})
    holder.commit()
    holder.close()
    assert sent.one() == {"name": "mine"}
    assert rows(db) == [(1, "mine", None)]


def test_an_error_is_raised_where_the_result_is_read_and_again_after(db: Database) -> None:
    sent = db.send(INSERT, {"k": 1, "name": "again", "x": None, "ok": True})
    with pytest.raises(psycopg.errors.UniqueViolation):
        sent.one()
    with pytest.raises(psycopg.errors.UniqueViolation):
        sent.one()
    assert rows(db) == [(1, "one", None)]  # nothing changed
    # the connection went back to the pool in a usable state
    assert db.send("SELECT COUNT(*) AS n FROM t", {}).one() == {"n": "1"}


def test_a_terminated_connection_is_a_storage_outage_and_the_next_use_works(
    db: Database,
) -> None:
    sent = db.send("SELECT pg_terminate_backend(pg_backend_pid())", {})
    with pytest.raises(DatabaseUnavailable):
        sent.one()
    assert db.send("SELECT name FROM t WHERE k = 1", {}).one() == {"name": "one"}


def test_send_refuses_sqlite_and_an_open_transaction(db: Database, tmp_path: object) -> None:
    lite = Database(f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(RuntimeError, match="PostgreSQL outside a transaction"):
        lite.send("SELECT 1", {})
    lite.close()
    with db.transaction(), pytest.raises(RuntimeError, match="outside a transaction"):
        db.send("SELECT 1", {})


def test_values_of_each_kind_arrive_as_the_server_reads_them(db: Database) -> None:
    got = db.send(
        "SELECT CAST(:a AS float8)::text AS a, CAST(:b AS float8)::text AS b, "
        ":c::text AS c, :d::text AS d, :e::text AS e, CAST(:f AS int[])::text AS f, "
        ":g::text AS g",
        {
            "a": float("nan"),
            "b": float("-inf"),
            "c": True,
            "d": None,
            "e": -(2**40),
            "f": "{1,2}",
            "g": "'; DROP TABLE t; --",
        },
    ).one()
    assert got == {
        "a": "NaN",
        "b": "-Infinity",
        "c": "true",
        "d": None,
        "e": str(-(2**40)),
        "f": "{1,2}",
        "g": "'; DROP TABLE t; --",
    }
    # a type sent.py does not quote itself goes through psycopg's ClientCursor
    assert db.send("SELECT CAST(:f AS int[])::text AS f", {"f": [1, 2]}).one() == {"f": "{1,2}"}
    assert rows(db) == [(1, "one", None)]  # the quoted text ran nothing
