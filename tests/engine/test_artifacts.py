"""Artifact outputs, cards, partitions, query defaults, URIs, search and publishing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

import headwater
from headwater import Artifact, DataCard, ModelCard

from . import pipelines as p
from .conftest import stored


def test_task_output_becomes_a_partitioned_version_with_all_cards(instance):
    ex = headwater.run(p.daily_wf, region="EU", day=datetime(2026, 11, 1, 15, 30))
    assert ex.status == "succeeded"
    av = headwater.get_artifact("hw://default/development/daily?region=EU")
    assert av.uri == "hw://default/development/daily@1"
    assert av.partitions == {"region": "EU"}
    assert av.time_partition == datetime(2026, 11, 1, tzinfo=UTC)  # truncated to the day
    assert [c.kind for c in av.cards] == ["data", "data"]
    assert [c.text for c in av.cards] == ["# daily", "# second card"]
    assert av.value() == [1, 2, 3]
    assert av.producer.id == ex.id
    events = headwater.list_events(name="headwater.artifact.created")
    assert events[0].payload["uri"] == av.uri


def test_every_emission_is_a_new_immutable_version(instance):
    for region in ("EU", "US", "EU"):
        headwater.run(p.daily_wf, region=region, day=datetime(2026, 11, 2))
    assert headwater.get_artifact("hw://default/development/daily@1").partitions == {"region": "EU"}
    assert headwater.get_artifact(p.Daily.query(region="EU")).version == "3"
    assert headwater.get_artifact(p.Daily.query(region="US")).version == "2"
    assert headwater.get_artifact(p.Daily.query()).version == "3"


def test_query_default_resolves_at_launch_and_is_recorded(instance):
    headwater.run(p.daily_wf, region="EU", day=datetime(2026, 11, 1))
    headwater.run(p.daily_wf, region="US", day=datetime(2026, 11, 1))
    ex = headwater.run(p.train_wf, region="US")
    assert ex.status == "succeeded", ex.error
    assert ex.resolved_inputs["data"]["uri"] == "hw://default/development/daily@2"
    assert ex.resolved_inputs["data"]["via"] == "query"
    model = headwater.get_artifact(p.Model.query(region="US", algo="mean"))
    assert model.value() == p.Stats(3, 2.0)
    assert model.cards == [ModelCard("# model US")]
    assert model.partitions == {"region": "US", "algo": "mean"}


def test_explicit_input_overrides_the_query(instance):
    headwater.run(p.daily_wf, region="EU", day=datetime(2026, 11, 1))
    ex = headwater.run(p.train_wf, region="EU", data=[10, 20])
    assert ex.output == p.Stats(2, 15.0)
    assert ex.resolved_inputs == {}


def test_explicit_version_or_uri_input_is_consumed(instance):
    headwater.run(p.daily_wf, region="EU", day=datetime(2026, 11, 1))
    v1 = headwater.get_artifact("hw://default/development/daily@1")
    ex = headwater.run(p.train_wf, region="EU", data=v1)
    assert ex.resolved_inputs["data"] == {"uri": v1.uri, "via": "explicit"}
    ex2 = headwater.run(p.train_wf, region="EU", data="hw://default/development/daily@1")
    assert ex2.resolved_inputs["data"]["uri"] == v1.uri


def test_query_that_matches_nothing_is_refused_before_anything_is_stored(instance):
    before = stored(instance)
    with pytest.raises(headwater.NotFoundError, match="no artifact 'daily'"):
        headwater.run(p.train_wf, region="EU")
    headwater.run(p.daily_wf, region="EU", day=datetime(2026, 11, 1))
    before = stored(instance)
    with pytest.raises(headwater.NoMatchError, match="matches region=APAC"):
        headwater.run(p.train_wf, region="APAC")
    assert stored(instance) == before


def test_unbound_partition_fails_the_task_naming_the_key(instance):
    headwater.run(p.plain_wf, x=1)
    ex = headwater.run(p.unbound_wf, x=1)
    assert ex.status == "failed"
    assert ex.error["type"] == "PartitionError"
    assert "'algo'" in ex.error["message"] and "create_from" in ex.error["message"]
    assert headwater.search_artifacts(name="model") == []
    assert headwater.get_artifact("hw://default/development/plain@1").value() == 2


def test_failed_task_leaves_earlier_versions_untouched(instance):
    headwater.run(p.plain_wf, x=1)
    before = headwater.get_artifact("hw://default/development/plain@1")
    ex = headwater.run(p.boom_wf, x=5)
    assert ex.status == "failed"
    after = headwater.get_artifact(p.Plain.query())
    assert after.uri == before.uri and after.value() == 2


def test_workflow_output_artifact_and_self_consumption(instance):
    headwater.run(p.plain_wf, x=1)  # plain@1 = 2
    ex = headwater.run(p.chain_wf)  # consumes plain@1, publishes plain@2 = 4
    assert ex.resolved_inputs["x"]["uri"] == "hw://default/development/plain@1"
    latest = headwater.get_artifact(p.Plain.query())
    assert (latest.version, latest.value(), latest.producer.id) == ("2", 4, ex.id)


def test_search_artifacts(instance):
    headwater.run(p.daily_wf, region="EU", day=datetime(2026, 11, 1))
    headwater.run(p.daily_wf, region="US", day=datetime(2026, 11, 1))
    headwater.run(p.plain_wf, x=1)
    assert [v.uri.rsplit("/", 1)[1] for v in headwater.search_artifacts()] == [
        "plain@1",
        "daily@2",
        "daily@1",
    ]
    assert [
        v.version for v in headwater.search_artifacts(name="daily", partitions={"region": "EU"})
    ] == ["1"]
    assert len(headwater.search_artifacts(name="da*")) == 2
    assert len(headwater.search_artifacts(limit=1)) == 1
    assert headwater.search_artifacts(since=datetime(2100, 1, 1)) == []


def test_create_artifact_from_outside_a_workflow(instance):
    Sales = Artifact(name="sales", partition_keys=["region"], time_partitioned=True)
    av = headwater.create_artifact(
        Sales,
        {"rows": 3},
        time_partition=date(2026, 11, 3),
        cards=[DataCard("# Sales")],
        region="EU",
    )
    assert av.uri == "hw://default/development/sales@1"
    assert av.producer is None
    assert av.value() == {"rows": 3}
    got = headwater.get_artifact(
        "hw://default/development/sales?region=EU&time_partition=2026-11-03"
    )
    assert got == av
    assert headwater.list_events(name="headwater.artifact.created")[0].payload["uri"] == av.uri


def test_download_writes_the_stored_bytes(instance, tmp_path):
    headwater.run(p.plain_wf, x=1)
    av = headwater.get_artifact(p.Plain.query())
    out = av.download(tmp_path / "out.json")
    assert out.read_text().strip() == "2"
