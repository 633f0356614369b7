"""The meta-workflow graph from real registrations: chains through artifacts (tasks of
another module included), events, OnFinish and AllOf/AnyOf parts; live counts from real
runs (triggered ones included); warnings for misspelt trigger names; project/domain scope;
the wire form and the text formats."""

from __future__ import annotations

import re

import pytest

import headwater
from headwater import client
from headwater.daemon.worker import Worker
from headwater.engine.execute import queue
from headwater.engine.react.reactor import Reactor
from headwater.engine.register.graph import MetaGraph, node_id
from headwater.engine.register.graph_calls import calls_in
from headwater.instance import Instance

from . import graph_flows as f

MOD = "tests.engine.graph_flows"
P, D = "default", "development"


def wf(name: str, project: str = P) -> str:
    return node_id("workflow", project, D, f"{MOD}.{name}")


def art(name: str) -> str:
    return node_id("artifact", P, D, name)


def lp(name: str) -> str:
    return node_id("launch_plan", P, D, name)


def ev(name: str) -> str:
    return node_id("event", P, D, name)


@pytest.fixture
def registered(instance: Instance) -> Instance:
    headwater.register("tests.engine.graph_helpers")
    headwater.register(MOD, activate=True)
    return instance


def react_and_run(inst: Instance) -> None:
    """Decide every pending event, then run every queued execution here, until quiet."""
    reactor, worker = Reactor(inst), Worker(inst)
    while True:
        while reactor.run_once():
            pass
        ran = False
        while (row := queue.claim(inst, worker.name, 30)) is not None:
            worker.run_one(row)
            ran = True
        if not ran:
            return


def edges(g: MetaGraph) -> set[tuple[str, str, str, str]]:
    return {(e.source, e.kind, e.target, e.label) for e in g.edges}


def test_chains_through_artifacts_events_finishes_and_composites(registered: Instance) -> None:
    g = client.graph()
    found = edges(g)
    expected = {
        # ingest's task fetch outputs graph_raw; a trigger on it starts cleanse
        (wf("ingest"), "produces", art("graph_raw"), ""),
        (art("graph_raw"), "triggers", lp("on_raw"), ""),
        (lp("on_raw"), "starts", wf("cleanse"), ""),
        (wf("cleanse"), "reads", art("graph_raw"), "raw"),
        # cleanse calls a task imported from another module (from x import f)
        (wf("cleanse"), "produces", art("graph_clean"), ""),
        (art("graph_clean"), "triggers", lp("on_clean"), ""),
        (ev("graph.kick"), "triggers", lp("on_clean"), ""),
        (lp("on_clean"), "starts", wf("report"), ""),
        # report calls helpers.summarize (import x as y; y.f(...))
        (wf("report"), "produces", art("graph_report"), ""),
        (wf("report"), "reads", art("graph_clean"), "clean"),
        # a failed ingest starts notify
        (wf("ingest"), "triggers", lp("after_ingest"), "on finish (failed)"),
        (lp("after_ingest"), "starts", wf("notify"), ""),
        (art("graph_raw"), "triggers", lp("both_ready"), "all of, part 1/2"),
        (art("graph_clean"), "triggers", lp("both_ready"), "all of, part 2/2"),
        (lp("every_night"), "starts", wf("nightly"), ""),
    }
    assert expected <= found, sorted(expected - found)
    # nothing produces what a workflow does not call: notify's task outputs no artifact
    assert not [e for e in found if e[0] == wf("notify") and e[1] == "produces"]
    # a schedule has no source node: the plan says when it runs
    nightly = g.node(lp("every_night"))
    assert nightly is not None and nightly.active and nightly.trigger == "0 3 * * *"
    assert not [e for e in found if e[2] == lp("every_night") and e[1] == "triggers"]
    # default launch plans (no trigger, no schedule) are not drawn
    assert g.node(lp(f"{MOD}.ingest")) is None
    kinds = {n.id: n.kind for n in g.nodes}
    assert kinds[wf("ingest")] == "workflow" and kinds[ev("graph.kick")] == "event"
    assert all(n.known for n in g.nodes if n.kind == "workflow")


def test_a_misspelt_trigger_name_is_a_warning_naming_the_plan(registered: Instance) -> None:
    g = client.graph()
    warned = {(w.launch_plan, w.kind, w.name) for w in g.warnings}
    assert warned == {
        ("typo_artifact", "artifact", "graph_claen"),
        ("typo_event", "event", "graph.kikc"),
        ("on_clean", "event", "graph.kick"),  # a real name, but no such event arrived yet
    }
    message = next(w.message for w in g.warnings if w.name == "graph_claen")
    assert "'typo_artifact'" in message and "'graph_claen'" in message
    typo = g.node(art("graph_claen"))
    assert typo is not None and not typo.known
    known = g.node(art("graph_clean"))
    assert known is not None and known.known

    headwater.emit_event("graph.kick", {})
    again = client.graph()
    assert {w.name for w in again.warnings} == {"graph_claen", "graph.kikc"}
    kick = again.node(ev("graph.kick"))
    assert kick is not None and kick.known


