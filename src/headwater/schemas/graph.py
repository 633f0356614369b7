"""The meta-workflow graph: workflows, the artifacts and events they produce or read, the
launch plans that listen to them and the workflows those start (from registrations and
triggers, not runs), with live counts and warnings about names nothing declares."""

from __future__ import annotations

from pydantic import Field

from headwater.schemas._base import Wire


class GraphRun(Wire):
    id: str
    status: str
    created_at: str | None


class GraphCounts(Wire):
    last_run: GraphRun | None = Field(description="the newest execution; null: never ran")
    recent: int = Field(description="how many of the newest executions were looked at")
    failures: int = Field(description="failed executions among those")


class GraphNode(Wire):
    id: str = Field(description="'<kind>:<project>/<domain>/<name>'")
    kind: str = Field(description="workflow, artifact, event or launch_plan")
    name: str
    project: str
    domain: str
    label: str = Field(description="a short name to draw")
    known: bool = Field(
        description="declared or seen: a registered workflow, an artifact some registered "
        "task or workflow outputs (or that has versions), an event received once"
    )
    active: bool | None = Field(None, description="launch plans: whether a version is active")
    trigger: str | None = Field(None, description="launch plans: trigger/schedule in words")
    workflow: str | None = Field(None, description="launch plans: the workflow they start")
    counts: GraphCounts | None = Field(None, description="workflows and launch plans")


class GraphEdge(Wire):
    source: str
    target: str
    kind: str = Field(
        description="produces (workflow -> artifact), reads (workflow -> artifact, a query "
        "default), triggers (artifact/event/workflow -> launch plan), starts (launch plan "
        "-> workflow)"
    )
    label: str = ""


class GraphWarning(Wire):
    launch_plan: str
    project: str
    domain: str
    kind: str = Field(description="artifact, event or workflow: what the trigger listens to")
    name: str
    message: str


class Graph(Wire):
    project: str = Field(description="the project shown, or '*' for every project")
    domain: str | None = Field(description="the domain shown; null: every domain")
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    warnings: list[GraphWarning]
