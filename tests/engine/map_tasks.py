"""Tasks and workflows for the headwater.map tests (importable by pool and Dask processes)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import headwater
from headwater import Artifact, Inputs, task, workflow

Square = Artifact(name="map_square", partition_keys=["n"])


@task
def square(x: int) -> int:
    return x * x


@task
def square_slowly(x: int) -> int:
    time.sleep(0.05)
    return x * x


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@task
def published(n: str) -> Annotated[int, Square(n=Inputs.n)]:
    return int(n) * int(n)


@task
def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError(f"three is not allowed (pid {os.getpid()})")
    return x


@task(retries=2)
def flaky(marker: str) -> str:
    """Fails on its first try (a marker file remembers the try across processes)."""
    path = Path(marker)
    if not path.exists():
        path.write_text("tried")
        raise RuntimeError("first try fails")
    return "ok"


@workflow
def squares_wf(n: int = 5) -> int:
    return total(xs=headwater.map(square, list(range(n))))


@workflow
def squares_list_wf(n: int = 5, concurrency: int = 2) -> list[int]:
    return headwater.map(square_slowly, list(range(n)), concurrency=concurrency)


@workflow
def add_wf() -> list[int]:
    return headwater.map(add, [{"a": 1, "b": 2}, {"a": 10, "b": 20}])


@workflow
def publish_wf() -> list[int]:
    return headwater.map(published, ["2", "3"])


@workflow
def failing_wf() -> list[int]:
    return headwater.map(fail_on_three, list(range(6)), concurrency=1)


@workflow
def flaky_wf(folder: str) -> list[str]:
    return headwater.map(flaky, [f"{folder}/a", f"{folder}/b"])


@workflow
def sleepy_wf(n: int = 200) -> list[int]:
    return headwater.map(square_slowly, list(range(n)))


@workflow
def squares_x_wf(x: int) -> list[int]:
    return headwater.map(square, list(range(x)))
