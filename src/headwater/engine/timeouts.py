"""Calling task code with a time limit."""

from __future__ import annotations

import contextvars
import signal
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from headwater.errors import TaskTimeoutError


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
    message = f"{getattr(fn, '__qualname__', fn)} ran past its timeout of {seconds:g} s"
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
