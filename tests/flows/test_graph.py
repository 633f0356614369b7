"""Graph errors at load time; branches, join and foreach data flow."""

from __future__ import annotations

import pytest

from headwater.errors import DefinitionError
from headwater.flows import FlowSpec, Parameter, Run, current, run, step


class Shapes(FlowSpec):
    scale = Parameter("scale", default=2)

    @step
    def start(self):
        self.items = ["a", "bb", "ccc"]
        self.next(self.left, self.right)

    @step
    def left(self):
        self.x = 1 * self.scale
        self.next(self.join)

    @step
    def right(self):
        self.x = 10 * self.scale
        self.next(self.join)

    @step
    def join(self, inputs):
        self.both = inputs.left.x + inputs.right.x
        self.xs = sorted(i.x for i in inputs)
        self.merge_artifacts(inputs, exclude=["x"])
        self.next(self.each, foreach="items")

    @step
    def each(self):
        self.length = len(self.input) * self.scale
        self.position = self.index
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.lengths = [(i.position, i.length) for i in inputs]
        self.merge_artifacts(inputs, include=["both", "xs"])
        self.next(self.end)

    @step
    def end(self):
        self.where = current.step_name


def test_branches_join_and_foreach(instance):
    ex = run(Shapes, scale=3)
    assert ex.status == "succeeded", ex.error
    r = Run(f"Shapes/{ex.id}")
    assert r.data.both == 33 and r.data.xs == [3, 30]
    assert r.data.lengths == [(0, 3), (1, 6), (2, 9)]
    assert r.data.where == "end" and r.data.scale == 3
    assert [s.id for s in r.steps()].count("each") == 3
    assert r["left"].task.data.x == 3


def test_a_step_error_fails_the_run_naming_the_step(instance):
    class Boom(FlowSpec):
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            raise ValueError("kaput")

    ex = run(Boom)
    assert ex.status == "failed" and "kaput" in ex.error["message"]
    assert [n.status for n in ex.nodes] == ["succeeded", "failed"]


def test_step_without_next():
    with pytest.raises(DefinitionError, match=r"step .middle. never calls self\.next"):

        class NoNext(FlowSpec):
            @step
            def start(self):
                self.next(self.middle)

            @step
            def middle(self):
                self.x = 1

            @step
            def end(self):
                pass


def test_unknown_target():
    with pytest.raises(DefinitionError, match=r"step .start. .* unknown step .nowhere."):

        class Unknown(FlowSpec):
            @step
            def start(self):
                self.next(self.nowhere)

            @step
            def end(self):
                pass


def test_missing_end():
    with pytest.raises(DefinitionError, match="no 'end' step"):

        class NoEnd(FlowSpec):
            @step
            def start(self):
                self.next(self.start)


def test_assigning_a_parameter_fails():
    class Assign(FlowSpec):
        p = Parameter("p", default=1)

        @step
        def start(self):
            self.p = 2
            self.next(self.end)

        @step
        def end(self):
            pass

    from headwater.flows._runtime import run_flow

    with pytest.raises(Exception, match="Parameter"):
        run_flow(Assign, {"p": 1})


def test_definition_mistakes_name_the_fix():
    with pytest.raises(DefinitionError, match="put @step on a `def`"):
        step(3)  # type: ignore[type-var]
    with pytest.raises(DefinitionError, match=r"has the name of a step; rename the Parameter"):

        class Clash(FlowSpec):
            start_ = Parameter("start", default=1)

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass

    with pytest.raises(DefinitionError, match=r"named 'p'; give each Parameter its own name"):

        class Twice(FlowSpec):
            a = Parameter("p", default=1)
            b = Parameter("p", default=2)

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
