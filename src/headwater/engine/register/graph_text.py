"""The meta-workflow graph as text: a plain listing, Graphviz DOT and a Mermaid flowchart
(``headwater graph --format text|dot|mermaid``). Warnings are not part of these: the CLI
prints them to stderr."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from headwater.engine.register.graph import GraphCounts, GraphNode, MetaGraph

KIND_WORDS = {
    "workflow": "workflow",
    "artifact": "artifact",
    "event": "event",
    "launch_plan": "launch plan",
}


def counts_text(c: GraphCounts | None, with_id: bool = True) -> str:
    """``last run succeeded 2026-01-02 03:04 (ex-id), 1 of 20 failed`` or ``never ran``."""
    if c is None:
        return ""
    if c.last_run is None:
        return "never ran"
    run = c.last_run
    when = (
        ""
        if run.created_at is None
        else " " + datetime.fromtimestamp(run.created_at, UTC).strftime("%Y-%m-%d %H:%M")
    )
    which = f" ({run.id})" if with_id else ""
    return f"last run {run.status}{when}{which}, {c.failures} of {c.recent} failed"


def _describe(n: GraphNode) -> str:
    parts = [f"{KIND_WORDS[n.kind]} {n.name}"]
    if not n.known:
        parts.append("[not declared]")
    if n.kind == "launch_plan":
        parts.append("[active]" if n.active else "[inactive]")
        if n.trigger:
            parts.append(f"on {n.trigger}")
    counts = counts_text(n.counts)
    if counts:
        parts.append(f"- {counts}")
    return " ".join(parts)


def text(g: MetaGraph) -> str:
    """Nodes (with counts), then edges, one a line."""
    where = "every project" if g.project == "*" else f"project {g.project}"
    where += f", domain {g.domain}" if g.domain else ", every domain"
    lines = [f"meta-workflow graph of {where}: {len(g.nodes)} nodes, {len(g.edges)} edges"]
    if not g.nodes:
        lines.append("nothing registered (headwater register FILE)")
        return "\n".join(lines)
    lines.append("")
    lines += [f"  {_describe(n)}" for n in g.nodes]
    names = {n.id: f"{KIND_WORDS[n.kind]} {n.name}" for n in g.nodes}
    if g.edges:
        lines.append("")
    for e in g.edges:
        label = f" ({e.label})" if e.label else ""
        lines.append(f"  {names[e.source]} -{e.kind}-> {names[e.target]}{label}")
    return "\n".join(lines)


# -- Graphviz -------------------------------------------------------------------------------------
DOT_SHAPES = {
    "workflow": "box",
    "artifact": "cylinder",
    "event": "hexagon",
    "launch_plan": "component",
}


def _dot_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dot(g: MetaGraph) -> str:
    """A ``digraph`` laid out left to right; undeclared names dashed red; ``reads`` dashed."""
    lines = ["digraph headwater {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for n in g.nodes:
        label = n.label
        counts = counts_text(n.counts, with_id=False)
        if counts:
            label += "\n" + counts
        attrs = [f"label={_dot_quote(label)}", f"shape={DOT_SHAPES[n.kind]}"]
        if not n.known:
            attrs.append('style=dashed color="#c0392b"')
        elif n.kind == "launch_plan" and not n.active:
            attrs.append("style=dotted")
        lines.append(f"  {_dot_quote(n.id)} [{' '.join(attrs)}];")
    for e in g.edges:
        label = e.kind + (f": {e.label}" if e.label else "")
        attrs = [f"label={_dot_quote(label)}"]
        if e.kind == "reads":
            attrs.append("style=dashed")
        lines.append(f"  {_dot_quote(e.source)} -> {_dot_quote(e.target)} [{' '.join(attrs)}];")
    lines.append("}")
    return "\n".join(lines)


# -- Mermaid --------------------------------------------------------------------------------------
MERMAID_SHAPES = {
    "workflow": ('["', '"]'),
    "artifact": ('[("', '")]'),
    "event": ('{{"', '"}}'),
    "launch_plan": ('(["', '"])'),
}


def _mermaid_text(value: str) -> str:
    # Mermaid has entity codes for the characters that end a quoted label
    return value.replace("#", "#35;").replace('"', "#quot;").replace("|", "#124;")


def mermaid(g: MetaGraph) -> str:
    """A ``flowchart LR``; node ids are ``n0``, ``n1``, ... with the node's id in a comment."""
    ids = {n.id: f"n{i}" for i, n in enumerate(g.nodes)}
    lines = ["flowchart LR"]
    for n in g.nodes:
        label = n.label
        counts = counts_text(n.counts, with_id=False)
        if counts:
            label += "<br/>" + counts
        opening, closing = MERMAID_SHAPES[n.kind]
        lines.append(f"  %% {_mermaid_text(n.id)}")
        lines.append(f"  {ids[n.id]}{opening}{_mermaid_text(label)}{closing}")
    for e in g.edges:
        arrow = "-.->" if e.kind == "reads" else "-->"
        label = _mermaid_text(e.kind + (f": {e.label}" if e.label else ""))
        lines.append(f'  {ids[e.source]} {arrow}|"{label}"| {ids[e.target]}')
    unknown = [ids[n.id] for n in g.nodes if not n.known]
    if unknown:
        lines.append("  classDef undeclared stroke:#c0392b,stroke-dasharray:4 3")
        lines.append(f"  class {','.join(unknown)} undeclared")
    return "\n".join(lines)
