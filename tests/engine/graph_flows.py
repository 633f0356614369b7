"""A small organization for the meta-workflow graph's tests: ingest produces ``graph_raw``,
a trigger on it starts cleanse (-> ``graph_clean``, a task of another module), which
triggers report (-> ``graph_report``) together with an event (AnyOf); a failed ingest starts
notify (OnFinish); an AllOf joins two artifacts; two launch plans listen to misspelt names."""

from __future__ import annotations

from typing import Annotated

from headwater import (
    AllOf,
    AnyOf,
    Artifact,
    CronSchedule,
    LaunchPlan,
    OnArtifact,
    OnEvent,
    OnFinish,
    task,
    workflow,
)
from tests.engine import graph_helpers as helpers
from tests.engine.graph_helpers import Clean, clean_task

Raw = Artifact(name="graph_raw")


@task
def fetch(n: int) -> Annotated[dict, Raw]:
    if n < 0:
        raise ValueError("no data")
    return {"n": n}


@workflow
def ingest(n: int = 1) -> dict:
    return fetch(n=n)


@workflow
def cleanse(raw: dict = Raw.query()) -> dict:
    return clean_task(raw=raw)


@workflow
def report(clean: dict = Clean.query()) -> float:
    return helpers.summarize(clean=clean)


@task
def shout(text: str) -> str:
    return text.upper()


@workflow
def notify(text: str = "ingest failed") -> str:
    return shout(text=text)


@workflow
def nightly() -> str:
    return shout(text="tick")


LaunchPlan.create("on_raw", cleanse, trigger=OnArtifact(Raw, inputs={"raw": Raw}))
LaunchPlan.create("on_clean", report, trigger=AnyOf(OnArtifact(Clean), OnEvent("graph.kick")))
LaunchPlan.create("after_ingest", notify, trigger=OnFinish(ingest, status="failed"))
LaunchPlan.create("both_ready", notify, trigger=AllOf(OnArtifact(Raw), OnArtifact(Clean)))
LaunchPlan.create("every_night", nightly, schedule=CronSchedule("0 3 * * *"))
# Misspelt: nothing declares graph_claen, and no graph.kikc event ever arrived.
LaunchPlan.create("typo_artifact", report, trigger=OnArtifact(Artifact(name="graph_claen")))
LaunchPlan.create("typo_event", notify, trigger=OnEvent("graph.kikc"))
