"""Walking lineage: which execution produced a version, what it consumed, and so on.

``depth`` counts generations: one generation up from a version is the execution that produced
it and the versions that execution consumed. Each generation costs a few indexed queries, and
any depth may be asked for (``None`` or ``"all"``: until the graph ends).

:func:`walk` yields the graph one generation at a time, each page with the state to resume
from, so a caller can stop after some nodes and go on later (the HTTP route pages this way)
without holding more than a page and one generation's frontier.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from headwater.engine.publish import artifacts
from headwater.errors import UserInputError
from headwater.storage import artifact_versions as version_rows
from headwater.storage import executions as execution_rows
from headwater.storage import retention as retention_rows
from headwater.storage.artifact_versions import ArtifactVersionRow
from headwater.storage.execution_links import TRIGGERED, links_of
from headwater.storage.executions import ExecutionSummary
from headwater.storage.lineage_edges import (
    CONSUMED,
    PRODUCED,
    LineageEdgeRow,
    edges_of_executions,
    edges_of_versions,
)

if TYPE_CHECKING:
    from headwater import schemas
    from headwater.instance import Instance

ALL = "all"  # depth: every generation


@dataclass(frozen=True)
class LineageNode:
    """An artifact version (``id`` is its URI) or an execution (``id`` is its id)."""

    id: str
    kind: str
    label: str
    attrs: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @classmethod
    def from_model(cls, model: schemas.LineageNode) -> LineageNode:
        """The node a wire model describes (its extra fields are ``attrs``)."""
        return cls(model.id, model.kind, model.label, dict(model.model_extra or {}))

    def to_model(self) -> schemas.LineageNode:
        from headwater import schemas

        return schemas.LineageNode(id=self.id, kind=self.kind, label=self.label, **self.attrs)

    def to_dict(self) -> dict[str, Any]:
        return self.to_model().model_dump(mode="json")


@dataclass(frozen=True)
class LineageEdge:
    """``consumed``: version -> execution; ``produced``: execution -> version."""

    source: str
    target: str
    kind: str
    name: str

    @classmethod
    def from_model(cls, model: schemas.LineageEdge) -> LineageEdge:
        return cls(model.source, model.target, model.kind, model.name)

    def to_model(self) -> schemas.LineageEdge:
        from headwater import schemas

        return schemas.LineageEdge(
            source=self.source, target=self.target, kind=self.kind, name=self.name
        )

    def to_dict(self) -> dict[str, Any]:
        return self.to_model().model_dump(mode="json")


@dataclass
class LineageGraph:
    """Nodes (versions and executions) and edges, printable as a tree, exportable as JSON."""

    root: str
    direction: str
    depth: int | None  # None: every generation
    nodes: list[LineageNode]
    edges: list[LineageEdge]

    def node(self, node_id: str) -> LineageNode:
        return next(n for n in self.nodes if n.id == node_id)

    @classmethod
    def from_model(cls, model: schemas.Lineage) -> LineageGraph:
        """The graph a wire model (one page, or all of it) describes."""
        nodes = [LineageNode.from_model(n) for n in model.nodes]
        edges = [LineageEdge.from_model(e) for e in model.edges]
        return cls(model.root, model.direction, model.depth, nodes, edges)

    def to_model(self, next_cursor: str | None = None) -> schemas.Lineage:
        """The wire form; ``next_cursor`` when it is one page of a longer walk."""
        from headwater import schemas

        return schemas.Lineage(
            root=self.root,
            direction=self.direction,
            depth=self.depth,
            nodes=[n.to_model() for n in self.nodes],
            edges=[e.to_model() for e in self.edges],
            next_cursor=next_cursor,
        )

    def to_dict(self) -> dict[str, Any]:
        return self.to_model().model_dump(mode="json", exclude={"next_cursor"})

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
        # A stack, not recursion: a chain of hundreds of generations is deeper than Python's
        # recursion limit. Each entry: a node's remaining edges, its indent, the path to it.
        labels = {n.id: n.label for n in self.nodes}
        stack = [(iter(kids.get(at, [])), len(kids.get(at, [])), indent, seen | {at})]
        while stack:
            edges, left, pad, path = stack[-1]
            e = next(edges, None)
            if e is None:
                stack.pop()
                continue
            left -= 1
            stack[-1] = (edges, left, pad, path)
            nxt = e.source if upstream else e.target
            last = left == 0
            if e.kind == PRODUCED:
                verb = "produced by" if upstream else f"produced ({e.name})"
            elif e.kind == TRIGGERED:
                verb = f"{e.name} by" if upstream else e.name
            else:
                verb = f"consumed ({e.name})" if upstream else "consumed by"
            lines.append(f"{pad}{'└── ' if last else '├── '}{verb} {labels[nxt]}")
            if nxt not in path:
                more = kids.get(nxt, [])
                stack.append(
                    (iter(more), len(more), pad + ("    " if last else "│   "), path | {nxt})
                )

    def __str__(self) -> str:
        return self.tree()


@dataclass(frozen=True)
class WalkState:
    """Where a walk goes on: the root, the phase (0: the first direction), the next
    generation, and that generation's frontier (versions to expand, executions reached by a
    run-to-run link)."""

    root_version: int | None
    root_execution: str | None
    direction: str
    depth: int | None
    phase: int = 0
    generation: int = 0
    versions: tuple[int, ...] = ()
    executions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rv": self.root_version,
            "re": self.root_execution,
            "d": self.direction,
            "k": self.depth,
            "p": self.phase,
            "g": self.generation,
            "v": list(self.versions),
            "e": list(self.executions),
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> WalkState:
        state = cls(
            body["rv"],
            body["re"],
            body["d"],
            body["k"],
            int(body["p"]),
            int(body["g"]),
            tuple(int(v) for v in body["v"]),
            tuple(str(e) for e in body["e"]),
        )
        check_direction(state.direction)
        check_depth(state.depth)
        return state


@dataclass
class LineagePage:
    """What one generation of a walk added; ``next`` resumes after it (None: the end)."""

    root: str
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    next: WalkState | None


_WALKS = {"upstream": (True,), "downstream": (False,), "both": (True, False)}


def check_direction(direction: str) -> str:
    if direction not in _WALKS:
        raise UserInputError(
            f"direction must be 'upstream', 'downstream' or 'both', got {direction!r}"
        )
    return direction


def check_depth(depth: Any) -> int | None:
    """A depth as given (a whole number >= 0, ``None`` or ``"all"``; text from a URL or the
    command line too) -> a number of generations, or None for every generation."""
    if depth is None or (isinstance(depth, str) and depth.strip().lower() == ALL):
        return None
    if isinstance(depth, str) and depth.strip().isdigit():
        depth = int(depth)
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 0:
        raise UserInputError(
            f"depth must be a whole number of generations from 0, or 'all', got {depth!r}"
        )
    return depth


def _exec_rows(inst: Instance, ids: list[str]) -> list[ExecutionSummary]:
    if not ids:
        return []
    with inst.db.read() as tx:
        return execution_rows.summaries(tx, ids)


def _start(inst: Instance, ref: Any) -> tuple[int | None, str | None]:
    """(version id, None) for an artifact reference, (None, execution id) for an execution."""
    from headwater.handles import Execution

    if isinstance(ref, Execution):
        return None, ref.id
    if isinstance(ref, str) and not ref.startswith("hw://"):
        with inst.db.read() as tx:
            if execution_rows.get_execution(tx, ref) is not None:
                return None, ref
    return artifacts.resolve(inst, ref).id, None


def start(inst: Instance, ref: Any, direction: str = "both", depth: Any = 3) -> WalkState:
    """The state a walk from ``ref`` (a version reference or an execution) begins with."""
    direction, generations = check_direction(direction), check_depth(depth)
    version, execution = _start(inst, ref)
    return _phase_start(WalkState(version, execution, direction, generations), 0)


def _phase_start(state: WalkState, phase: int) -> WalkState:
    return WalkState(
        state.root_version,
        state.root_execution,
        state.direction,
        state.depth,
        phase,
        0,
        (state.root_version,) if state.root_version is not None else (),
        (state.root_execution,) if state.root_execution else (),
    )


def _uri(row: ArtifactVersionRow) -> str:
    return f"hw://{row.project}/{row.domain}/{row.name}@{row.version}"


class _Pager:
    """Turns raw edges into nodes and edges, naming each node once per walk."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.uris: dict[int, str] = {}
        self.emitted: set[str] = set()  # executions
        self.emitted_versions: set[int] = set()

    def page(
        self,
        raw: list[tuple[str, int, str, str]],
        links: set[tuple[str, str, str]],
        version_ids: set[int],
        exec_ids: set[str],
    ) -> tuple[list[LineageNode], list[LineageEdge]]:
        version_ids = version_ids | {e[1] for e in raw}
        exec_ids = exec_ids | {e[0] for e in raw} | {x for link in links for x in link[:2]}
        nodes = []
        with self.inst.db.read() as tx:
            rows = version_rows.get_versions_by_id(tx, sorted(version_ids - self.emitted_versions))
            purged = retention_rows.tombstones(tx, [r.id for r in rows])
        for r in sorted(rows, key=lambda r: r.id):
            uri = self.uris[r.id] = _uri(r)
            attrs = {
                "name": r.name,
                "version": r.version,
                "partitions": json.loads(r.partitions),
                "time_partition": r.time_partition,
            }
            label = uri
            tomb = purged.get(r.id)
            if tomb is not None:  # a tombstone stays in the graph, marked
                attrs.update(purged=True, purged_at=tomb.purged_at, purged_by=tomb.purged_by)
                label = f"{uri} (purged)"
            nodes.append(LineageNode(uri, "artifact", label, attrs))
            self.emitted_versions.add(r.id)
        for x in sorted(_exec_rows(self.inst, sorted(exec_ids - self.emitted)), key=_by_id):
            label = f"execution {x.id} ({x.workflow}, {x.status})"
            attrs = {"workflow": x.workflow, "status": x.status}
            nodes.append(LineageNode(x.id, "execution", label, attrs))
        self.emitted.update(n.id for n in nodes if n.kind == "execution")
        edges = []
        for ex, vid, kind, name in raw:
            if kind == PRODUCED:
                edges.append(LineageEdge(ex, self.uris[vid], kind, name))
            else:
                edges.append(LineageEdge(self.uris[vid], ex, kind, name))
        edges += [LineageEdge(up, down, TRIGGERED, kind) for up, down, kind in sorted(links)]
        return nodes, edges


