"""The reactor: decisions recorded for every listening trigger, firings exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import headwater
from headwater import AllOf, DefinitionError, LaunchPlan, OnArtifact, OnEvent, OnFinish
from headwater.engine.react.reactor import Reactor
from headwater.errors import ConflictError

from . import reactive as r
from .conftest import stored

MODULE = "tests.engine.reactive"


@pytest.fixture
def registered(instance):
    headwater.register(MODULE, activate=True)
    return instance


def decide(inst) -> int:
    reactor = Reactor(inst)
    total = 0
    while n := reactor.run_once():
        total += n
    return total


def decisions(event_id: str, launch_plan: str | None = None) -> list:
    found = headwater.get_event(event_id).decisions
    return [d for d in found if launch_plan is None or d.launch_plan == launch_plan]


def queued(inst, launch_plan: str) -> list:
    return [e for e in headwater.list_executions(launch_plan=launch_plan) if e.status == "queued"]


def artifact_event(uri: str) -> str:
    for e in headwater.list_events(name="headwater.artifact.created", limit=1000):
        if e.payload["uri"] == uri:
            return e.id
    raise AssertionError(uri)


def test_registering_a_module_registers_its_launch_plans(registered):
    plans = {p.name: p for p in headwater.list_launch_plans()}
    assert {"on_raw_eu", "on_table", "both", f"{MODULE}.upstream"} <= set(plans)
    assert plans["on_raw_eu"].active
    again = {p.name: p.version for p in headwater.list_launch_plans()}
    headwater.register(MODULE)
    assert {p.name: p.version for p in headwater.list_launch_plans()} == again


def test_artifact_trigger_fires_once_with_bound_inputs(registered):
    headwater.run(r.ref_wf, region="EU")
    headwater.run(r.upstream, region="EU", day=datetime(2026, 11, 2))
    decide(registered)
    event_id = artifact_event("hw://default/development/raw@1")
    [d] = decisions(event_id, "on_raw_eu")
    assert d.outcome == "fired" and d.execution_id
    [ex] = queued(registered, "on_raw_eu")
    assert ex.id == d.execution_id
    assert ex.input_literals["region"]["value"] == "EU"
    assert ex.resolved_inputs["data"] == {"uri": "hw://default/development/raw@1", "via": "trigger"}
    assert ex.resolved_inputs["ref"]["uri"] == "hw://default/development/ref@1"
    assert ex.inputs["day"] == datetime(2026, 11, 1, tzinfo=UTC)
    assert ex.trigger["events"][0]["id"] == event_id
    sources = ex.trigger["input_sources"]  # where each input came from, for the UI
    assert [sources[k] for k in ("data", "region", "day")] == ["trigger"] * 3
    lineage = headwater.lineage("hw://default/development/raw@1", direction="downstream")
    assert ex.id in {n.id for n in lineage.nodes}


def test_partition_mismatch_is_recorded_not_fired(registered):
    headwater.run(r.upstream, region="US", day=datetime(2026, 11, 2))
    decide(registered)
    [d] = decisions(artifact_event("hw://default/development/raw@1"), "on_raw_eu")
    assert d.outcome == "not_fired"
    assert d.reason == "partition mismatch: region='US', trigger wants 'EU'"
    assert queued(registered, "on_raw_eu") == []


def test_inactive_launch_plan_is_recorded(registered):
    headwater.deactivate("on_table")
    event = headwater.emit_event("data.updated", {"table_name": "t", "env": "prod"})
    decide(registered)
    [d] = decisions(event, "on_table")
    assert d.outcome == "not_fired" and "inactive" in d.reason


def test_event_parameters_filter_and_missing_fields(registered):
    ok = headwater.emit_event(
        "data.updated", {"table_name": "sales", "row_count": 7, "env": "prod"}
    )
    dev = headwater.emit_event("data.updated", {"table_name": "sales", "env": "dev"})
    missing = headwater.emit_event("data.updated", {"env": "prod"})
    decide(registered)
    [fired] = decisions(ok, "on_table")
    assert fired.outcome == "fired"
    ex = headwater.get_execution(fired.execution_id)
    assert ex.inputs == {"table": "sales", "rows": 7}
    [d] = decisions(dev, "on_table")
    assert d.reason == "filter failed: env='dev', trigger wants 'prod'"
    [d] = decisions(missing, "on_table")
    assert d.outcome == "not_fired"
    assert (
        d.reason == "missing field 'table_name' (for required input 'table') in the event payload"
    )


def test_same_name_payload_mapping_and_duplicate_ids(registered):
    first = headwater.emit_event("table.done", {"table": "x", "rows": 3}, id="load-1")
    second = headwater.emit_event("table.done", {"rows": 3, "table": "x"}, id="load-1")
    assert first == second == "load-1"
    decide(registered)
    [d] = decisions("load-1", "on_same_names")
    assert headwater.get_execution(d.execution_id).inputs == {"table": "x", "rows": 3}
    assert len(headwater.list_events(name="table.done")) == 1


def test_a_known_source_and_id_with_another_payload_is_a_conflict(registered):
    headwater.emit_event("table.done", {"table": "x"}, id="load-1", source="/loader")
    before = stored(registered)
    for name, payload in [("table.done", {"table": "y"}), ("other.name", {"table": "x"})]:
        with pytest.raises(ConflictError) as err:
            headwater.emit_event(name, payload, id="load-1", source="/loader")
        assert "'load-1' from source '/loader' was stored before with another" in str(err.value)
        assert "new id" in str(err.value)
    assert stored(registered) == before
    decide(registered)
    [d] = decisions("load-1", "on_same_names")
    assert headwater.get_execution(d.execution_id).inputs == {"table": "x"}


def test_the_same_id_from_two_sources_is_two_events_that_each_fire_once(registered):
    a = headwater.emit_event("table.done", {"table": "a"}, id="load-7", source="/site/a")
    b = headwater.emit_event("table.done", {"table": "b"}, id="load-7", source="/site/b")
    assert a == b == "load-7"
    # A duplicate delivery of a pair before and after the reactor decided is no new event.
    headwater.emit_event("table.done", {"table": "a"}, id="load-7", source="/site/a")
    assert decide(registered) == 2
    headwater.emit_event("table.done", {"table": "b"}, id="load-7", source="/site/b")
    assert decide(registered) == 0
    runs = headwater.list_executions(launch_plan="on_same_names")
    assert sorted(e.inputs["table"] for e in runs) == ["a", "b"]
    with pytest.raises(ConflictError, match="several sources \\('/site/b', '/site/a'\\)"):
        headwater.get_event("load-7")
    for source, table in (("/site/a", "a"), ("/site/b", "b")):
        event = headwater.get_event("load-7", source=source)
        assert event.source == source and event.payload == {"table": table}
        [d] = [x for x in event.decisions if x.launch_plan == "on_same_names"]
        assert d.outcome == "fired"
        assert headwater.get_execution(d.execution_id).trigger["events"][0]["source"] == source
    with pytest.raises(headwater.NotFoundError, match="from source '/site/c'"):
        headwater.get_event("load-7", source="/site/c")
    # Delivered again by a replay, each still fired once.
    replayed = Reactor(registered).replay("on_same_names", since=0)
    assert [d.outcome for d in replayed] == ["not_fired", "not_fired"]
    assert len(headwater.list_executions(launch_plan="on_same_names")) == 2


def test_all_of_groups_with_the_same_ids_from_other_sources_fire_separately(registered):
    for source in ("/a", "/b"):
        headwater.emit_event("left.ready", {"region": "EU"}, id="l-1", source=source)
        headwater.emit_event("right.ready", {"region": "EU"}, id="r-1", source=source)
    decide(registered)
    runs = headwater.list_executions(launch_plan="both")
    assert len(runs) == 2
    assert sorted({e["source"] for e in x.trigger["events"]}.pop() for x in runs) == ["/a", "/b"]


def test_replaying_an_event_never_fires_twice(registered):
    event = headwater.emit_event("table.done", {"table": "x"})
    decide(registered)
    with registered.db.transaction() as tx:
        seq = tx.scalar("SELECT seq FROM events WHERE id = :id", {"id": event})
        tx.execute("INSERT INTO reactor_inbox (seq) VALUES (:s)", {"s": seq})
    decide(registered)
    outcomes = [d.outcome for d in decisions(event, "on_same_names")]
    assert outcomes == ["fired", "not_fired"]
    assert "already fired" in decisions(event, "on_same_names")[1].reason
    assert len(headwater.list_executions(launch_plan="on_same_names")) == 1


def test_on_finish_fires_on_upstream_completion(registered):
    ex = headwater.run(r.upstream, region="US", day=datetime(2026, 11, 2))
    decide(registered)
    [after] = headwater.list_executions(launch_plan="after_upstream")
    assert after.trigger["runs"] == [ex.id]


def test_all_of_waits_for_every_part_with_the_same_key(registered):
    left_eu = headwater.emit_event("left.ready", {"region": "EU"})
    right_us = headwater.emit_event("right.ready", {"region": "US"})
    decide(registered)
    assert [d.outcome for d in decisions(left_eu, "both")] == ["waiting"]
    assert [d.outcome for d in decisions(right_us, "both")] == ["waiting"]
    right_eu = headwater.emit_event("right.ready", {"region": "EU"})
    decide(registered)
    [d] = decisions(right_eu, "both")
    assert d.outcome == "fired"
    ex = headwater.get_execution(d.execution_id)
    assert {e["id"] for e in ex.trigger["events"]} == {left_eu, right_eu}
    no_key = headwater.emit_event("left.ready", {})
    decide(registered)
    assert "correlate" in decisions(no_key, "both")[0].reason


def test_any_of_fires_on_each_part(registered):
    a = headwater.emit_event("a.ready")
    b = headwater.emit_event("b.ready")
    decide(registered)
    assert decisions(a, "either")[0].outcome == "fired"
    assert decisions(b, "either")[0].outcome == "fired"


def test_concurrency_skip(registered):
    first = headwater.emit_event("busy.event")
    second = headwater.emit_event("busy.event")
    decide(registered)
    assert decisions(first, "one_at_a_time")[0].outcome == "fired"
    [d] = decisions(second, "one_at_a_time")
    assert d.outcome == "skipped" and "concurrency limit 1" in d.reason


def test_unknown_event_names_are_stored_and_fire_nothing(registered):
    event = headwater.emit_event("nobody.listens", {"x": 1})
    decide(registered)
    record = headwater.get_event(event)
    assert record.decided and record.decisions == []


def test_bad_events_are_refused_and_store_nothing(registered):
    before = len(headwater.list_events(limit=1000))
    for name, payload in [
        ("", {}),
        ("has space", {}),
        ("headwater.fake", {}),
        ("ok", [1, 2]),
        ("ok", {"x": float("nan")}),
        ("ok", {"x": object()}),
        ("ok", {"big": "x" * (1024 * 1024)}),
    ]:
        with pytest.raises(headwater.UserInputError):
            headwater.emit_event(name, payload)
    assert len(headwater.list_events(limit=1000)) == before


def test_binding_types_are_checked_at_registration(registered):
    headwater.run(r.upstream, region="EU", day=datetime(2026, 11, 2))
    bad = LaunchPlan(
        "bad_types",
        r.table_loaded,
        trigger=OnArtifact(trigger_on=r.Raw, inputs={"rows": r.Raw, "table": r.Raw.time_partition}),
    )
    from headwater.engine.register.launch_plans import register_launch_plan

    with pytest.raises(DefinitionError) as err:
        register_launch_plan(registered, bad)
    msg = str(err.value)
    assert "artifact 'raw' holds list[int], but input 'rows' is int" in msg
    assert "a time partition is a datetime, but input 'table' is str" not in msg


def test_replay_redelivers_past_events_without_double_firing(registered):
    headwater.deactivate("on_same_names")
    old = headwater.emit_event("table.done", {"table": "old"})
    decide(registered)
    assert decisions(old, "on_same_names")[0].outcome == "not_fired"
    headwater.activate("on_same_names")
    reactor = Reactor(registered)
    replayed = reactor.replay("on_same_names", since=0)
    assert [d.outcome for d in replayed] == ["fired"]
    again = reactor.replay("on_same_names", since=0)
    assert [d.outcome for d in again] == ["not_fired"]
    assert "already fired" in again[0].reason
    assert len(headwater.list_executions(launch_plan="on_same_names")) == 1
    with pytest.raises(headwater.NotFoundError, match="no active launch plan"):
        reactor.replay("nope", since=0)


def test_a_batch_mixing_fired_and_new_events_fires_each_event_once(registered):
    done = headwater.emit_event("table.done", {"table": "a"})
    decide(registered)
    fresh = [headwater.emit_event("table.done", {"table": t}) for t in ("b", "c")]
    # The replay reaches the two new events before the reactor does, in one batch with the
    # already fired one; the reactor then finds all three fired.
    replayed = Reactor(registered).replay("on_same_names", since=0)
    assert sorted(d.outcome for d in replayed) == ["fired", "fired", "not_fired"]
    assert decide(registered) == 2
    for event in fresh:
        outcomes = [d.outcome for d in decisions(event, "on_same_names")]
        assert sorted(outcomes) == ["fired", "not_fired"]
    assert [d.outcome for d in decisions(done, "on_same_names")] == ["fired", "not_fired"]
    runs = headwater.list_executions(launch_plan="on_same_names")
    assert sorted(e.inputs["table"] for e in runs) == ["a", "b", "c"]


def test_firings_from_before_schema_0006_stay_fired_after_the_upgrade(registered):
    from headwater.errors import StorageError
    from headwater.storage.migrate import HEAD, current_revision, downgrade, upgrade

    ids = ["old-1", "l-9", "r-9"]
    headwater.emit_event("table.done", {"table": "x"}, id="old-1")
    headwater.emit_event("left.ready", {"region": "EU"}, id="l-9")
    headwater.emit_event("right.ready", {"region": "EU"}, id="r-9")
    decide(registered)

    def keys() -> list[str]:
        with registered.db.read() as tx:
            return sorted(r["firing_key"] for r in tx.all("SELECT firing_key FROM firings"))

    seq = {i: headwater.get_event(i).seq for i in ids}
    by_seq = sorted([str(seq["old-1"]), f"{seq['l-9']}+{seq['r-9']}"])
    assert keys() == by_seq
    downgrade(registered.db, "0005")  # keys as 0005 wrote them: event ids
    assert keys() == ["l-9+r-9", "old-1"]
    upgrade(registered.db)
    assert keys() == by_seq
    for plan in ("on_same_names", "both"):
        replayed = Reactor(registered).replay(plan, since=0)
        assert {d.outcome for d in replayed if d.event_id != "l-9"} == {"not_fired"}, plan
    assert len(headwater.list_executions(launch_plan="on_same_names")) == 1
    assert len(headwater.list_executions(launch_plan="both")) == 1

    headwater.emit_event("table.done", {"table": "x"}, id="old-1", source="/elsewhere")
    # (to 0006 first: SQLite commits DDL at once, so undoing a later migration on the way to
    # the refusal would stay undone)
    downgrade(registered.db, "0006")
    with pytest.raises(StorageError, match="several sources sent events with the same id"):
        downgrade(registered.db, "0005")
    assert current_revision(registered.db) == "0006"
    upgrade(registered.db)
    assert current_revision(registered.db) == HEAD
    assert keys() == by_seq


def test_versions_follow_content_and_one_version_is_active(instance):
    from headwater.engine.register.launch_plans import register_launch_plan

    first = register_launch_plan(
        instance,
        LaunchPlan("versioned", r.table_loaded, trigger=OnEvent("v.one"), auto_activate=True),
    )
    assert first.active
    same = register_launch_plan(
        instance, LaunchPlan("versioned", r.table_loaded, trigger=OnEvent("v.one"))
    )
    assert same.version == first.version
    second = register_launch_plan(
        instance, LaunchPlan("versioned", r.table_loaded, trigger=OnEvent("v.two"))
    )
    assert second.version != first.version and not second.active  # new versions start inactive
    headwater.activate("versioned")  # the newest
    active = [p for p in headwater.list_launch_plans(active_only=True) if p.name == "versioned"]
    assert [p.version for p in active] == [second.version]
    headwater.activate("versioned", first.version)
    active = [p for p in headwater.list_launch_plans(active_only=True) if p.name == "versioned"]
    assert [p.version for p in active] == [first.version]
    old = headwater.emit_event("v.one", {"table": "t"})
    new = headwater.emit_event("v.two", {"table": "t"})
    decide(instance)
    assert decisions(old, "versioned")[0].outcome == "fired"
    assert decisions(new, "versioned") == []  # only the active version listens


def test_tuple_parameter_mapping(instance):
    from headwater.engine.register.launch_plans import register_launch_plan

    register_launch_plan(
        instance,
        LaunchPlan(
            "tuples",
            r.table_loaded,
            trigger=OnEvent("t.ev", parameters=["table", ("rows", "n")]),
            auto_activate=True,
        ),
    )
    event = headwater.emit_event("t.ev", {"table": "x", "n": "12"})
    decide(instance)
    [d] = decisions(event, "tuples")
    assert headwater.get_execution(d.execution_id).inputs == {"table": "x", "rows": 12}
    bad = headwater.emit_event("t.ev", {"table": "x", "n": "twelve"})
    decide(instance)
    assert decisions(bad, "tuples")[0].reason == (
        "payload field 'n' = 'twelve' for input 'rows' cannot be converted to int"
    )


def test_all_of_window_expires_old_parts(instance):
    from headwater.engine.react import events as events_api
    from headwater.engine.register.launch_plans import register_launch_plan

    register_launch_plan(
        instance,
        LaunchPlan(
            "windowed",
            r.table_loaded,
            default_inputs={"table": "w"},
            trigger=AllOf(OnEvent("w.left"), OnEvent("w.right"), within=timedelta(minutes=5)),
            auto_activate=True,
        ),
    )
    events_api.emit(instance, "w.left", {}, time_=1_000_000.0)
    late = events_api.emit(instance, "w.right", {}, time_=1_000_000.0 + 600)
    decide(instance)
    assert decisions(late, "windowed")[0].outcome == "waiting"
    soon = events_api.emit(instance, "w.left", {}, time_=1_000_000.0 + 700)
    decide(instance)
    assert decisions(soon, "windowed")[0].outcome == "fired"


def test_on_finish_status_mismatch_is_recorded(instance):
    from headwater.engine.register.launch_plans import register_launch_plan

    register_launch_plan(
        instance,
        LaunchPlan(
            "on_fail",
            r.table_loaded,
            default_inputs={"table": "alert"},
            trigger=OnFinish(r.upstream, status="failed"),
            auto_activate=True,
        ),
    )
    headwater.run(r.upstream, region="EU", day=datetime(2026, 11, 2))
    decide(instance)
    done = headwater.list_events(name="headwater.execution.succeeded")[0]
    [d] = decisions(done.id, "on_fail")
    assert d.reason == "status mismatch: the run succeeded, trigger wants failed"