def test_live_counts_come_from_real_runs(registered: Instance) -> None:
    before = client.graph()
    ingest = before.node(wf("ingest"))
    assert ingest is not None and ingest.counts is not None
    assert ingest.counts.last_run is None and ingest.counts.recent == 0

    failed = headwater.run(f.ingest, n=-1)
    assert failed.status == "failed"
    react_and_run(registered)  # after_ingest fires: notify runs
    ok = headwater.run(f.ingest, n=2)
    assert ok.status == "succeeded"
    react_and_run(registered)  # on_raw fires cleanse, whose graph_clean fires on_clean

    g = client.graph()
    counts = {n.id: n.counts for n in g.nodes if n.counts is not None}
    c = counts[wf("ingest")]
    assert c.last_run is not None and c.last_run.id == ok.id
    assert (c.last_run.status, c.recent, c.failures) == ("succeeded", 2, 1)
    plan = counts[lp("after_ingest")]
    assert plan.last_run is not None and plan.last_run.status == "succeeded"
    assert headwater.get_execution(plan.last_run.id).launch_plan == "after_ingest"
    assert (plan.recent, plan.failures) == (1, 0)
    for name in ("on_raw", "on_clean"):
        assert counts[lp(name)].recent == 1, name
    assert counts[lp("typo_event")].last_run is None


def test_scope_by_project_and_domain(registered: Instance) -> None:
    headwater.register("tests.engine.graph_helpers", project="other")
    headwater.register(MOD, project="other", activate=True)
    mine = client.graph()
    assert mine.project == P and {n.project for n in mine.nodes} == {P}
    other = client.graph(project="other")
    assert {n.project for n in other.nodes} == {"other"}
    raw = node_id("artifact", "other", D, "graph_raw")
    assert (wf("ingest", "other"), "produces", raw, "") in edges(other)
    assert {w.launch_plan for w in other.warnings} >= {"typo_artifact", "typo_event"}
    both = client.graph(project="*")
    assert {n.project for n in both.nodes} == {P, "other"}
    assert len(both.nodes) == len(mine.nodes) + len(other.nodes)
    assert client.graph(domain="production").nodes == []
    assert client.graph(domain=D).nodes == mine.nodes


def test_wire_form_round_trips_and_text_formats_name_the_edges(registered: Instance) -> None:
    headwater.run(f.ingest, n=3)
    g = client.graph()
    model = g.to_model()
    assert MetaGraph.from_model(model).to_model() == model
    body = g.to_dict()
    assert {"nodes", "edges", "warnings", "project", "domain"} <= set(body)

    dot = g.to_dot()
    assert dot.startswith("digraph headwater {") and dot.rstrip().endswith("}")
    assert f'"{wf("ingest")}" -> "{art("graph_raw")}" [label="produces"];' in dot
    assert f'"{art("graph_raw")}" -> "{lp("on_raw")}" [label="triggers"];' in dot
    assert re.search(r'label="ingest\\nlast run succeeded [^"]*, 0 of 1 failed"', dot)

    mermaid = g.to_mermaid()
    assert mermaid.splitlines()[0] == "flowchart LR"
    ids = {m.group(2): m.group(1) for m in re.finditer(r"(n\d+)\[\(\"([^\"<]+)", mermaid)}
    shapes = dict(re.findall(r"^  (n\d+)\[\"([^\"<]+)", mermaid, re.M))
    ingest = next(k for k, v in shapes.items() if v == "ingest")
    assert f'{ingest} -->|"produces"| {ids["graph_raw"]}' in mermaid
    assert "class " in mermaid and "undeclared" in mermaid  # graph_claen is drawn dashed

    text = str(g)
    assert f"workflow {MOD}.ingest -produces-> artifact graph_raw" in text
    assert "artifact graph_claen [not declared]" in text


def test_calls_resolve_through_imports() -> None:
    source = (
        "import pkg.tasks as t\n"
        "import other\n"
        "from .sib import g as gee\n"
        "from pkg.more import h\n"
        "def local(): ...\n"
        "def wf(x):\n"
        "    a = local()\n"
        "    b = t.one(a)\n"
        "    c = other.two(b)\n"
        "    d = gee(c)\n"
        "    return h(d, str(d))\n"
    )
    found = calls_in(source, "pkg.flows", "wf")
    assert found >= {
        ("pkg.flows", "local"),
        ("pkg.tasks", "one"),
        ("other", "two"),
        ("pkg.sib", "g"),
        ("pkg.more", "h"),
    }
    assert calls_in("def wf(:\n", "m", "wf") == frozenset()  # unparsable: no calls
    assert calls_in(source, "pkg.flows", "missing") == frozenset()
