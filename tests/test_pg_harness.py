"""The PostgreSQL test harness itself (tests/_pg.py, fixtures in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
import sqlalchemy


def _libpq(url: str) -> str:
    assert url.startswith("postgresql+psycopg://"), url
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.mark.postgres
def test_roundtrip_row(postgres_url: str) -> None:
    with psycopg.connect(_libpq(postgres_url)) as conn:
        conn.execute("CREATE TABLE things (id integer PRIMARY KEY, name text NOT NULL)")
        conn.execute("INSERT INTO things (id, name) VALUES (%s, %s)", (1, "héadwater"))
        conn.commit()
    with psycopg.connect(_libpq(postgres_url)) as conn:
        rows = conn.execute("SELECT id, name FROM things").fetchall()
        (db,) = conn.execute("SELECT current_database()").fetchone() or (None,)
    assert rows == [(1, "héadwater")]
    assert db == postgres_url.rsplit("/", 1)[1]
    assert db.startswith("hw_")


@pytest.mark.postgres
def test_databases_are_distinct(
    postgres_url: str, postgres_database_factory: Callable[[], str]
) -> None:
    other_postgres_url = postgres_database_factory()
    assert postgres_url != other_postgres_url
    with psycopg.connect(_libpq(postgres_url), autocommit=True) as conn:
        conn.execute("CREATE TABLE only_here (x integer)")
    with psycopg.connect(_libpq(other_postgres_url), autocommit=True) as conn:
        found = conn.execute("SELECT to_regclass('only_here')").fetchone()
        empty = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
    assert found == (None,)
    assert empty == (0,)


def test_database_url_is_a_fresh_writable_database(database_url: str) -> None:
    """Each backend's URL opens an empty database this test may write to (and no one else)."""
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.begin() as conn:
            before = sqlalchemy.inspect(conn).get_table_names()
            conn.execute(sqlalchemy.text("CREATE TABLE probe (x integer)"))
            conn.execute(sqlalchemy.text("INSERT INTO probe (x) VALUES (7)"))
        with engine.connect() as conn:
            rows = conn.execute(sqlalchemy.text("SELECT x FROM probe")).all()
    finally:
        engine.dispose()
    assert before == []
    assert [tuple(r) for r in rows] == [(7,)]


_seen_urls: list[str] = []


@pytest.mark.postgres
@pytest.mark.parametrize("round_", [1, 2])
def test_each_test_gets_its_own_database(postgres_url: str, round_: int) -> None:
    assert postgres_url not in _seen_urls
    _seen_urls.append(postgres_url)
    with psycopg.connect(_libpq(postgres_url), autocommit=True) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone() or (None,)
        conn.execute("CREATE TABLE marker (x integer)")
    assert count == 0
