"""Walking lineage: which execution produced a version, what it consumed, and so on.

``depth`` counts generations: one generation up from a version is the execution that produced
it and the versions that execution consumed. Each generation costs two indexed queries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from headwater.engine import artifacts
from headwater.errors import UserInputError
from headwater.storage import artifacts as artifact_rows
from headwater.storage.db import in_list
from headwater.storage.lineage import (
    CONSUMED,
    PRODUCED,
    TRIGGERED,
    edges_of_executions,
    edges_of_versions,
    links_of,
)

if TYPE_CHECKING:
    from headwater.instance import Instance

MAX_DEPTH = 50


@dataclass(frozen=True)
class LineageNode:
    """An artifact version (``id`` is its URI) or an execution (``id`` is its id)."""

    id: str
    kind: str
    label: str
    attrs: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "label": self.label, **self.attrs}


@dataclass(frozen=True)
class LineageEdge:
    """``consumed``: version -> execution; ``produced``: execution -> version."""

    source: str
    target: str
    kind: str
    name: str

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "target": self.target, "kind": self.kind, "name": self.name}


@dataclass
class LineageGraph:
    """Nodes (versions and executions) and edges, printable as a tree, exportable as JSON."""

    root: str
    direction: str
    depth: int
    nodes: list[LineageNode]
    edges: list[LineageEdge]

    def node(self, node_id: str) -> LineageNode:
        return next(n for n in self.nodes if n.id == node_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "direction": self.direction,
            "depth": self.depth,
            "nodes": [n.to_dict() for n in self.nodes],
            "edges": [e.to_dict() for e in self.edges],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=str)

    def tree(self) -> str:
        """Upstream (where it came from) and downstream (what used it), as indented text."""
        lines = [self.node(self.root).label]
        if self.direction in ("upstream", "both"):
            up = self._children(upstream=True)
            if up.get(self.root):
                lines.append("upstream:")
                self._walk(self.root, up, "  ", lines, set(), upstream=True)
        if self.direction in ("downstream", "both"):
            down = self._children(upstream=False)
            if down.get(self.root):
                lines.append("downstream:")
                self._walk(self.root, down, "  ", lines, set(), upstream=False)
        return "\n".join(lines)

    def _children(self, upstream: bool) -> dict[str, list[LineageEdge]]:
        kids: dict[str, list[LineageEdge]] = {}
        for e in self.edges:
            kids.setdefault(e.target if upstream else e.source, []).append(e)
        return kids

    def _walk(
        self,
        at: str,
        kids: dict[str, list[LineageEdge]],
        indent: str,
        lines: list[str],
        seen: set[str],
        upstream: bool,
    ) -> None:
        seen = seen | {at}
        edges = kids.get(at, [])
        for i, e in enumerate(edges):
            nxt = e.source if upstream else e.target
            last = i == len(edges) - 1
            if e.kind == PRODUCED:
                verb = "produced by" if upstream else f"produced ({e.name})"
            elif e.kind == TRIGGERED:
                verb = f"{e.name} by" if upstream else e.name
            else:
                verb = f"consumed ({e.name})" if upstream else "consumed by"
            lines.append(f"{indent}{'└── ' if last else '├── '}{verb} {self.node(nxt).label}")
            if nxt not in seen:
                self._walk(nxt, kids, indent + ("    " if last else "│   "), lines, seen, upstream)

    def __str__(self) -> str:
        return self.tree()


def _exec_rows(inst: Instance, ids: list[str]) -> list[Any]:
    if not ids:
        return []
    marks, params = in_list("e", ids)
    with inst.db.read() as tx:
        return tx.all(
            "SELECT id, workflow, status, created_at, project, domain FROM executions "
            f"WHERE id IN {marks}",
            params,
        )


def _start(inst: Instance, ref: Any) -> tuple[int | None, str | None]:
    """(version id, None) for an artifact reference, (None, execution id) for an execution."""
    from headwater.engine.handles import Execution
    from headwater.storage import executions as execution_rows

    if isinstance(ref, Execution):
        return None, ref.id
    if isinstance(ref, str) and not ref.startswith("hw://"):
        with inst.db.read() as tx:
            if execution_rows.get_execution(tx, ref) is not None:
                return None, ref
    return artifacts.resolve(inst, ref).id, None


def lineage(inst: Instance, ref: Any, direction: str = "both", depth: int = 3) -> LineageGraph:
    """The lineage graph around an artifact version or an execution, ``depth`` generations
    each way. Runs started by another run's completion are linked to it ("triggered")."""
    if direction not in ("upstream", "downstream", "both"):
        raise UserInputError(
            f"direction must be 'upstream', 'downstream' or 'both', got {direction!r}"
        )
    if not isinstance(depth, int) or isinstance(depth, bool) or not 0 <= depth <= MAX_DEPTH:
        raise UserInputError(f"depth must be a whole number from 0 to {MAX_DEPTH}, got {depth!r}")
    start_version, start_exec = _start(inst, ref)
    version_ids: set[int] = {start_version} if start_version is not None else set()
    exec_ids: set[str] = {start_exec} if start_exec else set()
    raw_edges: set[tuple[str, int, str, str]] = set()  # (execution, version, direction, name)
    links: set[tuple[str, str, str]] = set()  # (upstream execution, triggered execution, kind)
    walks = {"upstream": [True], "downstream": [False], "both": [True, False]}[direction]
    with inst.db.read() as tx:
        for walk_up in walks:
            versions = [start_version] if start_version is not None else []
            pending = {start_exec} if start_exec else set()
            expanded: set[str] = set()
            for _ in range(depth):
                first = edges_of_versions(tx, versions, PRODUCED if walk_up else CONSUMED)
                raw_edges.update(
                    (e["execution_id"], e["version_id"], e["direction"], e["name"]) for e in first
                )
                execs = sorted(({e["execution_id"] for e in first} | pending) - expanded)
                if not execs:
                    break
                expanded.update(execs)
                exec_ids.update(execs)
                second = edges_of_executions(tx, execs, CONSUMED if walk_up else PRODUCED)
                raw_edges.update(
                    (e["execution_id"], e["version_id"], e["direction"], e["name"]) for e in second
                )
                versions = sorted({e["version_id"] for e in second} - version_ids)
                version_ids.update(versions)
                found = links_of(tx, execs, upstream=walk_up)
                links.update((r["upstream_id"], r["execution_id"], r["kind"]) for r in found)
                pending = {r["upstream_id"] if walk_up else r["execution_id"] for r in found}
                exec_ids.update(pending)
                if not versions and not pending:
                    break
    exec_ids.update(e[0] for e in raw_edges)
    version_ids.update(e[1] for e in raw_edges)
    with inst.db.read() as tx:
        vrows = artifact_rows.get_versions_by_id(tx, sorted(version_ids))
    uri_of = {
        r["id"]: f"hw://{r['project']}/{r['domain']}/{r['name']}@{r['version']}" for r in vrows
    }
    nodes = [
        LineageNode(
            uri_of[r["id"]],
            "artifact",
            uri_of[r["id"]],
            {
                "name": r["name"],
                "version": r["version"],
                "partitions": json.loads(r["partitions"]),
                "time_partition": r["time_partition"],
            },
        )
        for r in vrows
    ]
    for r in _exec_rows(inst, sorted(exec_ids)):
        nodes.append(
            LineageNode(
                r["id"],
                "execution",
                f"execution {r['id']} ({r['workflow']}, {r['status']})",
                {"workflow": r["workflow"], "status": r["status"]},
            )
        )
    edges = []
    for ex, vid, kind, name in sorted(raw_edges):
        if kind == PRODUCED:
            edges.append(LineageEdge(ex, uri_of[vid], kind, name))
        else:
            edges.append(LineageEdge(uri_of[vid], ex, kind, name))
    edges += [LineageEdge(up, down, TRIGGERED, kind) for up, down, kind in sorted(links)]
    root = uri_of[start_version] if start_version is not None else str(start_exec)
    return LineageGraph(root, direction, depth, nodes, edges)
