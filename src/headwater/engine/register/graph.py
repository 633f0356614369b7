"""The meta-workflow graph: the organization's workflows, the artifacts and events they produce
or read, the launch plans listening to them and the workflows those start.

Built from registrations and triggers, not from runs, so a chain shows before it ever ran:

- a node per registered workflow (the newest version of each name), per artifact a workflow
  outputs (its own outputs and those of the tasks and workflows it calls, read from its code
  snapshot by ``graph_calls``) or reads (query defaults), per event name a trigger listens
  to, and per launch plan with a trigger or a schedule (its active version, else its newest);
- edges ``produces`` (workflow -> artifact), ``reads`` (workflow -> artifact), ``triggers``
  (artifact, event, or a finishing workflow -> launch plan; each part of an AnyOf/AllOf) and
  ``starts`` (launch plan -> workflow);
- live counts on workflows and launch plans: the last run and the failures among the newest
  ``recent`` runs (indexed reads, ``recent`` rows each);
- warnings for triggers that listen to an artifact, event or workflow name that nothing
  declares and that was never produced/received (what each kind says, ``Kind.undeclared``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from headwater.engine.kinds import Names, kind_of, summary
from headwater.engine.kinds.base import scope
from headwater.engine.register.graph_calls import calls_of
from headwater.storage import artifacts as artifact_rows
from headwater.storage import entities
from headwater.storage import events as event_rows
from headwater.storage import executions as execution_rows
from headwater.storage import launch_plans as plan_rows
from headwater.storage.entities import EntityRow
from headwater.storage.launch_plans import LaunchPlanRow

if TYPE_CHECKING:
    from headwater import schemas
    from headwater.instance import Instance
    from headwater.storage.db import Tx

RECENT = 20  # runs looked at per workflow / launch plan for the live counts
ALL = "*"
KINDS = ("workflow", "artifact", "event", "launch_plan")
# the spec kind of a trigger leaf -> the kind of node it listens to
SOURCE = {"artifact": "artifact", "card_added": "artifact", "event": "event", "finish": "workflow"}


def node_id(kind: str, project: str, domain: str, name: str) -> str:
    """``<kind>:<project>/<domain>/<name>``: a node's id."""
    return f"{kind}:{project}/{domain}/{name}"


@dataclass(frozen=True)
class GraphRun:
    """An execution, as a count shows it."""

    id: str
    status: str
    created_at: float | None


@dataclass(frozen=True)
class GraphCounts:
    """The newest run and the failures among the ``recent`` newest."""

    last_run: GraphRun | None
    recent: int
    failures: int


@dataclass
class GraphNode:
    """A workflow, artifact, event name or launch plan (see ``schemas.GraphNode``)."""

    id: str
    kind: str
    name: str
    project: str
    domain: str
    label: str
    known: bool = True
    active: bool | None = None
    trigger: str | None = None
    workflow: str | None = None
    counts: GraphCounts | None = None


@dataclass(frozen=True)
class GraphEdge:
    source: str
    target: str
    kind: str
    label: str = ""


@dataclass(frozen=True)
class GraphWarning:
    """A trigger of ``launch_plan`` listens to a ``kind`` named ``name`` nothing declares."""

    launch_plan: str
    project: str
    domain: str
    kind: str
    name: str
    message: str


