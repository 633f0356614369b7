"""Step decorators like Metaflow's: ``@retry``, ``@catch`` and ``@timeout``.

They record their settings on the step method (above or below ``@step``, in any order);
the runner (:mod:`headwater.flows._runtime`) applies them: a timeout fails the attempt, a
failed attempt is retried (each retry is a recorded attempt of the step's node), and after the
last attempt ``@catch`` stores the error on ``self`` and the flow goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from headwater.errors import DefinitionError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class StepOptions:
    """What a step's decorators asked for."""

    retries: int = 0
    retry_delay: float = 0.0  # seconds between attempts
    catch_var: str | None = None
    catch_print: bool = True
    timeout: float | None = None  # seconds


def step_options(fn: Any) -> StepOptions:
    opts = getattr(fn, "_headwater_step_options", None)
    return opts if isinstance(opts, StepOptions) else StepOptions()


def _update(fn: Any, what: str, **changes: Any) -> None:
    if not callable(fn):
        raise DefinitionError(f"@{what} decorates a step method, got {fn!r}")
    fn._headwater_step_options = replace(step_options(fn), **changes)


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise DefinitionError(f"{what} must be a number >= 0, got {value!r}")
    return float(value)


def retry(f: Any = None, *, times: int = 3, minutes_between_retries: float = 2) -> Any:
    """Run the step again when it fails: ``@retry(times=3, minutes_between_retries=2)``.

    ``times`` retries after the first attempt (so ``times + 1`` attempts at most), waiting
    ``minutes_between_retries`` minutes between them; every attempt is recorded on the step's
    node. Bare ``@retry`` means ``times=3``.
    """
    if isinstance(times, bool) or not isinstance(times, int) or times < 0:
        raise DefinitionError(f"@retry(times=...) must be a whole number >= 0, got {times!r}")
    delay = _number(minutes_between_retries, "@retry(minutes_between_retries=...)") * 60

    def wrap(fn: F) -> F:
        _update(fn, "retry", retries=times, retry_delay=delay)
        return fn

    return wrap(f) if f is not None else wrap


def catch(f: Any = None, *, var: str | None = None, print_exception: bool = True) -> Any:
    """Let the flow go on when the step fails: ``@catch(var="error")``.

    After the step's last attempt fails, ``self.<var>`` is a :class:`CaughtException` (it is
    ``None`` when the step succeeds) and the flow continues with the step's next step(s).
    Artifacts the failed step set are dropped. Without ``var`` the error is only printed.
    """
    if var is not None and (not isinstance(var, str) or not var.isidentifier()):
        raise DefinitionError(f"@catch(var=...) must be an attribute name, got {var!r}")

    def wrap(fn: F) -> F:
        _update(fn, "catch", catch_var=var or "", catch_print=bool(print_exception))
        return fn

    return wrap(f) if f is not None else wrap


def timeout(f: Any = None, *, seconds: float = 0, minutes: float = 0, hours: float = 0) -> Any:
    """Fail the step's attempt when it runs longer than the sum of ``seconds``, ``minutes``
    and ``hours``: ``@timeout(minutes=5)``. The attempt is stopped (its process killed when
    the step runs in a process of its own, else interrupted) and ``@retry``/``@catch`` apply.
    """
    total = (
        _number(seconds, "@timeout(seconds=...)")
        + _number(minutes, "@timeout(minutes=...)") * 60
        + _number(hours, "@timeout(hours=...)") * 3600
    )
    if total <= 0:
        raise DefinitionError("@timeout needs a positive duration, e.g. @timeout(seconds=30)")

    def wrap(fn: F) -> F:
        _update(fn, "timeout", timeout=total)
        return fn

    return wrap(f) if f is not None else wrap


class CaughtException:
    """The error of a step that ``@catch(var=...)`` caught: ``.type``, ``.exception`` (the
    message), ``.stacktrace``; ``str()`` gives ``Type: message``. Always true."""

    def __init__(self, type: str, exception: str, stacktrace: str) -> None:
        self.type = type
        self.exception = exception
        self.stacktrace = stacktrace

    def __str__(self) -> str:
        return f"{self.type}: {self.exception}"

    def __repr__(self) -> str:
        return f"<CaughtException {self}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CaughtException) and (
            (self.type, self.exception) == (other.type, other.exception)
        )

    def __hash__(self) -> int:
        return hash((self.type, self.exception))
