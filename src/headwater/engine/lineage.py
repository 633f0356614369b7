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
from headwater.storage.lineage import CONSUMED, PRODUCED, edges_of_executions, edges_of_versions

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


def lineage(inst: Instance, ref: Any, direction: str = "both", depth: int = 3) -> LineageGraph:
    """The lineage graph around an artifact version, ``depth`` generations each way."""
    if direction not in ("upstream", "downstream", "both"):
        raise UserInputError(
            f"direction must be 'upstream', 'downstream' or 'both', got {direction!r}"
        )
    if not isinstance(depth, int) or isinstance(depth, bool) or not 0 <= depth <= MAX_DEPTH:
        raise UserInputError(f"depth must be a whole number from 0 to {MAX_DEPTH}, got {depth!r}")
    start = artifacts.resolve(inst, ref)
    version_ids: set[int] = {start.id}
    exec_ids: set[str] = set()
    raw_edges: set[tuple[str, int, str, str]] = set()  # (execution, version, direction, name)
    for walk_up in (
        [True]
        if direction == "upstream"
        else [False]
        if direction == "downstream"
        else [True, False]
    ):
        frontier = [start.id]
        seen_exec: set[str] = set()
        with inst.db.read() as tx:
            for _ in range(depth):
                first = edges_of_versions(tx, frontier, PRODUCED if walk_up else CONSUMED)
                execs = sorted({e["execution_id"] for e in first} - seen_exec)
                raw_edges.update(
                    (e["execution_id"], e["version_id"], e["direction"], e["name"]) for e in first
                )
                if not execs:
                    break
                seen_exec.update(execs)
                second = edges_of_executions(tx, execs, CONSUMED if walk_up else PRODUCED)
                raw_edges.update(
                    (e["execution_id"], e["version_id"], e["direction"], e["name"]) for e in second
                )
                frontier = sorted({e["version_id"] for e in second} - version_ids)
                version_ids.update(frontier)
                exec_ids.update(execs)
                if not frontier:
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
    return LineageGraph(start.uri, direction, depth, nodes, edges)
