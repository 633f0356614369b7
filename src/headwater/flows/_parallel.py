"""Parallel branches of a flow: threads that wait, forked processes that run steps.

Each branch of a split or foreach is followed by a thread of the execution's process (the
thread records the branch's nodes, as a sequential run would); a step of a branch runs in a
process forked for it, so steps use every core and a step past its ``@timeout`` is killed. A
semaphore bounds how many steps run at once (``--max-workers``); a thread waiting for a join
holds no slot. Where ``fork`` does not exist the steps run in the threads themselves.

With the ``executor`` setting naming a Dask scheduler (``HEADWATER_EXECUTOR=dask://host:8786``)
a step of a branch runs as a Dask task on that cluster instead (:func:`run_on_dask`): the
step's code and its artifacts travel pickled, the node is recorded here as always. A step past
its ``@timeout`` fails the node at once; Dask cannot stop its thread, so its late result is
dropped.
"""

from __future__ import annotations

import contextvars
import multiprocessing
import pickle
import threading
import traceback
import uuid
from collections.abc import Callable
from typing import Any

from headwater.errors import FlowError, TaskTimeoutError

DEFAULT_MAX_WORKERS = 16  # like Metaflow's --max-workers

CAN_FORK = "fork" in multiprocessing.get_all_start_methods()

#: True in the threads of :func:`fan_out` (a step there runs in a process of its own).
IN_BRANCH: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "headwater_flow_in_branch", default=False
)


def _in_branch(call: Callable[[], Any]) -> Any:
    IN_BRANCH.set(True)
    return call()


def fan_out(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` each in a thread (with the caller's context); their results in order.
    When some fail, all are waited for and the first failure (in order) is raised."""
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException | None] = [None] * len(calls)

    def runner(i: int, call: Callable[[], Any], ctx: contextvars.Context) -> None:
        try:
            results[i] = ctx.run(_in_branch, call)
        except BaseException as exc:  # handed to the caller's thread below
            errors[i] = exc

    threads = [
        threading.Thread(
            target=runner,
            args=(i, call, contextvars.copy_context()),
            name=f"headwater-branch-{i}",
            daemon=True,
        )
        for i, call in enumerate(calls)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for err in errors:
        if err is not None:
            raise err
    return results


def _child(fn: Callable[[], Any], conn: Any) -> None:
    try:
        result: tuple[str, Any] = ("ok", fn())
    except BaseException as exc:
        result = ("error", (exc, "".join(traceback.format_exception(exc))))
    try:
        conn.send(result)
    except Exception as exc:  # the result or the error does not pickle
        what = "error" if result[0] == "error" else "artifacts"
        text = result[1][1] if result[0] == "error" else ""
        conn.send(("error", (None, f"{text}the step's {what} cannot be sent back: {exc}")))
    finally:
        conn.close()


def run_forked(fn: Callable[[], Any], timeout: float | None, what: str) -> Any:
    """``fn()`` in a forked process; its result (pickled back) or its exception. Past
    ``timeout`` seconds the process is killed and ``TaskTimeoutError`` raised."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(fn, send), name=f"headwater {what}")
    proc.start()
    send.close()
    try:
        if not receive.poll(timeout):
            proc.kill()
            raise TaskTimeoutError(f"{what} ran past its timeout of {timeout:g} s and was killed")
        try:
            status, payload = receive.recv()
        except (EOFError, pickle.UnpicklingError) as exc:
            proc.join()
            raise FlowError(
                f"{what}: its process ended without a result (exit code {proc.exitcode}): {exc}"
            ) from None
    finally:
        receive.close()
        proc.join()
    if status == "ok":
        return payload
    error, text = payload
    if error is None:
        raise FlowError(text)
    error.add_note(f"In the step's process:\n{text}")
    raise error


def dask_address(executor: str | None) -> str | None:
    """The Dask scheduler the ``executor`` setting names, or None (local processes)."""
    from headwater.engine.execute.executors import DaskExecutor, executor_for

    chosen = executor_for(executor)
    return chosen.address if isinstance(chosen, DaskExecutor) else None


def run_on_dask(fn: Callable[[], Any], timeout: float | None, what: str, address: str) -> Any:
    """``fn()`` as a task of the Dask cluster at ``address``; its result or its exception.
    Past ``timeout`` seconds ``TaskTimeoutError`` is raised (the task is cancelled)."""
    from headwater.engine.execute.executors import dask_client

    client = dask_client(address)
    future = client.submit(fn, key=f"headwater-step-{uuid.uuid4().hex}", pure=False)
    try:
        return future.result(timeout=timeout)
    except TimeoutError:
        if future.done():
            raise  # the step itself raised it
        client.cancel(future)
        raise TaskTimeoutError(
            f"{what} ran past its timeout of {timeout:g} s on the Dask cluster and was abandoned"
        ) from None
