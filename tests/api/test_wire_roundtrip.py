"""One wire schema: what the engine records, read embedded and read through a real server
in client mode, is the same object, compared attribute by attribute (every public one)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

import headwater
from headwater.engine.publish.lineage import LineageEdge, LineageGraph, LineageNode
from headwater.engine.register.launch_plans import LaunchPlanInfo
from headwater.handles import ArtifactVersion, DecisionRecord, EventRecord, Execution, NodeExecution
from tests.api import test_client_mode as client_mode
from tests.api.test_client_mode import Modes

pytestmark = pytest.mark.slow
server = client_mode.server  # a `headwater up` per backend, as in test_client_mode
modes = client_mode.modes

HANDLES = (
    Execution,
    NodeExecution,
    ArtifactVersion,
    EventRecord,
    DecisionRecord,
    LaunchPlanInfo,
    LineageGraph,
    LineageNode,
    LineageEdge,
)
# Not on the wire: an artifact version's database row id (0 in client mode); a launch plan's
# spec beyond its triggers, schedule and concurrency.
NOT_ON_THE_WIRE = {ArtifactVersion: {"id"}, LaunchPlanInfo: {"spec"}}


def _public(obj: Any) -> dict[str, Any]:
    """Every public, non-method attribute of ``obj`` (an AttributeError is a value too)."""
    skip = {n for cls, names in NOT_ON_THE_WIRE.items() if isinstance(obj, cls) for n in names}
    found = {}
    for name in dir(obj):
        if name.startswith("_") or name in skip:
            continue
        try:
            value = getattr(obj, name)
        except AttributeError as exc:
            value = ("AttributeError", str(exc))
        if not callable(value) or isinstance(value, type):
            found[name] = value
    return found


def assert_same(local: Any, remote: Any, where: str, depth: int = 2) -> None:
    """``local`` and ``remote`` agree on every public attribute, handles compared the same
    way down to ``depth`` levels (a version's producer is an execution that produced it)."""
    if isinstance(local, list):
        assert isinstance(remote, list) and len(local) == len(remote), where
        for i, (a, b) in enumerate(zip(local, remote, strict=True)):
            assert_same(a, b, f"{where}[{i}]", depth)
        return
    if not isinstance(local, HANDLES):
        assert local == remote, where
        if isinstance(local, datetime):
            assert local.tzinfo == remote.tzinfo, where
        return
    assert isinstance(remote, type(local)) or isinstance(local, type(remote)), where
    if depth < 0:
        return
    mine, theirs = _public(local), _public(remote)
    assert mine.keys() == theirs.keys(), where
    assert mine, where
    for name in mine:
        assert_same(mine[name], theirs[name], f"{where}.{name}", depth - 1)
    if isinstance(local, LaunchPlanInfo):
        for key in ("triggers", "schedule", "concurrency"):
            assert local.spec.get(key) == remote.spec.get(key), f"{where}.spec[{key}]"
    if isinstance(local, LineageNode):
        assert local.attrs == remote.attrs, f"{where}.attrs"


def test_embedded_and_client_mode_objects_are_the_same(modes: Modes) -> None:
    from tests.api import wire_flows

    modes.remote()  # registered over HTTP: the server's workers can import it
    headwater.register("tests.api.sensors", activate=True)
    event_id = headwater.emit_event("sensor.reading", {"reading": 5}, id="wire-1")
    headwater.wait_for(lambda: headwater.get_event(event_id).decisions, timeout=30)

    modes.embedded()
    raw = headwater.create_artifact(
        wire_flows.Raw, {"rows": 3}, cards=[headwater.DataCard("three rows")], region="EU"
    )
    ex = headwater.run(wire_flows.pipeline)
    assert ex.status.value == "succeeded"
    model = ex.produced[0]
    fired = headwater.get_event(event_id).decisions[0].execution_id
    assert fired is not None
    headwater.wait_for(headwater.get_execution(fired), timeout=60)

    def reads() -> dict[str, Any]:
        return {
            "execution": headwater.get_execution(ex.id),
            "fired": headwater.get_execution(fired),
            "executions": headwater.list_executions(limit=10_000),
            "version": headwater.get_artifact(model.uri),
            "raw": headwater.get_artifact(raw.uri),
            "found": headwater.search_artifacts("wire_*"),
            "event": headwater.get_event(event_id),
            "events": headwater.list_events(),
            "launch_plans": headwater.list_launch_plans(),
            "lineage": headwater.lineage(model.uri, direction="both", depth=3),
        }

    local, over_http = modes.both(reads)
    for key, value in local.items():
        assert_same(value, over_http[key], key)
    assert local["version"].cards and local["execution"].nodes
    assert {n.kind for n in local["lineage"].nodes} == {"artifact", "execution"}
    assert local["event"].decisions[0].fired
    assert local["execution"].produced[0].value() == {"w": 3}