def _by_id(row: ExecutionSummary) -> str:
    return row.id


def walk(inst: Instance, state: WalkState) -> Iterator[LineagePage]:
    """The graph from ``state`` on, one generation per page (the first page of a walk from
    :func:`start` holds the root alone). Nodes are named once per call; a walk resumed in
    another call may repeat a node it reached before (merge by id)."""
    pager = _Pager(inst)
    walks = _WALKS[state.direction]
    if state.phase == 0 and state.generation == 0:
        nodes, _ = pager.page([], set(), set(state.versions), set(state.executions))
        yield LineagePage(
            _root(pager, state), nodes, [], _more(state, state.versions, state.executions)
        )
    seen_versions: set[int] = set(state.versions)
    expanded: set[str] = set()
    while True:
        up = walks[state.phase]
        if state.depth is not None and state.generation >= state.depth:
            following = _next_phase(state)
            if following is None:
                return
            state, seen_versions, expanded = following, set(following.versions), set()
            continue
        # Edges from the frontier first, then those of the executions it reached: printed in
        # this order, each line follows from one already shown.
        raw: list[tuple[str, int, str, str]] = []
        links: set[tuple[str, str, str]] = set()
        with inst.db.read() as tx:
            first = edges_of_versions(tx, list(state.versions), PRODUCED if up else CONSUMED)
            raw += sorted({_raw(e) for e in first})
            execs = sorted(({e.execution_id for e in first} | set(state.executions)) - expanded)
            versions: list[int] = []
            pending: set[str] = set()
            if execs:
                expanded.update(execs)
                second = edges_of_executions(tx, execs, CONSUMED if up else PRODUCED)
                raw += sorted({_raw(e) for e in second} - set(raw))
                versions = sorted({e.version_id for e in second} - seen_versions)
                seen_versions.update(versions)
                found = links_of(tx, execs, upstream=up)
                links.update((r.upstream_id, r.execution_id, r.kind) for r in found)
                pending = {r.upstream_id if up else r.execution_id for r in found}
        advanced = _advance(state, state.generation + 1, versions, pending)
        nxt = _more(advanced, versions, pending) if execs else _next_phase(advanced)
        nodes, edges = pager.page(raw, links, set(versions), set(execs) | pending)
        if nodes or edges:
            yield LineagePage(_root(pager, state), nodes, edges, nxt)
        if nxt is None:
            return
        if nxt.phase != state.phase:
            seen_versions, expanded = set(nxt.versions), set()
        state = nxt


