"""Flows for the parallel, step-decorator and resume tests. Steps count their runs in files
under ``workdir`` (a step may run in a process of its own, so memory would not tell)."""

from __future__ import annotations

import time
from pathlib import Path

from headwater.flows import FlowSpec, Parameter, catch, current, retry, step, timeout


def bump(workdir: str, name: str) -> int:
    """Add one to the counter ``name``; its new value."""
    path = Path(workdir) / f"{name}.count"
    n = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(n))
    return n


def count(workdir: str, name: str) -> int:
    path = Path(workdir) / f"{name}.count"
    return int(path.read_text()) if path.exists() else 0


class WideForeach(FlowSpec):
    width = Parameter("width", default=50)
    pause = Parameter("pause", default=0.2)

    @step
    def start(self):
        self.items = list(range(self.width))
        self.next(self.square, foreach="items")

    @step
    def square(self):
        self.began = time.time()
        self.value = self.input * self.input
        time.sleep(self.pause)
        self.next(self.offset)

    @step
    def offset(self):
        # self.value was set by this branch's previous step
        self.value = self.value + 1
        self.ended = time.time()
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.values = [i.value for i in inputs]
        self.spans = [(i.began, i.ended) for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass


class Branches(FlowSpec):
    pause = Parameter("pause", default=0.3)

    @step
    def start(self):
        self.base = 5
        self.next(self.a, self.b, self.c)

    @step
    def a(self):
        self.span = self._work()
        self.x = self.base + 1
        self.next(self.join)

    @step
    def b(self):
        self.span = self._work()
        self.x = self.base + 2
        self.next(self.join)

    @step
    def c(self):
        self.span = self._work()
        self.x = self.base + 3
        self.next(self.join)

    def _work(self):
        began = time.time()
        time.sleep(self.pause)
        return (began, time.time())

    @step
    def join(self, inputs):
        self.spans = {i._hw_step_name: i.span for i in inputs}
        self.total = sum(i.x for i in inputs)
        self.merge_artifacts(inputs, include=["base"])
        self.next(self.end)

    @step
    def end(self):
        pass


class BrokenBranch(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.each, foreach="items")

    @step
    def each(self):
        if self.input == 2:
            raise ValueError("item 2 is bad")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


class Flaky(FlowSpec):
    workdir = Parameter("workdir")
    fails = Parameter("fails", default=2)

    @retry(times=3, minutes_between_retries=0)
    @step
    def start(self):
        self.tries = bump(self.workdir, "start")
        if self.tries <= self.fails:
            raise RuntimeError(f"try {self.tries} fails")
        self.items = ["x", "y"]
        self.next(self.each, foreach="items")

    @step
    @retry(times=1, minutes_between_retries=0)
    def each(self):
        self.tries = bump(self.workdir, f"each-{self.input}")
        if self.tries == 1:
            raise RuntimeError("first try of each item fails")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.each_tries = sorted(i.tries for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


class Caught(FlowSpec):
    @catch(var="error")
    @step
    def start(self):
        self.partial = "dropped"
        raise KeyError("no such row")
        self.next(self.fine)  # never reached; names the next step

    @catch(var="fine_error")
    @step
    def fine(self):
        self.ok = True
        self.next(self.end)

    @step
    def end(self):
        self.seen = str(self.error)
        self.had_partial = hasattr(self, "partial")


class Slow(FlowSpec):
    pause = Parameter("pause", default=60)

    @timeout(seconds=1)
    @step
    def start(self):
        time.sleep(self.pause)
        self.next(self.end)

    @step
    def end(self):
        pass


class SlowBranch(FlowSpec):
    pause = Parameter("pause", default=60)

    @step
    def start(self):
        self.items = [0.0, self.pause]
        self.next(self.each, foreach="items")

    @catch(var="error")
    @timeout(seconds=1)
    @step
    def each(self):
        time.sleep(self.input)
        self.slept = self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.errors = [type(i.error).__name__ if i.error else None for i in inputs]
        self.messages = [i.error.exception if i.error else "" for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass


class Resumable(FlowSpec):
    workdir = Parameter("workdir")

    @step
    def start(self):
        bump(self.workdir, "start")
        self.items = [0, 1, 2]
        self.run_of_start = current.run_id
        self.next(self.each, foreach="items")

    @step
    def each(self):
        bump(self.workdir, f"each-{self.input}")
        if self.input == 2 and (Path(self.workdir) / "break").exists():
            raise RuntimeError("item 2 breaks")
        self.doubled = self.input * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        bump(self.workdir, "join")
        self.doubled = [i.doubled for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        bump(self.workdir, "end")
