"""Tasks and workflows: interfaces read from annotations, problems reported at definition."""

from __future__ import annotations

from typing import Annotated, Any, NamedTuple

import pytest

from headwater import Artifact, DefinitionError, Inputs, task, workflow

A = Artifact(name="a", partition_keys=["region"])


class Pair(NamedTuple):
    left: int
    right: Annotated[str, A(region=Inputs.region)]


def test_interface_from_annotations():
    @task(retries=2, timeout=5, cache=True, cache_version="v2")
    def t(region: str, n: int = 3) -> Pair:
        return Pair(n, region)

    assert list(t.interface.inputs) == ["region", "n"]
    assert t.interface.inputs["region"].required
    assert t.interface.inputs["n"].default == 3
    assert list(t.interface.outputs) == ["left", "right"]
    assert t.interface.outputs["right"].binding.artifact is A
    assert t.options.retries == 2 and t.options.timeout.total_seconds() == 5
    assert t(region="EU") == Pair(3, "EU")  # a plain call outside an execution
    assert t.__doc__ is None and t.__name__ == "t"


def test_unannotated_and_none_returns():
    @task
    def loose(x):
        return x

    @task
    def nothing(x: int) -> None:
        return None

    assert loose.interface.outputs["o0"].type is Any
    assert nothing.interface.outputs == {}


def test_all_problems_reported_at_once():
    with pytest.raises(DefinitionError) as err:

        @workflow
        def bad(*args: int, **kwargs: int) -> Annotated[int, A(region=Inputs.nope)]:
            return 1

    msg = str(err.value)
    assert "invalid for 3 reasons" in msg
    assert "'args'" in msg and "'kwargs'" in msg and "Inputs.nope" in msg


def test_bad_options():
    with pytest.raises(DefinitionError, match="retries"):
        task(retries=-1)
    with pytest.raises(DefinitionError, match="timeout"):
        task(timeout="soon")


def test_input_annotated_with_an_artifact_says_to_use_a_query():
    with pytest.raises(DefinitionError, match=r"default of a.query"):

        @task
        def t(x: Annotated[int, A]) -> int:
            return x
