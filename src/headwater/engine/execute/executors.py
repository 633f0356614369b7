"""Where the items of ``headwater.map`` run: a local process pool, or a Dask cluster.

Chosen by the ``executor`` setting (``HEADWATER_EXECUTOR``): unset or ``local`` is a pool of
local processes; ``dask://host:8786`` (or ``tcp://host:8786``) submits to an existing Dask
distributed scheduler (``pip install 'headwater[dask]'``). Dask is imported only then.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Generator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from headwater.engine.execute.map_item import MapItem, run_item
from headwater.errors import UserInputError

Outcome = dict[str, Any] | BaseException
Runs = Generator[tuple[int, Outcome], None, None]

CONNECT_TIMEOUT = 2.0  # seconds per try to reach a Dask scheduler
CONNECT_TRIES = 3
CONNECT_BACKOFF = 0.5  # seconds before the second try, doubling after


class Executor(Protocol):
    """Runs map items; yields ``(index, outcome)`` as items finish. Closing the iterator
    early submits nothing more and waits for the items already running."""

    def run(self, items: list[MapItem], concurrency: int | None) -> Runs: ...


def executor_for(setting: str | None) -> Executor:
    """The executor named by the ``executor`` setting (None: the local process pool)."""
    value = (setting or "").strip()
    if value in ("", "local"):
        return LocalPool()
    if value.startswith(("dask://", "tcp://")):
        return DaskExecutor("tcp://" + value.split("://", 1)[1])
    raise UserInputError(
        f"executor setting {value!r} is not understood; set HEADWATER_EXECUTOR (or "
        "'executor' in config.toml) to 'local' or 'dask://host:8786'"
    )


# -- the local process pool ---------------------------------------------------------------------
_pool: ProcessPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def _local_pool(size: int) -> ProcessPoolExecutor:
    """One pool per process, kept between maps (starting processes is the slow part)."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size != size:
            if _pool is not None:
                _pool.shutdown(wait=False, cancel_futures=True)
            # spawn: a fresh interpreter, so no lock or connection held by a thread of this
            # process is copied into the child.
            _pool = ProcessPoolExecutor(size, mp_context=multiprocessing.get_context("spawn"))
            _pool_size = size
        return _pool


def shutdown_local_pool() -> None:
    """Stop the local pool's processes (they close their database connections)."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None


def _reset_broken(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None


class LocalPool:
    """Items in local processes, ``concurrency`` (default: the number of CPUs) at a time."""

    def run(self, items: list[MapItem], concurrency: int | None) -> Runs:
        size = concurrency or os.cpu_count() or 1
        pool = _local_pool(size)
        pending = iter(enumerate(items))
        running: dict[Future[dict[str, Any]], int] = {}

        def submit_one() -> bool:
            nxt = next(pending, None)
            if nxt is None:
                return False
            running[pool.submit(run_item, nxt[1])] = nxt[0]
            return True

        try:
            while len(running) < size and submit_one():
                pass
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    index = running.pop(fut)
                    try:
                        outcome: Outcome = fut.result()
                    except BrokenProcessPool as exc:
                        _reset_broken(pool)
                        outcome = exc
                    except Exception as exc:
                        outcome = exc
                    yield index, outcome
                    submit_one()
        finally:
            wait(running)


# -- Dask distributed ---------------------------------------------------------------------------
_clients: dict[str, Any] = {}


def dask_client(address: str) -> Any:
    """A client of the scheduler at ``address``, connected with a bounded retry."""
    client = _clients.get(address)
    if client is not None and client.status == "running":
        return client
    try:
        from distributed import Client
    except ImportError:
        raise UserInputError(
            f"the executor setting names a Dask scheduler ({address}) but Dask is not "
            "installed; pip install 'headwater[dask]', or unset HEADWATER_EXECUTOR"
        ) from None
    delay = CONNECT_BACKOFF
    last: BaseException | None = None
    for attempt in range(CONNECT_TRIES):
        if attempt:
            time.sleep(delay)
            delay *= 2
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            last = exc
            continue
        _clients[address] = client
        return client
    raise UserInputError(
        f"cannot reach the Dask scheduler at {address} (tried {CONNECT_TRIES} times): {last}; "
        "start the scheduler there, or fix HEADWATER_EXECUTOR (or 'executor' in "
        "config.toml), e.g. dask://host:8786, or unset it to run on local processes"
    )


class DaskExecutor:
    """Items as Dask tasks on an existing cluster; Dask runs an item again elsewhere when the
    worker running it dies (each start is recorded as an attempt of the node)."""

    def __init__(self, address: str) -> None:
        self.address = address

    def run(self, items: list[MapItem], concurrency: int | None) -> Runs:
        from distributed import as_completed

        client = dask_client(self.address)
        pending = iter(enumerate(items))
        running: dict[Any, int] = {}
        flow: Any = None

        def submit_one() -> bool:
            nxt = next(pending, None)
            if nxt is None:
                return False
            index, item = nxt
            key = f"headwater-map-{item.execution_id}-{item.node_id}"
            fut = client.submit(run_item, item, key=key, pure=False)
            running[fut] = index
            if flow is not None:
                flow.add(fut)
            return True

        try:
            while (concurrency is None or len(running) < concurrency) and submit_one():
                pass
            flow = as_completed(list(running), loop=client.loop)
            for fut in flow:
                index = running.pop(fut)
                try:
                    outcome: Outcome = fut.result()
                except Exception as exc:
                    outcome = exc
                yield index, outcome
                submit_one()
        finally:
            for fut in list(running):
                try:
                    fut.result()
                except Exception:
                    pass