def _raw(edge: LineageEdgeRow) -> tuple[str, int, str, str]:
    return (edge.execution_id, edge.version_id, edge.direction, edge.name)


def _advance(
    state: WalkState, generation: int, versions: list[int], executions: set[str]
) -> WalkState:
    return WalkState(
        state.root_version,
        state.root_execution,
        state.direction,
        state.depth,
        state.phase,
        generation,
        tuple(versions),
        tuple(sorted(executions)),
    )


def _more(state: WalkState, versions: Any, pending: Any) -> WalkState | None:
    """``state`` when its frontier has something to expand within the depth, else the next
    phase's start."""
    if (versions or pending) and (state.depth is None or state.generation < state.depth):
        return state
    return _next_phase(state)


def _next_phase(state: WalkState) -> WalkState | None:
    if state.depth != 0 and state.phase + 1 < len(_WALKS[state.direction]):
        return _phase_start(state, state.phase + 1)
    return None


def _root(pager: _Pager, state: WalkState) -> str:
    if state.root_version is None:
        return str(state.root_execution)
    if state.root_version not in pager.uris:
        with pager.inst.db.read() as tx:
            [row] = version_rows.get_versions_by_id(tx, [state.root_version])
        pager.uris[state.root_version] = _uri(row)
    return pager.uris[state.root_version]


