"""Bad input gets a clear error naming the thing and the fix, and stores nothing."""

from __future__ import annotations

from datetime import datetime

import pytest

import headwater
from headwater import Artifact, Inputs, PartitionError, task

from . import pipelines as p
from .conftest import stored


@pytest.fixture
def seeded(instance):
    headwater.run(p.daily_wf, region="EU", day=datetime(2026, 11, 1))
    return instance


def test_wrong_type_names_input_expected_and_actual(seeded):
    before = stored(seeded)
    with pytest.raises(headwater.TypeMismatchError) as err:
        headwater.run(p.add_wf, a="three")
    msg = str(err.value)
    assert "'a'" in msg and "int" in msg and "str" in msg
    assert stored(seeded) == before


def test_missing_required_input(seeded):
    before = stored(seeded)
    with pytest.raises(headwater.MissingInputError, match=r"needs input a \(int\)"):
        headwater.run(p.add_wf)
    assert stored(seeded) == before


def test_unknown_input_name(seeded):
    before = stored(seeded)
    with pytest.raises(headwater.UserInputError, match="has no input 'c'"):
        headwater.run(p.add_wf, a=1, c=2)
    assert stored(seeded) == before


def test_unknown_artifact_and_version(seeded):
    with pytest.raises(headwater.NotFoundError, match="no artifact 'nope'"):
        headwater.get_artifact("hw://default/development/nope?region=EU")
    with pytest.raises(headwater.NotFoundError, match="daily@99"):
        headwater.get_artifact("hw://default/development/daily@99")
    with pytest.raises(headwater.NotFoundError, match="no execution"):
        headwater.get_execution("nope")


def test_undeclared_partition_key(seeded):
    with pytest.raises(PartitionError, match=r"no partition key 'country'.*declared: region"):
        p.Daily.query(country="FR")
    with pytest.raises(PartitionError, match="no partition key 'country'"):
        headwater.get_artifact("hw://default/development/daily?country=FR")
    with pytest.raises(PartitionError, match="no partition key 'country'"):

        @task
        def t(country: str) -> p.Annotated[int, p.Daily(country=Inputs.country)]:
            return 1


@pytest.mark.parametrize("name", ["../x", "a/b", "", "has space", "..", "x" * 200, "é"])
def test_illegal_artifact_names(name):
    with pytest.raises(headwater.UserInputError, match="artifact name"):
        Artifact(name=name)


@pytest.mark.parametrize(
    "uri",
    [
        "hw://a/b",
        "http://a/b/c@1",
        "hw://a/b/c@",
        "hw://a/../c@1",
        "hw://a/b/c@1?x=1",
        "hw://a/b/c?&&=",
    ],
)
def test_malformed_uris(seeded, uri):
    with pytest.raises(headwater.UserInputError):
        headwater.get_artifact(uri)


def test_create_artifact_missing_partition(seeded):
    before = stored(seeded)
    with pytest.raises(PartitionError, match=r"no value for partition 'region': pass it"):
        headwater.create_artifact(p.Daily, [1], time_partition=datetime(2026, 1, 1))
    with pytest.raises(PartitionError, match="no time partition"):
        headwater.create_artifact(p.Daily, [1], region="EU")
    assert stored(seeded) == before


def test_run_rejects_non_entities(seeded):
    with pytest.raises(headwater.UserInputError, match="takes a @workflow or @task"):
        headwater.run(print)
