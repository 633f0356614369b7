"""Tasks and workflows run on the Dask cluster the tests start."""

from __future__ import annotations

import os
import time
from pathlib import Path

import headwater
from headwater import task, workflow


@task
def cube(x: int) -> int:
    return x * x * x


@task
def tracked(x: int, folder: str) -> int:
    """Leaves ``<x>-<pid>`` behind when it starts, so a test can see where an item runs."""
    (Path(folder) / f"{x}-{os.getpid()}").touch()
    time.sleep(0.3)
    return x + 1


@workflow
def cubes_wf(n: int = 200) -> list[int]:
    return headwater.map(cube, list(range(n)))


@workflow
def tracked_wf(folder: str, n: int = 30) -> list[int]:
    return headwater.map(tracked, [{"x": i, "folder": folder} for i in range(n)])
