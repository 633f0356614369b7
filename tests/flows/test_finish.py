"""@trigger_on_finish chains, fan-out/fan-in, projects, and interplay with style A."""

from __future__ import annotations

import headwater
from headwater import LaunchPlan, OnFinish, workflow
from headwater.engine.register.launch_plans import register_launch_plan
from headwater.flows import Flow, Run, deploy, run

from . import chain_flows as cf
from . import project_flows as pa
from . import project_flows_b as pb
from .helpers import of, one, react_and_run


def test_four_stage_chain(instance):
    for flow in (cf.Ingest, cf.Process, cf.Train, cf.Deploy):
        deploy(flow)
    first = run(cf.Ingest, size=4)
    assert first.status == "succeeded", first.error
    runs = react_and_run(instance)
    process = Run(f"Process/{one(runs, 'Process').id}")
    assert process.data.upstream == f"Ingest/{first.id}"
    assert process.data.doubled == [0, 2, 4, 6]
    assert Run(f"Train/{one(runs, 'Train').id}").data.model == 12
    final = Flow("Deploy").latest_successful_run
    assert final.data.deployed == 12 and final.data.from_flow == "Train"
    assert final.trigger.run.parent.flow_name == "Train"
    assert final.trigger["Train"].data.model == 12
    # lineage walks from the deployed run back through every stage that triggered it
    chain = headwater.lineage(final.id, direction="upstream", depth=5)
    executions = {n.attrs["workflow"] for n in chain.nodes if n.kind == "execution"}
    assert executions == {"Ingest", "Process", "Train", "Deploy"}
    assert sum(1 for e in chain.edges if e.kind == "triggered") == 3


def test_fan_out_and_fan_in(instance):
    for flow in (cf.Left, cf.Right, cf.Merge):
        deploy(flow)
    run(cf.Source)
    runs = react_and_run(instance)
    assert len(of(runs, "Left")) == len(of(runs, "Right")) == 1
    merged = Run(f"Merge/{one(runs, 'Merge').id}")
    assert merged.data.total == 23
    assert merged.data.upstreams == ["Left", "Right"]


def test_projects_do_not_cross_unless_qualified(instance):
    for flow in (pa.Up, pa.Down, pa.Cross, pb.Up, pb.Down):
        deploy(flow, branch="main")
    up_a = run(pa.Up, branch="main")
    assert (up_a.project, up_a.domain) == ("alpha", "test.main")
    runs = react_and_run(instance)
    downs = of(runs, "Down")
    assert [d.project for d in downs] == ["alpha"]
    assert Run(f"Down/{downs[0].id}").data.got == "alpha"
    assert Run(f"Cross/{one(runs, 'Cross').id}").data.got == "alpha"
    run(pb.Up, branch="main")
    runs = react_and_run(instance)
    assert [d.project for d in of(runs, "Down")] == ["beta"] and of(runs, "Cross") == []
    assert Flow("Up", project="alpha", branch="test.main").latest_run.data.where == "alpha"


@workflow
def after_ingest(n: int = 0) -> int:
    from headwater import current

    return len(current.trigger.run.data["rows"])


def test_style_a_reacts_to_a_flow_and_lineage(instance):
    lp = LaunchPlan("after_ingest_lp", after_ingest, trigger=OnFinish("Ingest"))
    register_launch_plan(instance, lp, activate=True)
    first = run(cf.Ingest, size=5)
    ex = one(react_and_run(instance), after_ingest.name)
    assert ex.output == 5
    assert ex.trigger["runs"] == [first.id]
    # the run's self values are the execution's outputs, and its steps are its nodes
    got = headwater.get_execution(first.id)
    assert got.outputs == {"size": 5, "rows": [0, 1, 2, 3, 4]}
    assert [n.name for n in got.nodes] == ["Ingest.start", "Ingest.end"]
