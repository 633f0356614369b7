"""One small database interface with SQLite and PostgreSQL behind it.

The schema is owned by Alembic migrations (``storage/migrations``). At run time the engine
speaks DB-API directly (``sqlite3`` or ``psycopg``) with SQL written once using ``:name``
parameters: importing SQLAlchemy alone costs ~0.35 s on a small machine, more than a whole
``headwater run`` may take, so it is only loaded to migrate.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from headwater.errors import StorageError

_BUSY_TIMEOUT_MS = 60_000


class Busy(StorageError):
    """``Database.transaction_now``: the write would have to wait for another writer."""


_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")


@lru_cache(maxsize=512)
def _to_pyformat(sql: str) -> str:
    return _PARAM.sub(r"%(\1)s", sql)


class Tx:
    """A transaction (or read snapshot) on one connection. Rows support ``row["column"]``."""

    def __init__(self, conn: Any, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        if self.dialect == "postgresql":
            sql = _to_pyformat(sql)
        return self.conn.execute(sql, params or {})

    def one(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        return self.execute(sql, params).fetchone()

    def all(self, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
        return list(self.execute(sql, params).fetchall())

    def scalar(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        row = self.execute(sql, params).fetchone()
        if row is None:
            return None
        return next(iter(row.values())) if isinstance(row, dict) else row[0]

    def many(self, sql: str, rows: Sequence[dict[str, Any]]) -> Any:
        """Run ``sql`` once per row; the cursor (its ``rowcount`` sums the rows changed)."""
        if not rows:
            return None
        if self.dialect == "postgresql":
            with self.conn.cursor() as cur:
                cur.executemany(_to_pyformat(sql), rows)
                return cur
        return self.conn.executemany(sql, rows)


def in_list(prefix: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """``(:p0, :p1, ...)`` and its parameters, for ``WHERE x IN ...``."""
    names = {f"{prefix}{i}": v for i, v in enumerate(values)}
    return "(" + ", ".join(f":{n}" for n in names) + ")", names


class Database:
    """Connections per thread; ``transaction()`` for writes, ``read()`` for reads."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        if url.startswith("sqlite"):
            self.dialect = "sqlite"
            path = url.split(":///", 1)[1] if ":///" in url else ""
            if not path or path == ":memory:":
                raise StorageError("use a file-backed SQLite URL such as sqlite:////path/to/db")
            self.path = Path(path).expanduser()
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif url.startswith(("postgresql", "postgres")):
            self.dialect = "postgresql"
        else:
            raise StorageError(
                f"unsupported database URL {url!r}: use sqlite:////path/db.sqlite "
                "or postgresql+psycopg://user@host:port/dbname"
            )

    @property
    def sqlalchemy_url(self) -> str:
        if self.dialect == "postgresql" and "+" not in self.url.split("://", 1)[0]:
            return "postgresql+psycopg://" + self.url.split("://", 1)[1]
        return self.url

    def _connect(self) -> Any:
        if self.dialect == "sqlite":
            conn = sqlite3.connect(
                self.path, timeout=60, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            return conn
        try:
            import psycopg
            from psycopg.rows import dict_row
        except ImportError as exc:
            raise StorageError(
                "PostgreSQL needs psycopg: pip install 'headwater[postgres]'"
            ) from exc
        dsn = "postgresql://" + self.url.split("://", 1)[1]
        try:
            return psycopg.connect(dsn, row_factory=dict_row, autocommit=True)
        except psycopg.OperationalError as exc:
            raise StorageError(f"cannot connect to PostgreSQL at {self.url}: {exc}") from exc

    def connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
            self._local.depth = 0
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction: committed on success, rolled back on any exception."""
        conn = self.connection()
        if self._local.depth:
            # Nested use joins the outer transaction: one commit covers the whole change.
            yield Tx(conn, self.dialect)
            return
        conn.execute("BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN")
        with self._until_commit(conn) as tx:
            yield tx

    @contextmanager
    def transaction_now(self) -> Iterator[Tx]:
        """A write transaction that starts only if it need not wait for another writer.

        Raises ``Busy`` instead of waiting (SQLite: another connection holds the write lock;
        PostgreSQL: always, since any statement may wait on the server). For callers that
        must not block, such as the HTTP server's event loop, which then hands the write to
        a thread.
        """
        conn = self.connection()
        if self.dialect != "sqlite" or self._local.depth:
            raise Busy("use transaction()")
        conn.execute("PRAGMA busy_timeout=0")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise Busy(str(exc)) from None
        finally:
            conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        with self._until_commit(conn) as tx:
            yield tx

    @contextmanager
    def _until_commit(self, conn: Any) -> Iterator[Tx]:
        """The body of a begun transaction: COMMIT after it, ROLLBACK if it raises."""
        self._local.depth = 1
        try:
            try:
                yield Tx(conn, self.dialect)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            self._local.depth = 0

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """Reads outside a transaction see committed data (autocommit statements)."""
        yield Tx(self.connection(), self.dialect)

    def close(self) -> None:
        """Close every connection this object opened, in any thread."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()
