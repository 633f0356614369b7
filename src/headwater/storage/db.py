"""One small database interface with SQLite and PostgreSQL behind it.

The schema is owned by Alembic migrations (``storage/migrations``). At run time the engine
speaks DB-API directly (``sqlite3`` or ``psycopg``) with SQL written once using ``:name``
parameters: importing SQLAlchemy alone costs ~0.35 s on a small machine, more than a whole
``headwater run`` may take, so it is only loaded to migrate.

Connections: SQLite keeps one connection per thread (opening one is cheap, keeping it is
cheaper, and a file cannot "restart"). PostgreSQL borrows a connection from a pool
(``psycopg_pool``) for each ``transaction()`` or ``read()`` block and gives it back at its
end, so a server restart or a terminated backend costs the connections it broke, not the
process: the pool checks a connection before lending it and replaces broken ones.

Failures: errors about the storage itself become ``StorageError`` subclasses
(``storage/faults.py``): ``DatabaseUnavailable`` (lost connection, server restarting,
serialization failure: try again) and ``StorageFull``. A transaction is retried only where
nothing of it has run yet: getting a connection and ``BEGIN`` are retried with backoff; an
error in the body or at ``COMMIT`` rolls back and propagates, because a context manager
cannot run its body again and a failed ``COMMIT`` may have committed. Loops that must carry on
(reactor, scheduler, reaper, workers) catch ``DatabaseUnavailable``, wait and start their
step again from its beginning; ``Database.retrying(fn)`` does that for one call.
"""

from __future__ import annotations

import logging
import os
import re
import select
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from headwater.errors import Busy, StorageError
from headwater.storage.faults import (
    DatabaseUnavailable,
    FailureMemory,
    StorageFull,
    postgres_fault,
    sqlite_fault,
)
from headwater.storage.notify import push_enabled

if TYPE_CHECKING:
    from headwater.storage.sent import Sent

__all__ = ["Busy", "Database", "DatabaseUnavailable", "StorageFull", "Tx", "in_list"]

_BUSY_TIMEOUT_MS = 60_000
POOL_MAX = 10  # PostgreSQL connections per process at most
ACQUIRE_TIMEOUT = 10.0  # seconds to wait for a connection (the server restarting) before failing
# The pool retries a lost connection with growing delays (1, 2, 4 ... s) for this long, then
# starts afresh at the next request: bounds how late it notices that the server is back.
RECONNECT_TIMEOUT = 20.0
# The engine's loops (a worker's claim, the reactor's batch) run the same few statements
# over and over on long-lived connections. PostgreSQL plans a prepared statement anew at
# each run while it judges a custom plan cheaper: the claim's plan took ~0.45 ms of its
# ~0.65 ms on the server, on the path from an event to the user's code.
GENERIC_PLANS = "-c plan_cache_mode=force_generic_plan"
_generic_plans = False
_RETRY_FIRST, _RETRY_MAX = 0.05, 1.0  # backoff between attempts, seconds

T = TypeVar("T")
log = logging.getLogger("headwater.storage")


_CHANNEL = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")


@lru_cache(maxsize=512)
def _to_pyformat(sql: str) -> str:
    return _PARAM.sub(r"%(\1)s", sql)


class Tx:
    """A transaction (or read snapshot) on one connection. Rows support ``row["column"]``."""

    def __init__(
        self,
        conn: Any,
        dialect: str,
        channels: set[str] | None = None,
        pipeline: ExitStack | None = None,
    ) -> None:
        self.conn = conn
        self.dialect = dialect
        self._channels = channels  # NOTIFY these with the COMMIT (None: not a transaction)
        self._pipeline = pipeline  # PostgreSQL pipeline mode, while its stack holds it

    @property
    def pipelined(self) -> bool:
        """Whether statements are queued (PostgreSQL pipeline mode, ``transaction(pipeline=
        True)``): sent together and waited for only when a result is read, ``sync()`` or the
        COMMIT. COPY needs ``end_pipeline()`` first."""
        return self._pipeline is not None and self.conn._pipeline is not None

    def sync(self) -> None:
        """Pipeline mode: send the queued statements and wait for them (so that a cursor's
        ``rowcount`` is known; errors raise here). Otherwise nothing to do."""
        if self.pipelined:
            self.conn._pipeline.sync()

    def end_pipeline(self) -> None:
        """Leave pipeline mode (after running what is queued): one round trip per statement
        again, in the same transaction. For COPY, which pipeline mode does not allow."""
        if self._pipeline is not None:
            self._pipeline.close()

    def notify(self, channel: str) -> None:
        """PostgreSQL: wake the listeners of ``channel`` (``storage/notify.py``) once this
        transaction commits; the NOTIFY goes with the COMMIT, without a round trip of its
        own. No-op on SQLite and with push turned off."""
        if not _CHANNEL.fullmatch(channel):
            raise ValueError(f"NOTIFY channel {channel!r}: use 1-63 lowercase letters, digits or _")
        if self.dialect != "postgresql":
            return
        if self._channels is not None:
            self._channels.add(channel)
        elif push_enabled():  # outside a transaction: now
            self.conn.execute(f"NOTIFY {channel}")

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
            # Left open: closing a psycopg cursor resets its rowcount to -1.
            cur = self.conn.cursor()
            cur.executemany(_to_pyformat(sql), rows)
            return cur
        return self.conn.executemany(sql, rows)


