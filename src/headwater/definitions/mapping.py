"""``headwater.map``: one task over a list of items, in parallel, each item a recorded node."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from headwater.definitions import context as _context
from headwater.definitions.entity import TaskDef
from headwater.errors import UserInputError


def item_kwargs(task: TaskDef, item: Any, index: int) -> dict[str, Any]:
    """The keyword arguments of ``task`` for one item of a map.

    A task with one input takes each item as that input; a task with several takes each item
    as a dict of keyword arguments.
    """
    names = list(task.interface.inputs)
    if len(names) == 1:
        return {names[0]: item}
    if isinstance(item, dict):
        return dict(item)
    raise UserInputError(
        f"headwater.map(): task {task.name!r} has inputs {names}, so each item must be a dict "
        f"of them; item {index} is {type(item).__name__}"
    )


def map(task: Any, items: Iterable[Any], concurrency: int | None = None) -> list[Any]:
    """Run ``task`` once per item, in parallel, and return the results in the items' order::

        @workflow
        def scores(paths: list[str]) -> list[float]:
            return headwater.map(score, paths, concurrency=8)

    Inside a workflow every item is a node execution recorded like any task call (inputs,
    outputs, lineage, attempts, errors, the task's retries). A task with one input takes each
    item as that input; with several, each item is a dict of keyword arguments.
    ``concurrency`` caps how many items run at once (default: the executor's parallelism).
    Items run in a local process pool, or on a Dask cluster when ``HEADWATER_EXECUTOR`` (or the
    ``executor`` setting) is ``dask://host:8786``. If an item fails (after its retries), the
    items not yet started are not run and the map raises, naming the item.
    Outside an execution (and inside a task) it is a plain loop of function calls.
    """
    if not isinstance(task, TaskDef):
        raise UserInputError(
            f"headwater.map() takes a @task as its first argument, got {task!r}; "
            "decorate the function with @task"
        )
    if concurrency is not None and (
        not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1
    ):
        raise UserInputError(
            f"headwater.map(): concurrency must be a whole number >= 1 or None, got {concurrency!r}"
        )
    if isinstance(items, str | bytes | dict):
        raise UserInputError(
            f"headwater.map(): items must be a list (or another iterable) of items, "
            f"got {type(items).__name__}"
        )
    listed = list(items)
    calls = [item_kwargs(task, item, i) for i, item in enumerate(listed)]
    frame = _context.ACTIVE.get()
    run_map = getattr(frame, "map_items", None)
    if run_map is None:
        return [task.fn(**kwargs) for kwargs in calls]
    result: list[Any] = run_map(task, calls, concurrency)
    return result