def merge(root: str, direction: str, depth: int | None, pages: Any) -> LineageGraph:
    """One graph from pieces (each with ``nodes`` and ``edges``), each node and edge once."""
    nodes: dict[str, LineageNode] = {}
    edges: dict[LineageEdge, None] = {}
    for page in pages:
        for n in page.nodes:
            nodes.setdefault(n.id, n)
        edges.update(dict.fromkeys(page.edges))
    return LineageGraph(root, direction, depth, list(nodes.values()), list(edges))


def pages(
    inst: Instance, ref: Any, direction: str = "both", depth: Any = 3
) -> Iterator[LineageGraph]:
    """The lineage graph around ``ref`` in pieces, one generation each, as it is walked."""
    state = start(inst, ref, direction, depth)
    for page in walk(inst, state):
        yield LineageGraph(page.root, direction, state.depth, page.nodes, page.edges)


def lineage(inst: Instance, ref: Any, direction: str = "both", depth: Any = 3) -> LineageGraph:
    """The lineage graph around an artifact version or an execution, ``depth`` generations
    each way (``None`` or ``"all"``: every generation). Runs started by another run's
    completion are linked to it ("triggered")."""
    state = start(inst, ref, direction, depth)
    found = list(walk(inst, state))
    return merge(found[0].root, direction, state.depth, found)