@dataclass
class MetaGraph:
    """The graph of one project/domain (``project="*"``: every project; ``domain`` None:
    every domain). ``print()`` it for text; ``to_dot()``/``to_mermaid()`` to draw it."""

    project: str
    domain: str | None
    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[GraphEdge] = field(default_factory=list)
    warnings: list[GraphWarning] = field(default_factory=list)

    def node(self, node_id: str) -> GraphNode | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    def to_model(self) -> schemas.Graph:
        """The wire form (what ``GET /api/v1/graph`` returns and ``--format json`` prints)."""
        from headwater import schemas

        def counts(c: GraphCounts | None) -> schemas.GraphCounts | None:
            if c is None:
                return None
            run = c.last_run
            return schemas.GraphCounts(
                last_run=None
                if run is None
                else schemas.GraphRun(
                    id=run.id, status=run.status, created_at=_iso(run.created_at)
                ),
                recent=c.recent,
                failures=c.failures,
            )

        return schemas.Graph(
            project=self.project,
            domain=self.domain,
            nodes=[
                schemas.GraphNode(
                    id=n.id,
                    kind=n.kind,
                    name=n.name,
                    project=n.project,
                    domain=n.domain,
                    label=n.label,
                    known=n.known,
                    active=n.active,
                    trigger=n.trigger,
                    workflow=n.workflow,
                    counts=counts(n.counts),
                )
                for n in self.nodes
            ],
            edges=[schemas.GraphEdge(**vars(e)) for e in self.edges],
            warnings=[schemas.GraphWarning(**vars(w)) for w in self.warnings],
        )

    @classmethod
    def from_model(cls, model: schemas.Graph) -> MetaGraph:
        """The graph a wire model describes (client mode)."""

        def counts(c: schemas.GraphCounts | None) -> GraphCounts | None:
            if c is None:
                return None
            run = c.last_run
            return GraphCounts(
                None if run is None else GraphRun(run.id, run.status, _epoch(run.created_at)),
                c.recent,
                c.failures,
            )

        return cls(
            model.project,
            model.domain,
            [
                GraphNode(
                    **{**n.model_dump(exclude={"counts"}), "counts": counts(n.counts)},
                )
                for n in model.nodes
            ],
            [GraphEdge(**e.model_dump()) for e in model.edges],
            [GraphWarning(**w.model_dump()) for w in model.warnings],
        )

    def to_dict(self) -> dict[str, Any]:
        return self.to_model().model_dump(mode="json")

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_dot(self) -> str:
        from headwater.engine.register.graph_text import dot

        return dot(self)

    def to_mermaid(self) -> str:
        from headwater.engine.register.graph_text import mermaid

        return mermaid(self)

    def __str__(self) -> str:
        from headwater.engine.register.graph_text import text

        return text(self)


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def _epoch(text: str | None) -> float | None:
    return None if text is None else datetime.fromisoformat(text).timestamp()


class _Known(Names):
    """What the trigger warnings look up: the registered specs read once, the rest per name."""

    def __init__(self, tx: Tx, declared: set[str], workflows: set[tuple[str, str, str]]) -> None:
        self.tx, self.declared, self.workflows = tx, declared, workflows
        self._artifacts: dict[str, bool] = {}
        self._events: dict[str, bool] = {}

    def artifact_known(self, name: str) -> bool:
        if name not in self._artifacts:
            self._artifacts[name] = name in self.declared or artifact_rows.name_exists(
                self.tx, name=name
            )
        return self._artifacts[name]

    def event_seen(self, name: str) -> bool:
        if name not in self._events:
            self._events[name] = event_rows.name_seen(self.tx, name)
        return self._events[name]

    def workflow_registered(self, project: str, domain: str, name: str) -> bool:
        return (project, domain, name) in self.workflows or entities.name_exists(
            self.tx, project=project, domain=domain, name=name
        )


def _in_scope(project: str | None, domain: str | None, p: str, d: str) -> bool:
    return (project is None or p == project) and (domain is None or d == domain)


def _query_artifact(text: str | None) -> str | None:
    """The artifact a stored query default names (``name.query(...)``), or None."""
    if not text or ".query(" not in text:
        return None
    return text.split(".query(", 1)[0]


