"""Before a worker or ``headwater up`` starts: wait until the database, the object store and
(for ``--executor dask://``) the Dask scheduler answer.

Each one is tried in turn; while one does not answer, the process logs which (its URL without
a password), what it got and how to fix it, and tries again after 0.5 s, doubling up to 10 s.
After ``--connect-timeout`` seconds (``$HEADWATER_CONNECT_TIMEOUT``, default 60; 0 waits
forever) it gives up: :func:`wait_for_services` returns the reason and the process exits with
:data:`EXIT_UNREACHABLE`. SQLite and a local blob folder are files: nothing to wait for.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from headwater.errors import UserInputError

if TYPE_CHECKING:
    from headwater.settings import Settings

EXIT_UNREACHABLE = 69  # EX_UNAVAILABLE
CONNECT_TIMEOUT_ENV = "HEADWATER_CONNECT_TIMEOUT"
DEFAULT_CONNECT_TIMEOUT = 60.0
FIRST_DELAY = 0.5
MAX_DELAY = 10.0
PROBE_TIMEOUT = 5.0  # seconds one try may take (an object store retries for long by itself)

log = logging.getLogger("headwater.connect")


class _Service:
    def __init__(self, what: str, where: str, fix: str, probe: Callable[[], None]) -> None:
        self.what, self.where, self.fix, self.probe = what, where, fix, probe


def connect_timeout_from_env(environ: Any = None) -> float:
    """``$HEADWATER_CONNECT_TIMEOUT`` in seconds (default 60; 0: wait forever)."""
    env = os.environ if environ is None else environ
    text = env.get(CONNECT_TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_CONNECT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise UserInputError(
            f"{CONNECT_TIMEOUT_ENV}={text!r} is not a number of seconds >= 0 (0 waits forever)"
        )
    return value


def _bounded(probe: Callable[[], None], seconds: float) -> None:
    """``probe()`` in a thread; TimeoutError when it has not returned within ``seconds``."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            probe()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, name="headwater-probe", daemon=True)
    thread.start()
    thread.join(seconds)
    if not outcome:
        raise TimeoutError(f"no answer within {seconds:g} s")
    if outcome[0] is not None:
        raise outcome[0]


def services(settings: Settings, dask_address: str | None = None) -> list[_Service]:
    """What this process needs to reach, in the order it is checked."""
    from headwater.storage.db import Database

    found: list[_Service] = []
    if not settings.database_url.startswith("sqlite"):
        db = Database(settings.database_url)
        dsn = db.dsn

        def probe_db() -> None:
            import psycopg

            with psycopg.connect(dsn, connect_timeout=int(PROBE_TIMEOUT)) as conn:
                conn.execute("SELECT 1")

        found.append(
            _Service(
                "the database",
                db.where,
                "start PostgreSQL there or fix HEADWATER_DATABASE_URL "
                "(postgresql+psycopg://USER@HOST:PORT/DB)",
                probe_db,
            )
        )
        db.close()
    url = settings.storage_url
    if "://" in url and not url.startswith("file://"):

        def probe_store() -> None:
            import fsspec

            fs, root = fsspec.core.url_to_fs(url, skip_instance_cache=True)
            fs.exists(root)

        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        via = f" (endpoint {endpoint})" if endpoint and url.startswith("s3") else ""
        found.append(
            _Service(
                "the object store",
                f"{url}{via}",
                "start the object store or fix HEADWATER_STORAGE_URL and its endpoint "
                "and credentials (e.g. AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID)",
                probe_store,
            )
        )
    if dask_address is not None:

        def probe_dask() -> None:
            from distributed import Client

            Client(dask_address, timeout=PROBE_TIMEOUT, set_as_default=False).close()

        found.append(
            _Service(
                "the Dask scheduler",
                dask_address,
                "start `dask scheduler` there or fix --executor / HEADWATER_WORKER_EXECUTOR "
                "(dask://HOST:8786)",
                probe_dask,
            )
        )
    return found


def wait_for_services(
    settings: Settings,
    *,
    dask_address: str | None = None,
    timeout: float = DEFAULT_CONNECT_TIMEOUT,
    stop: threading.Event | None = None,
    who: str = "headwater",
) -> str | None:
    """Block until every service answers (None), or return why not once ``timeout`` seconds
    (0: no limit) have passed or ``stop`` is set."""
    started = time.monotonic()
    stop = stop or threading.Event()
    for service in services(settings, dask_address):
        delay = FIRST_DELAY
        tries = 0
        while True:
            tries += 1
            try:
                _bounded(service.probe, PROBE_TIMEOUT)
            except Exception as exc:
                problem = (
                    f"cannot reach {service.what} at {service.where}: "
                    f"{type(exc).__name__}: {str(exc).strip() or 'no detail'}; {service.fix}"
                )
                waited = time.monotonic() - started
                if stop.is_set() or (timeout and waited + delay > timeout):
                    return (
                        f"{problem}. Gave up after {waited:.1f} s and {tries} tries "
                        f"(--connect-timeout / {CONNECT_TIMEOUT_ENV} waits longer; 0: forever)"
                    )
                log.warning("%s: %s; trying again in %.1f s", who, problem, delay)
                if stop.wait(delay):
                    return f"{problem}. Stopped while waiting"
                delay = min(delay * 2, MAX_DELAY)
                continue
            if tries > 1:
                log.info("%s: %s at %s answers now", who, service.what, service.where)
            break
    return None
