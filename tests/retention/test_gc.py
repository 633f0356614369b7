"""`headwater gc`: policies, lineage protection, tombstones, events, bad input."""

from __future__ import annotations

import pytest

import headwater
from headwater.engine.react.reactor import Reactor
from headwater.engine.retention.plan import planning
from headwater.engine.retention.policy import PolicyError, check_triggers, parse
from headwater.engine.retention.run import GcLock, collect
from headwater.errors import Busy, NotFoundError

from . import flows as f
from .helpers import blob_keys, consistent, referenced


def _make(n: int, region: str = "eu") -> str:
    ex = headwater.run(f.make_wf, n=n, region=region)
    assert ex.status == "succeeded"
    return headwater.get_artifact(f.Raw.query(region=region)).uri


def _decide_all(instance) -> None:
    reactor = Reactor(instance)
    while reactor.run_once():
        pass


def _raw(region: str, version: str) -> str:
    base = headwater.get_artifact(f.Raw.query(region=region)).uri.rsplit("@", 1)[0]
    return f"{base}@{version}"


def test_keep_last_purges_older_versions_and_leaves_tombstones(instance):
    eu = [_make(n) for n in range(4)]  # gc_raw@1..4, region eu
    us = _make(9, "us")  # gc_raw@5, region us: the latest of its partition
    # the blobs go once no version, execution or event names them
    retention = parse(
        {
            "artifacts": {"gc_raw": {"keep_last": 2}},
            "executions_days": 0,
            "events_days": 0,
            "blobs_days": 0,
        }
    )
    _decide_all(instance)
    with planning(instance, retention) as plan:
        assert plan.versions == 2
        assert {p["uri"] for p in plan.purged} == set(eu[:2])
        (raw,) = [a for a in plan.artifacts if a.uri.endswith("/gc_raw")]
        assert raw.kept["latest of its partition"] == 2
        assert raw.kept["one of the last N"] == 1
        assert raw.bytes_freed > 0
    before = blob_keys(instance)
    out = collect(instance, retention)
    assert out.versions == 2 and out.blobs == 2
    assert len(blob_keys(instance)) == len(before) - 2
    with pytest.raises(
        NotFoundError, match=r"was purged on .* by policy retention\.artifacts\.gc_raw"
    ):
        headwater.get_artifact(eu[0])
    assert headwater.get_artifact(eu[3]).value() == b"raw eu 3 " * 50
    assert headwater.get_artifact(f.Raw.query(region="eu")).uri == eu[3]
    assert headwater.get_artifact(us).value() == b"raw us 9 " * 50
    assert eu[0] not in {v.uri for v in headwater.search_artifacts(name="gc_raw")}
    consistent(instance)
    assert collect(instance, retention).versions == 0  # a rerun finds nothing more


def test_versions_a_kept_execution_consumed_are_kept(instance):
    first = _make(1)
    assert headwater.run(f.derive_wf).status == "succeeded"  # consumed gc_raw@1
    for n in (2, 3):
        _make(n)
    retention = parse({"artifacts": {"gc_raw": {"keep_last": 1}}})
    with planning(instance, retention) as plan:
        assert [p["uri"] for p in plan.purged] == [_raw("eu", "2")]
        (kept,) = plan.kept_by_lineage
        assert kept["uri"] == first and "consumed by execution" in kept["why"]


def test_ancestors_of_kept_versions_are_kept_when_executions_age(instance):
    first = _make(1)
    assert headwater.run(f.derive_wf).status == "succeeded"
    derived = headwater.get_artifact(f.Derived.query()).uri
    for n in (2, 3):
        _make(n)
    # every execution is old enough to go; gc_derived has no policy, so derived@1 stays,
    # and so do the execution that produced it and what that consumed
    retention = parse({"artifacts": {"gc_raw": {"keep_last": 1}}, "executions_days": 0})
    with planning(instance, retention) as plan:
        assert [p["uri"] for p in plan.purged] == [_raw("eu", "2")]
        (kept,) = plan.kept_by_lineage
        assert kept["uri"] == first and derived in kept["why"]
        assert plan.executions == 1  # the run that made gc_raw@2 only
    out = collect(instance, retention)
    assert out.versions == 1 and out.executions == 1
    graph = headwater.lineage(derived, direction="upstream", depth=3)
    assert first in {n.id for n in graph.nodes}