class _Builder:
    def __init__(self, inst: Instance, tx: Tx, project: str | None, domain: str | None) -> None:
        self.inst, self.tx = inst, tx
        self.project, self.domain = project, domain
        self.nodes: dict[str, GraphNode] = {}
        self.edges: dict[GraphEdge, None] = {}
        self.warnings: dict[GraphWarning, None] = {}
        everything = entities.list_entities(tx)
        self.specs = {e.id: json.loads(e.spec) for e in everything}
        self.by_call = {
            (
                e.project,
                e.domain,
                self.specs[e.id].get("module"),
                self.specs[e.id].get("function"),
            ): e
            for e in everything
        }
        self.registered = {(e.project, e.domain, e.name) for e in everything}
        self.declared = {
            out["artifact"]
            for spec in self.specs.values()
            for out in (spec.get("outputs") or {}).values()
            if out.get("artifact")
        }
        self.known = _Known(tx, self.declared, self.registered)
        self.everything = everything
        self.bundles: dict[str, dict[str, str] | None] = {}

    # -- nodes -------------------------------------------------------------------------------
    def add(self, kind: str, project: str, domain: str, name: str, label: str) -> GraphNode:
        nid = node_id(kind, project, domain, name)
        found = self.nodes.get(nid)
        if found is None:
            found = self.nodes[nid] = GraphNode(nid, kind, name, project, domain, label)
        return found

    def workflow(self, project: str, domain: str, name: str) -> GraphNode:
        node = self.add("workflow", project, domain, name, name.rsplit(".", 1)[-1])
        node.known = (project, domain, name) in self.registered
        return node

    def artifact(self, project: str, domain: str, name: str) -> GraphNode:
        node = self.add("artifact", project, domain, name, name)
        node.known = self.known.artifact_known(name)
        return node

    def event(self, project: str, domain: str, name: str) -> GraphNode:
        node = self.add("event", project, domain, name, name)
        node.known = name.startswith("headwater.") or self.known.event_seen(name)
        return node

    def edge(self, source: GraphNode, target: GraphNode, kind: str, label: str = "") -> None:
        self.edges[GraphEdge(source.id, target.id, kind, label)] = None

    # -- workflows: what they produce and read -----------------------------------------------
    def _reach(self, entity: EntityRow, seen: set[int]) -> list[dict[str, Any]]:
        """The specs of ``entity`` and of every task/workflow it calls, transitively."""
        if entity.id in seen:
            return []
        seen.add(entity.id)
        spec = self.specs[entity.id]
        found = [spec]
        if entity.kind != "workflow":
            return found
        module, function = spec.get("module"), spec.get("function")
        if not module or not function:
            return found
        for mod, name in sorted(
            calls_of(self.inst, entity.snapshot, module, function, self.bundles)
        ):
            callee = self.by_call.get((entity.project, entity.domain, mod, name))
            if callee is not None:
                found += self._reach(callee, seen)
        return found

    def add_workflow(self, entity: EntityRow) -> None:
        node = self.workflow(entity.project, entity.domain, entity.name)
        for spec in self._reach(entity, set()):
            for out in (spec.get("outputs") or {}).values():
                if out.get("artifact"):
                    art = self.artifact(entity.project, entity.domain, out["artifact"])
                    self.edge(node, art, "produces")
            for name, inp in (spec.get("inputs") or {}).items():
                read = _query_artifact(inp.get("query"))
                if read:
                    art = self.artifact(entity.project, entity.domain, read)
                    self.edge(node, art, "reads", name)

    # -- launch plans ------------------------------------------------------------------------
    def add_plan(self, row: LaunchPlanRow, active: bool) -> None:
        spec = json.loads(row.spec)
        triggers = spec.get("triggers") or []
        schedule = spec.get("schedule")
        node = self.add("launch_plan", row.project, row.domain, row.name, row.name)
        node.active, node.workflow = active, row.workflow
        words = [summary(t) for t in triggers] + ([summary(schedule)] if schedule else [])
        node.trigger = ", ".join(words)
        self.edge(node, self.workflow(row.project, row.domain, row.workflow), "starts")
        for i, t in enumerate(triggers):
            for _path, leaf, all_of, part in kind_of(t).leaves(t, str(i)):
                self.add_leaf(row, node, leaf, all_of, part)
        for name, q in (spec.get("query_inputs") or {}).items():
            if q.get("artifact"):
                project, domain = scope(q, row.project, row.domain)
                art = self.artifact(project, domain, q["artifact"])
                self.edge(self.workflow(row.project, row.domain, row.workflow), art, "reads", name)

    def add_leaf(
        self,
        row: LaunchPlanRow,
        plan: GraphNode,
        leaf: dict[str, Any],
        all_of: dict[str, Any] | None,
        part: int | None,
    ) -> None:
        what = SOURCE.get(str(leaf.get("kind")))
        if what is None:  # a kind with no named source (none today besides schedules)
            return
        project, domain = scope(leaf, row.project, row.domain)
        label = _leaf_label(leaf)
        if all_of is not None and part is not None:
            label = f"all of, part {part + 1}/{len(all_of['parts'])}" + (
                f": {label}" if label else ""
            )
        if what == "artifact":
            name = str(leaf["artifact"])
            source = self.artifact(project, domain, name)
        elif what == "event":
            name = str(leaf["name"])
            source = self.event(project, domain, name)
        else:
            name = str(leaf["workflow"])
            source = self.workflow(project, domain, name)
        self.edge(source, plan, "triggers", label)
        message = kind_of(leaf).undeclared(leaf, row, self.known)
        if message:
            warning = GraphWarning(row.name, row.project, row.domain, what, name, message)
            self.warnings[warning] = None

    # -- counts ------------------------------------------------------------------------------
    def count(self, recent: int) -> None:
        for node in self.nodes.values():
            if node.kind == "workflow" and node.known:
                runs = execution_rows.recent_runs(
                    self.tx,
                    project=node.project,
                    domain=node.domain,
                    workflow=node.name,
                    limit=recent,
                )
            elif node.kind == "launch_plan" and node.workflow:
                runs = execution_rows.recent_runs(
                    self.tx,
                    project=node.project,
                    domain=node.domain,
                    workflow=node.workflow,
                    launch_plan=node.name,
                    limit=recent,
                )
            else:
                continue
            last = GraphRun(runs[0].id, runs[0].status, runs[0].created_at) if runs else None
            node.counts = GraphCounts(last, len(runs), sum(r.status == "failed" for r in runs))


