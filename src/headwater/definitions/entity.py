"""Tasks and workflows: typed Python functions the engine records when they run."""

from __future__ import annotations

import functools
import inspect
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

from headwater.definitions import context as _context
from headwater.definitions.interface import Interface, read_interface
from headwater.definitions.names import DEFAULT_QUEUE, queue_problem
from headwater.errors import DefinitionError

F = TypeVar("F", bound=Callable[..., Any])


def qualified_name(fn: Callable[..., Any]) -> str:
    """``module.function``; a script run as ``__main__`` is named after its file."""
    module = fn.__module__
    if module == "__main__":
        main_file = getattr(sys.modules.get("__main__"), "__file__", None)
        module = Path(main_file).stem if main_file else "__main__"
    return f"{module}.{fn.__qualname__}"


@dataclass(frozen=True)
class TaskOptions:
    retries: int = 0
    timeout: timedelta | None = None
    cache: bool = False
    cache_version: str = ""
    container_image: Any = None
    requests: Any = None
    limits: Any = None
    retry_delay: float = 0.0  # seconds before the first retry...
    retry_backoff: float = 1.0  # ...multiplied by this before each further one

    def retry_wait(self, attempt: int) -> float:
        """Seconds to wait before ``attempt`` (2 is the first retry; 0 before the first)."""
        if attempt < 2 or not self.retry_delay:
            return 0.0
        return float(self.retry_delay * self.retry_backoff ** (attempt - 2))

    def to_dict(self) -> dict[str, Any]:
        image = self.container_image
        # Left out when unset, so that the versions of existing tasks do not change.
        retry = {
            k: v
            for k, v in (("retry_delay", self.retry_delay), ("retry_backoff", self.retry_backoff))
            if v != (0.0 if k == "retry_delay" else 1.0)
        }
        return {
            "retries": self.retries,
            "timeout": self.timeout.total_seconds() if self.timeout else None,
            "cache": self.cache,
            "cache_version": self.cache_version,
            "container_image": image.to_dict() if hasattr(image, "to_dict") else image,
            "requests": self.requests,
            "limits": self.limits,
            **retry,
        }


