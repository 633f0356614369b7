"""Calling task code with a time limit.

Two layers. Inside the process that runs the task, a timer signal raises
:class:`TaskTimeoutError` in the task (the in-process retries of ``run_node`` apply). Code can
catch that exception and go on, so on a worker it is not the real limit: the process running
the execution reports each timed call to its worker (:func:`watch`), and the worker kills the
process when a call outlives its timeout by a short grace period (``engine/execution_watch.py``).
``headwater.run()`` in a plain process has only the first layer.
"""

from __future__ import annotations

import contextvars
import signal
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from headwater.errors import TaskTimeoutError

#: Called with (seconds, task name) when a timed call starts and (None, task name) when it
#: ends; set in a worker's execution process, None elsewhere.
Reporter = Callable[[float | None, str], None]
_reporter: Reporter | None = None


def watch(reporter: Reporter | None) -> None:
    """Report every timed call of this process to ``reporter`` (None: stop reporting)."""
    global _reporter
    _reporter = reporter


def call_with_timeout(
    fn: Callable[..., Any], kwargs: dict[str, Any], timeout: timedelta | None
) -> Any:
    """``fn(**kwargs)``, raising TaskTimeoutError once ``timeout`` passes.

    In the main thread a timer signal interrupts the task itself. Elsewhere (signals only
    reach the main thread) the task runs in a helper thread that is abandoned on timeout.
    """
    if timeout is None:
        return fn(**kwargs)
    seconds = timeout.total_seconds()
    name = str(getattr(fn, "__qualname__", fn))
    reporter = _reporter
    if reporter is not None:
        reporter(seconds, name)
    try:
        return _call(fn, kwargs, seconds, f"{name} ran past its timeout of {seconds:g} s")
    finally:
        if reporter is not None:
            reporter(None, name)


def _call(fn: Callable[..., Any], kwargs: dict[str, Any], seconds: float, message: str) -> Any:
    if threading.current_thread() is threading.main_thread():

        def on_alarm(signum: int, frame: Any) -> None:
            raise TaskTimeoutError(message)

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return fn(**kwargs)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    box: dict[str, Any] = {}
    ctx = contextvars.copy_context()

    def target() -> None:
        try:
            box["result"] = ctx.run(fn, **kwargs)
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True, name="headwater-task")
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TaskTimeoutError(message)
    if "error" in box:
        raise box["error"]
    return box.get("result")