def _leaf_label(leaf: dict[str, Any]) -> str:
    kind = leaf.get("kind")
    if kind == "card_added":
        return "card added"
    if kind == "finish":
        return f"on finish ({leaf.get('status')})"
    if kind == "event" and leaf.get("filter"):
        return "where " + ", ".join(f"{k} = {v}" for k, v in leaf["filter"].items())
    if kind == "artifact" and leaf.get("partitions"):
        return ", ".join(f"{k}={v}" for k, v in leaf["partitions"].items())
    return ""


def build(
    inst: Instance, project: str | None = None, domain: str | None = None, recent: int = RECENT
) -> MetaGraph:
    """The graph of ``project``/``domain`` (None: every project / every domain)."""
    with inst.db.read() as tx:
        b = _Builder(inst, tx, project, domain)
        for entity in b.everything:
            if entity.kind == "workflow" and _in_scope(
                project, domain, entity.project, entity.domain
            ):
                b.add_workflow(entity)
        active = {r.id for r in plan_rows.active_launch_plans(tx)}
        for row in plan_rows.current_versions(tx):
            if not _in_scope(project, domain, row.project, row.domain):
                continue
            spec = json.loads(row.spec)
            if spec.get("triggers") or spec.get("schedule"):
                b.add_plan(row, row.id in active)
        b.count(recent)
    order = {k: i for i, k in enumerate(KINDS)}
    nodes = sorted(b.nodes.values(), key=lambda n: (order[n.kind], n.project, n.domain, n.name))
    edges = sorted(b.edges, key=lambda e: (e.source, e.target, e.kind, e.label))
    warnings = sorted(b.warnings, key=lambda w: (w.project, w.domain, w.launch_plan, w.name))
    return MetaGraph(ALL if project is None else project, domain, nodes, edges, warnings)
