"""Tasks, workflows and flows run on the Dask cluster the tests start."""

from __future__ import annotations

import os
import time
from pathlib import Path

import headwater
from headwater import task, workflow
from headwater.flows import FlowSpec, Parameter, step


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


class DaskForeach(FlowSpec):
    """A foreach whose items note the process they ran in."""

    width = Parameter("width", default=50)

    @step
    def start(self):
        self.items = list(range(self.width))
        self.next(self.square, foreach="items")

    @step
    def square(self):
        self.value = self.input * self.input
        self.pid = os.getpid()
        time.sleep(0.05)
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.values = [i.value for i in inputs]
        self.pids = sorted({i.pid for i in inputs})
        self.next(self.end)

    @step
    def end(self):
        pass