def in_list(prefix: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """``(:p0, :p1, ...)`` and its parameters, for ``WHERE x IN ...``."""
    names = {f"{prefix}{i}": v for i, v in enumerate(values)}
    return "(" + ", ".join(f":{n}" for n in names) + ")", names


class _Local(threading.local):
    conn: Any = None  # SQLite: this thread's connection. PostgreSQL: the one a block holds.
    now: Any = None  # SQLite: this thread's connection for ``transaction_now`` (never waits)
    depth = 0  # 1 inside a transaction
    channels: set[str] | None = None  # to NOTIFY at the COMMIT of the current transaction
    pipeline: ExitStack | None = None  # PostgreSQL: holds the transaction's pipeline mode


def prefer_generic_plans() -> None:
    """PostgreSQL pools this process opens from now on plan each prepared statement once
    per connection (``plan_cache_mode = force_generic_plan``). For the processes that run
    the engine's loops, whose statements look rows up by key; not for ad-hoc queries,
    whose best plan depends on the values."""
    global _generic_plans
    _generic_plans = True


def _with_options(dsn: str, options: str) -> str:
    """``dsn`` with ``options`` added to the server options it may already carry."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    given = conninfo_to_dict(dsn).get("options")
    return make_conninfo(dsn, options=f"{given} {options}" if given else options)


def _alive(conn: Any) -> None:
    """The check of a pooled connection before it is used, without a round trip: an idle
    connection has nothing to read, so a readable socket means the server sent something
    (the notice it sends when it shuts down or terminates the backend) or closed it. Only
    then ask the server, which raises if the connection is gone."""
    if conn.closed:
        raise DatabaseUnavailable("connection closed")
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    if poller.poll(0):
        conn.execute("")


_OPEN: weakref.WeakSet[Database] = weakref.WeakSet()
_INHERITED: list[Any] = []  # a forked child's copies of its parent's connections


def _forget_in_child() -> None:
    # A forked child must not use (or close) the parent's connections: it opens its own.
    # Dropping them is safe: psycopg closes a connection only in the process that opened it.
    for db in list(_OPEN):
        db._forget()


os.register_at_fork(after_in_child=_forget_in_child)


class Database:
    """``transaction()`` for writes, ``read()`` for reads; SQLite or PostgreSQL by URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = _Local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        self._pool: Any = None
        self.failures = FailureMemory()  # recent failed writes, for /healthz
        _OPEN.add(self)
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

    @property
    def dsn(self) -> str:
        """PostgreSQL: the libpq connection string (for a connection outside the pool)."""
        return "postgresql://" + self.url.split("://", 1)[1]

    @property
    def where(self) -> str:
        """The database for messages: a file path, or the server URL without a password."""
        if self.dialect == "sqlite":
            return str(self.path)
        return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", self.url)

    # -- faults -----------------------------------------------------------------------------
    def fault(self, exc: BaseException) -> StorageError | None:
        """The ``StorageError`` a driver error stands for (None: not a storage problem).
        Failed writes for lack of space are remembered for ``/healthz``."""
        if isinstance(exc, StorageError):
            return None
        if self.dialect == "sqlite":
            fault = sqlite_fault(exc, self.path)
        else:
            fault = postgres_fault(exc, self.where)
        if isinstance(fault, StorageFull):
            self.failures.note(fault)
        return fault

    def _raise(self, exc: BaseException) -> None:
        fault = self.fault(exc)
        if fault is not None:
            raise fault from exc

    def retrying(self, fn: Callable[[], T], *, attempts: int = 5, first_delay: float = 0.1) -> T:
        """Call ``fn`` (which opens its own transactions), again from its start when it fails
        with ``DatabaseUnavailable``, waiting 0.1, 0.2, 0.4 ... s in between; the last
        failure propagates. Only for work that is safe to start over: a failed transaction
        was rolled back, but one that failed at ``COMMIT`` may have committed."""
        delay = first_delay
        for attempt in range(1, attempts + 1):
            try:
                return fn()
            except DatabaseUnavailable as exc:
                if attempt == attempts:
                    raise
                log.warning(
                    "database unavailable (%s); attempt %d in %.1f s", exc, attempt + 1, delay
                )
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        raise AssertionError("unreachable")

    # -- SQLite: one connection per thread ---------------------------------------------------
    def _connect(self) -> Any:
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        return conn

    def connection(self) -> Any:
        """SQLite: this thread's connection (opened on first use)."""
        if self.dialect != "sqlite":
            raise StorageError(
                "PostgreSQL connections come from the pool: use read()/transaction()"
            )
        conn = self._local.conn
        if conn is None:
            try:
                conn = self._local.conn = self._connect()
            except sqlite3.Error as exc:
                self._raise(exc)
                raise
            with self._lock:
                self._all.append(conn)
        return conn

    # -- PostgreSQL: a pool ---------------------------------------------------------------------
    def _get_pool(self) -> Any:
        pool = self._pool
        if pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = self._open_pool()
                pool = self._pool
        return pool

    def _open_pool(self) -> Any:
        try:
            import psycopg
            from psycopg.rows import dict_row
            from psycopg_pool import ConnectionPool
        except ImportError as exc:
            raise StorageError(
                "PostgreSQL needs psycopg and psycopg-pool: pip install 'headwater[postgres]'"
            ) from exc
        dsn = self.dsn
        # One plain connection first, so that a wrong URL or a server that is not there
        # fails now with the server's words, not after the pool's reconnect timeout.
        try:
            psycopg.connect(dsn, connect_timeout=10).close()
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(
                f"cannot connect to PostgreSQL at {self.where}: {exc}"
            ) from exc
        # The engine's loops report an outage once (engine/outage.py); left at WARNING the pool
        # would log each reconnect attempt and each discarded connection of every process.
        pool_log = logging.getLogger("psycopg.pool")
        if pool_log.level == logging.NOTSET:
            pool_log.setLevel(logging.ERROR)
        if _generic_plans:
            dsn = _with_options(dsn, GENERIC_PLANS)
        return ConnectionPool(
            dsn,
            kwargs={"row_factory": dict_row, "autocommit": True},
            min_size=1,
            max_size=POOL_MAX,
            timeout=ACQUIRE_TIMEOUT,
            reconnect_timeout=RECONNECT_TIMEOUT,
            name="headwater",
            open=True,
        )

    def _borrow(self, timeout: float = ACQUIRE_TIMEOUT) -> tuple[Any, Any]:
        """``(pool, connection)``: a live connection, or ``DatabaseUnavailable`` after
        waiting ``timeout`` seconds for one. Broken connections found on the way (a server
        restart breaks every idle one) are handed back, which discards and replaces them."""
        from psycopg_pool import PoolClosed, PoolTimeout

        pool = self._get_pool()
        for _ in range(POOL_MAX + 1):
            try:
                conn = pool.getconn(timeout=timeout)
            except PoolClosed:  # ``close()`` in another thread: the next use opens a new pool
                pool = self._get_pool()
                continue
            except PoolTimeout as exc:
                raise DatabaseUnavailable(
                    f"no connection to the PostgreSQL server at {self.where} within "
                    f"{timeout:g} s (is it running?)"
                ) from exc
            try:
                _alive(conn)
            except Exception as exc:
                log.debug("discarding a broken PostgreSQL connection: %s", exc)
                pool.putconn(conn)
                continue
            return pool, conn
        raise DatabaseUnavailable(f"every connection to {self.where} was broken; try again")

    def _begin_pg(self) -> tuple[Any, Any]:
        """``(pool, connection)`` in a fresh transaction. Retried with backoff while nothing
        has run: a connection that broke after its check fails here, at ``BEGIN``."""
        deadline = time.monotonic() + ACQUIRE_TIMEOUT
        delay = _RETRY_FIRST
        while True:
            pool, conn = self._borrow()
            try:
                conn.execute("BEGIN")
                return pool, conn
            except Exception as exc:
                pool.putconn(conn)
                fault = self.fault(exc)
                if not isinstance(fault, DatabaseUnavailable) or time.monotonic() > deadline:
                    if fault is not None:
                        raise fault from exc
                    raise
                log.info("BEGIN failed (%s); trying another connection", fault)
            time.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)

    # -- blocks ---------------------------------------------------------------------------------
    @contextmanager
    def transaction(self, *, pipeline: bool = False) -> Iterator[Tx]:
        """A write transaction: committed on success, rolled back on any exception. A
        transaction inside another joins it (one commit covers the whole change).

        ``pipeline`` (PostgreSQL, a transaction of its own): statements are queued and sent
        together, BEGIN with the first, COMMIT with the last writes; the client waits only
        where it reads a result (``Tx.pipelined``). BEGIN is then not retried on its own: a
        connection that broke fails the block where it first waits, as
        ``DatabaseUnavailable``, for the caller to run it again."""
        local = self._local
        if pipeline and self.dialect == "postgresql" and local.conn is None:
            with self._lent(*self._borrow()) as conn, self._pipelined(conn) as tx:
                yield tx
            return
        if self.dialect == "sqlite":
            conn = local.conn or self.connection()
            if local.depth:
                yield Tx(conn, self.dialect, local.channels)
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self._raise(exc)
                raise
            with self._until_commit(conn) as tx:
                yield tx
            return
        held = local.conn
        if held is not None:
            if local.depth:
                yield Tx(held, self.dialect, local.channels, local.pipeline)
                return
            try:  # inside a read() block: begin on its connection
                held.execute("BEGIN")
            except Exception as exc:
                self._raise(exc)
                raise
            with self._until_commit(held) as tx:
                yield tx
            return
        with self._lent(*self._begin_pg()) as conn, self._until_commit(conn) as tx:
            yield tx

    @contextmanager
    def _lent(self, pool: Any, conn: Any) -> Iterator[Any]:
        """PostgreSQL: ``conn`` as this thread's connection for the block, then handed back
        to ``pool`` (which discards and replaces a broken one)."""
        self._local.conn = conn
        try:
            yield conn
        finally:
            self._local.conn = None
            pool.putconn(conn)

    @contextmanager
    def statements(self) -> Iterator[Tx]:
        """A block of writes that each stand alone: on PostgreSQL (outside a transaction)
        every statement commits by itself (autocommit), with no ``BEGIN``/``COMMIT`` round
        trips, for a change made by one statement; elsewhere ``transaction()``."""
        if self.dialect != "postgresql" or self._local.conn is not None:
            with self.transaction() as tx:
                yield tx
            return
        with self.read() as tx:
            yield tx

    def send(self, sql: str, params: dict[str, Any]) -> Sent:
        """PostgreSQL, outside a transaction: send one statement to commit by itself and go
        on; its result (``storage/sent.py``'s ``Sent.one()``) is read when needed."""
        if self.dialect != "postgresql" or self._local.conn is not None:
            raise RuntimeError("Database.send is for PostgreSQL outside a transaction")
        from headwater.storage.sent import send

        return send(self, sql, params)

    @contextmanager
    def transaction_now(self) -> Iterator[Tx]:
        """A write transaction that starts only if it need not wait for another writer.

        Raises ``Busy`` instead of waiting (SQLite: another connection holds the write lock;
        PostgreSQL: always, since any statement may wait on the server). For callers that
        must not block, such as the HTTP server's event loop, which then hands the write to
        a thread.
        """
        if self.dialect != "sqlite" or self._local.depth:
            raise Busy("use transaction()")
        local = self._local
        conn = local.now or self.now_connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if (getattr(exc, "sqlite_errorcode", 5) & 0xFF) in (5, 6):  # BUSY, LOCKED
                raise Busy(str(exc)) from None
            self._raise(exc)
            raise
        held, local.conn = local.conn, conn  # a transaction() or read() inside joins it
        try:
            with self._until_commit(conn) as tx:
                yield tx
        finally:
            local.conn = held

    def now_connection(self) -> Any:
        """SQLite: this thread's connection for ``transaction_now``, opened on first use with
        a busy timeout of 0, so that it fails at once rather than wait for the write lock
        (setting and restoring the timeout around each BEGIN took two statements)."""
        if self.dialect != "sqlite":
            raise StorageError("PostgreSQL has no transaction_now connection: use transaction()")
        conn = self._local.now
        if conn is None:
            try:
                conn = self._connect()
                conn.execute("PRAGMA busy_timeout=0")
            except sqlite3.Error as exc:
                self._raise(exc)
                raise
            self._local.now = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def _until_commit(self, conn: Any) -> Iterator[Tx]:
        """The body of a begun transaction: COMMIT after it, ROLLBACK if it raises."""
        local = self._local
        local.depth = 1
        channels: set[str] = set()
        local.channels = channels
        try:
            try:
                yield Tx(conn, self.dialect, channels)
            except BaseException as exc:
                self._rollback(conn)
                self._raise(exc)
                raise
            commit = "COMMIT"
            if channels and push_enabled():  # one round trip: NOTIFY ...; COMMIT
                commit = "".join(f"NOTIFY {c}; " for c in sorted(channels)) + commit
            try:
                conn.execute(commit)
            except Exception as exc:
                self._rollback(conn)
                self._raise(exc)
                raise
        finally:
            local.depth = 0
            local.channels = None

    @contextmanager
    def _pipelined(self, conn: Any) -> Iterator[Tx]:
        """``_until_commit`` in pipeline mode: BEGIN, the body and NOTIFY + COMMIT queued,
        sent as they fill the buffer or a result is read; waited for at the end."""
        local = self._local
        local.depth = 1
        channels: set[str] = set()
        local.channels = channels
        stack = local.pipeline = ExitStack()
        try:
            try:
                stack.enter_context(conn.pipeline())
                conn.execute("BEGIN")
                yield Tx(conn, self.dialect, channels, stack)
                if channels and push_enabled():
                    for c in sorted(channels):  # one statement each: extended protocol
                        conn.execute(f"NOTIFY {c}")
                conn.execute("COMMIT")
                stack.close()  # sends what is queued, waits; the first error raises here
            except BaseException as exc:
                with suppress(Exception):
                    stack.close()
                self._rollback(conn)
                self._raise(exc)
                raise
        finally:
            local.depth = 0
            local.channels = None
            local.pipeline = None

    def _rollback(self, conn: Any) -> None:
        """Roll back what is left of a failed transaction; a rollback that fails too (the
        connection is gone) must not hide the error that caused it."""
        if self.dialect == "sqlite":
            if conn.in_transaction:  # SQLite rolls back by itself after some errors
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            return
        if not conn.broken:
            with suppress(Exception):
                conn.execute("ROLLBACK")

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """Reads outside a transaction see committed data (autocommit statements); inside
        one they see its changes."""
        local = self._local
        if self.dialect == "sqlite" or local.conn is not None:
            conn = local.conn or self.connection()
            try:
                yield Tx(conn, self.dialect, pipeline=local.pipeline)
            except Exception as exc:
                self._raise(exc)
                raise
            return
        with self._lent(*self._borrow()) as conn:
            try:
                yield Tx(conn, self.dialect)
            except Exception as exc:
                self._raise(exc)
                raise

    def ping(self, timeout: float = 2.0) -> None:
        """Raise ``StorageError`` unless the database answers a read within about
        ``timeout`` seconds (PostgreSQL: the wait for a pooled connection)."""
        if self.dialect == "sqlite":
            with self.read() as tx:
                tx.scalar("PRAGMA schema_version")  # reads the file's header
            return
        if self._local.conn is not None:
            with self.read() as tx:
                tx.scalar("SELECT 1")
            return
        pool, conn = self._borrow(timeout)
        try:
            conn.execute("SELECT 1")
        except Exception as exc:
            self._raise(exc)
            raise
        finally:
            pool.putconn(conn)

    def _forget(self) -> None:
        # Kept referenced, never closed: closing an inherited SQLite connection in the child
        # may checkpoint and remove the WAL under the parent's feet.
        _INHERITED.extend(self._all)
        _INHERITED.append(self._pool)
        self._pool, self._all = None, []
        self._local = _Local()
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close every connection this object opened, in any thread (it opens new ones if
        used again)."""
        with self._lock:
            conns, self._all = self._all, []
            pool, self._pool = self._pool, None
        for conn in conns:
            conn.close()
        if pool is not None:
            pool.close()
        self._local = _Local()