def test_lineage_shows_purged_versions(instance):
    _make(1)
    _make(2)
    purged = _raw("eu", "1")
    collect(instance, parse({"artifacts": {"gc_raw": {"keep_last": 1}}}))
    ids = [x.id for x in headwater.list_executions(limit=10) if x.workflow.endswith("make_wf")]
    assert len(ids) == 2
    nodes = {}
    for ex_id in ids:
        for n in headwater.lineage(ex_id, direction="downstream", depth=1).nodes:
            nodes[n.id] = n
    assert nodes[purged].attrs["purged"] is True
    assert "purged" in nodes[purged].label
    assert "gc_raw" in nodes[purged].attrs["purged_by"]


def test_api_answers_404_saying_when_and_why(instance, api):
    first = _make(1)
    _make(2)
    collect(instance, parse({"artifacts": {"gc_raw": {"keep_last": 1}}}))
    r = api.get("/api/v1/artifacts/get", params={"uri": first})
    assert r.status_code == 404
    assert "was purged on" in r.json()["error"]["message"]


def test_old_events_go_and_new_ones_still_count(instance, api):
    for i in range(5):
        headwater.emit_event("gc.tick", {"i": i})
    _decide_all(instance)
    retention = parse({"events_days": 0})
    with planning(instance, retention) as plan:
        assert plan.events == 4  # the newest stays: ids count on from it
    out = collect(instance, retention)
    assert out.events == 4
    headwater.emit_event("gc.tick", {"i": 99})
    _decide_all(instance)  # the reactor still decides new events
    assert api.get("/metrics").status_code == 200
    seqs = [e.seq for e in headwater.list_events(name="gc.tick", limit=10)]
    assert len(seqs) == 2 and len(set(seqs)) == 2


def test_refused_policies_name_the_policy():
    with pytest.raises(
        PolicyError, match=r"retention\.artifacts\.x: keep_last=0 would delete the latest"
    ):
        parse({"artifacts": {"x": {"keep_last": 0}}})
    with pytest.raises(PolicyError, match=r"unknown setting\(s\) \['keep'\]"):
        parse({"keep": 3})
    with pytest.raises(PolicyError, match="keep_days must be >= 0"):
        parse('{"keep_days": -1}')
    with pytest.raises(PolicyError, match="active launch plan 'p/d/joined' still needs"):
        check_triggers(parse({"events_days": 1}), [("p/d/joined", 3 * 86400.0)])
    check_triggers(parse({"events_days": 3}), [("p/d/joined", 3 * 86400.0)])


def test_a_second_gc_says_who_holds_the_lock(instance):
    held = GcLock(instance)
    held.acquire(wait=0)
    try:
        with pytest.raises(Busy, match=r"another gc holds the gc lock .*:\d+ \(since"):
            GcLock(instance).acquire(wait=0.3)
    finally:
        held.release()
    again = GcLock(instance)
    again.acquire(wait=0)
    again.release()


def test_sweep_leaves_only_referenced_blobs(instance):
    for n in range(3):
        _make(n)
    _decide_all(instance)
    retention = {"artifacts": {"gc_raw": {"keep_last": 1}}, "executions_days": 0, "blobs_days": 0}
    retention["events_days"] = 0
    collect(instance, parse(retention))
    assert blob_keys(instance) <= referenced(instance)
    consistent(instance)


def test_gc_interval_setting():
    from headwater.engine.retention.schedule import interval
    from headwater.errors import UserInputError

    assert interval(None) is None and interval("") is None
    assert interval("3600") == 3600.0
    for bad in ("0", "-5", "hourly"):
        with pytest.raises(UserInputError, match="HEADWATER_GC_INTERVAL must be a number"):
            interval(bad)