@dataclass(eq=False)
class Entity:
    """Common to tasks and workflows: the wrapped function, its name and interface."""

    fn: Callable[..., Any]
    kind: Literal["task", "workflow"]
    options: TaskOptions = field(default_factory=TaskOptions)
    name: str = ""
    interface: Interface = field(init=False)
    signature: inspect.Signature = field(init=False)

    def __post_init__(self) -> None:
        self.name = self.name or qualified_name(self.fn)
        self.interface = read_interface(self.fn, f"{self.kind} {self.name!r}")
        self.signature = inspect.signature(self.fn)
        functools.update_wrapper(self, self.fn)
        if self.interface.problems:
            n = len(self.interface.problems)
            lines = "\n".join(f"  - {p}" for p in self.interface.problems)
            raise DefinitionError(
                f"{self.kind} {self.name!r} is invalid for {n} "
                f"reason{'s' if n > 1 else ''}:\n{lines}"
            )

    @property
    def short_name(self) -> str:
        return self.fn.__qualname__

    @property
    def module(self) -> str:
        return self.fn.__module__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        frame = _context.ACTIVE.get()
        if frame is None:
            return self.fn(*args, **kwargs)
        return frame.call(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<{self.kind} {self.name}>"

    def __hash__(self) -> int:
        return id(self)


class TaskDef(Entity):
    """A task: a typed unit of work; recorded as a node when a workflow calls it."""


class WorkflowDef(Entity):
    """A workflow: an eager Python function whose task calls are recorded as nodes.

    ``queue``: the named queue its executions wait on unless a launch plan names another."""

    queue: str = DEFAULT_QUEUE


def _timeout(value: Any) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return timedelta(seconds=value)
    raise DefinitionError(
        f"timeout must be a timedelta or a positive number of seconds, got {value!r}"
    )


def _retry_timing(retries: int, delay: Any, backoff: Any) -> tuple[float, float]:
    """``retry_delay`` in seconds and ``retry_backoff``, checked."""
    if isinstance(delay, timedelta):
        delay = delay.total_seconds()
    if (
        not isinstance(delay, int | float)
        or isinstance(delay, bool)
        or not math.isfinite(delay)
        or delay < 0
    ):
        raise DefinitionError(
            f"retry_delay must be a number of seconds >= 0 or a timedelta, got {delay!r}"
        )
    if (
        not isinstance(backoff, int | float)
        or isinstance(backoff, bool)
        or not math.isfinite(backoff)
        or backoff < 1
    ):
        raise DefinitionError(
            f"retry_backoff must be a number >= 1 (each wait is the previous one times it; "
            f"1 keeps the delay constant), got {backoff!r}"
        )
    if retries == 0 and (delay or backoff != 1):
        raise DefinitionError(
            "retry_delay and retry_backoff only apply to retries; add retries=N (e.g. "
            "@task(retries=3, retry_delay=1.0, retry_backoff=2.0)) or drop them"
        )
    return float(delay), float(backoff)


@overload
def task(fn: F) -> F: ...
@overload
def task(
    *,
    retries: int = 0,
    timeout: Any = None,
    cache: bool = False,
    cache_version: str = "",
    container_image: Any = None,
    requests: Any = None,
    limits: Any = None,
    retry_delay: Any = 0.0,
    retry_backoff: float = 1.0,
) -> Callable[[F], F]: ...
def task(
    fn: Any = None,
    *,
    retries: int = 0,
    timeout: Any = None,
    cache: bool = False,
    cache_version: str = "",
    container_image: Any = None,
    requests: Any = None,
    limits: Any = None,
    retry_delay: Any = 0.0,
    retry_backoff: float = 1.0,
) -> Any:
    """Declare a task. Inputs and outputs are typed by annotations::

        @task(retries=2, cache=True, cache_version="1")
        def clean(df: pd.DataFrame) -> pd.DataFrame:
            return df.dropna()

    ``retry_delay`` (seconds or a timedelta) is waited before the first retry and multiplied by
    ``retry_backoff`` before each further one: ``@task(retries=3, retry_delay=1.0,
    retry_backoff=2.0)`` waits 1, 2 and 4 s. Each wait is recorded with the node's attempts.

    Called outside an execution it is a plain function call.
    """
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise DefinitionError(f"retries must be a whole number >= 0, got {retries!r}")
    delay, backoff = _retry_timing(retries, retry_delay, retry_backoff)
    options = TaskOptions(
        retries,
        _timeout(timeout),
        bool(cache),
        str(cache_version),
        container_image,
        requests,
        limits,
        delay,
        backoff,
    )

    def wrap(f: Callable[..., Any]) -> TaskDef:
        return TaskDef(f, "task", options)

    return wrap(fn) if fn is not None else wrap


@overload
def workflow(fn: F) -> F: ...
@overload
def workflow(*, queue: str = DEFAULT_QUEUE) -> Callable[[F], F]: ...
def workflow(fn: Any = None, *, queue: str = DEFAULT_QUEUE) -> Any:
    """Declare a workflow: eager Python whose task calls are recorded::

        @workflow
        def pipeline(region: str = "EU") -> pd.DataFrame:
            return clean(extract(region=region))

    ``headwater.run(pipeline, region="US")`` runs it as a recorded execution.
    ``@workflow(queue="gpu")``: its executions wait on the named queue, taken only by workers
    started with ``headwater worker --queue gpu``; every launch plan of it that names no
    ``queue=`` of its own uses this one.
    """
    problem = queue_problem(queue)
    if problem:
        raise DefinitionError(f"@workflow: {problem}")

    def wrap(f: Callable[..., Any]) -> WorkflowDef:
        wf = WorkflowDef(f, "workflow")
        wf.queue = queue
        return wf

    return wrap(fn) if fn is not None else wrap
