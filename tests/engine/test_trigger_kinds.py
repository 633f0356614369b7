"""Trigger kinds as plugins: the registry covers every trigger, and the kind added through it
(``OnArtifact(..., on="card_added")``) fires once per card."""

from __future__ import annotations

from datetime import timedelta

import pytest

import headwater
from headwater import (
    AllOf,
    AnyOf,
    Artifact,
    CronSchedule,
    DataCard,
    DefinitionError,
    FixedRate,
    LaunchPlan,
    ModelCard,
    OnArtifact,
    OnEvent,
    OnFinish,
)
from headwater.engine.kinds import kind_named, summary
from headwater.engine.react.reactor import Reactor
from headwater.engine.register.launch_plans import register_launch_plan

from . import reactive as r
from .test_reactor import decide, decisions

Model = Artifact(name="model", partition_keys=["region"])

CARD_ADDED = "headwater.artifact.card_added"


def card_events(uri: str) -> list:
    found = headwater.list_events(name=CARD_ADDED, limit=1000)
    return sorted(
        (e for e in found if e.payload["uri"] == uri), key=lambda e: e.payload["card"]["position"]
    )


def on_cards(name: str = "on_cards", **query: str) -> LaunchPlan:
    return LaunchPlan(
        name,
        r.table_loaded,
        trigger=OnArtifact(
            trigger_on=Model.query(**query),
            inputs={"table": Model.partitions.region},
            on="card_added",
        ),
        auto_activate=True,
    )


def test_a_card_added_fires_once_per_card_with_inputs_from_its_version(instance):
    register_launch_plan(instance, on_cards(region="EU"))
    created = register_launch_plan(
        instance,
        LaunchPlan(
            "on_created",
            r.table_loaded,
            trigger=OnArtifact(trigger_on=Model, inputs={"table": Model.partitions.region}),
            auto_activate=True,
        ),
    )
    eu = headwater.create_artifact(
        Model, 1, cards=[ModelCard("# Model"), DataCard("# Data")], region="EU"
    )
    us = headwater.create_artifact(Model, 2, cards=[ModelCard("# US")], region="US")
    plain = headwater.create_artifact(Model, 3, region="EU")
    decide(instance)

    first, second = card_events(eu.uri)
    assert [e.payload["card"] for e in (first, second)] == [
        {"kind": "model", "position": 0},
        {"kind": "data", "position": 1},
    ]
    assert card_events(plain.uri) == []  # no card, no event
    fired = []
    for event in (first, second):
        [d] = decisions(event.id, "on_cards")
        assert d.outcome == "fired"
        assert decisions(event.id, "on_created") == []  # created-triggers do not listen to cards
        ex = headwater.get_execution(d.execution_id)
        assert ex.inputs == {"table": "EU"}
        assert ex.trigger["kind"] == "card_added"
        assert ex.trigger["artifacts"] == [eu.uri]
        fired.append(d.execution_id)
    assert len(set(fired)) == 2
    [us_card] = card_events(us.uri)
    [d] = decisions(us_card.id, "on_cards")
    assert (d.outcome, d.reason) == (
        "not_fired",
        "partition mismatch: region='US', trigger wants 'EU'",
    )
    # every version fires the created-trigger once, cards or not
    assert created.active
    runs = headwater.list_executions(launch_plan="on_created")
    assert len(runs) == 3

    # delivering the same events again fires nothing more
    again = Reactor(instance).replay("on_cards", since=0)
    assert (
        sorted(d.reason for d in again if d.event_id in (first.id, second.id))
        == ["already fired for this event (exactly once)"] * 2
    )
    assert len(headwater.list_executions(launch_plan="on_cards")) == 2


def test_on_must_name_a_known_event():
    with pytest.raises(DefinitionError, match="'created' or 'card_added'") as err:
        OnArtifact(trigger_on=Model, on="updated")
    assert "on='updated'" in str(err.value)


def test_all_of_key_must_be_a_partition_of_every_artifact_part(instance):
    lp = LaunchPlan(
        "keyed",
        r.table_loaded,
        default_inputs={"table": "t"},
        trigger=AllOf(OnArtifact(trigger_on=Model), OnEvent("ready"), key="day"),
    )
    with pytest.raises(DefinitionError, match="AllOf\\(key='day'\\): artifact 'model' has no"):
        register_launch_plan(instance, lp)
    ok = LaunchPlan(
        "keyed",
        r.table_loaded,
        default_inputs={"table": "t"},
        trigger=AllOf(OnArtifact(trigger_on=Model), OnEvent("ready"), key="region"),
    )
    assert register_launch_plan(instance, ok).name == "keyed"


def test_any_of_inside_any_of_fires_on_each_leaf(instance):
    register_launch_plan(
        instance,
        LaunchPlan(
            "nested",
            r.table_loaded,
            default_inputs={"table": "n"},
            trigger=AnyOf(AnyOf(OnEvent("n.a"), OnEvent("n.b")), OnEvent("n.c")),
            auto_activate=True,
        ),
    )
    events = [headwater.emit_event(name, {}) for name in ("n.a", "n.b", "n.c")]
    decide(instance)
    assert [[d.outcome for d in decisions(e, "nested")] for e in events] == [["fired"]] * 3


def test_every_trigger_and_schedule_has_a_kind_that_evaluates_it():
    triggers = [
        OnArtifact(trigger_on=Model),
        OnArtifact(trigger_on=Model, on="card_added"),
        OnEvent("x"),
        OnFinish("wf"),
        AnyOf(OnEvent("a"), OnEvent("b")),
        AllOf(OnEvent("a"), OnEvent("b"), within=timedelta(hours=1)),
    ]
    for t in triggers:
        assert t.spec()["kind"] in kind_named(t.kind).spec_kinds
    texts = [summary(t.spec()) for t in triggers]
    assert texts == [
        "artifact model",
        "card added to model",
        "event x",
        "finish wf (succeeded)",
        "anyof(2)",
        "allof(2)",
    ]
    assert summary(CronSchedule("@daily").spec()) == "@daily"
    assert summary(FixedRate(timedelta(minutes=5)).spec()) == "every 300 s"


def test_created_is_the_default_and_keeps_the_spec_unchanged():
    """Launch plan versions hash the spec: adding ``on=`` must not change existing versions."""
    spec = OnArtifact(trigger_on=Model).spec()
    assert spec["kind"] == "artifact" and "on" not in spec
    assert OnArtifact(trigger_on=Model, on="created").spec() == spec
