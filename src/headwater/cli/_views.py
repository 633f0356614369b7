"""How executions, artifact versions and events look on a terminal (and in ``--json``)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from headwater.cli._output import (
    NONE,
    fields,
    fmt_duration,
    fmt_partition_time,
    fmt_partitions,
    fmt_time,
    heading,
    markdown,
    preview,
    table,
)
from headwater.definitions.storable import readable, readable_text

if TYPE_CHECKING:
    from headwater.handles import ArtifactVersion, EventRecord, Execution, NodeExecution


# -- executions ------------------------------------------------------------------------------
def produced_versions(ex: Execution) -> list[ArtifactVersion]:
    """The artifact versions an execution produced, oldest first."""
    return ex.produced


def execution_json(ex: Execution, versions: list[ArtifactVersion]) -> dict[str, Any]:
    """``Execution.to_dict(nodes=True)`` plus the URIs of the versions it produced."""
    body = ex.to_dict(nodes=True)
    body["artifacts"] = [v.uri for v in versions]
    return body


def execution_line(ex: Execution) -> str:
    return f"execution {ex.id}  {ex.workflow}  {ex.status.value}  {fmt_duration(ex.duration)}"


def print_literals(title: str, literals: dict[str, Any]) -> None:
    if not literals:
        return
    click.echo(f"{title}:")
    print_literals_body(literals)


def print_literals_body(literals: dict[str, Any]) -> None:
    width = max(len(k) for k in literals)
    for name, literal in literals.items():
        click.echo(f"  {name.ljust(width)}  {preview(literal)}")


def print_versions(title: str, versions: list[ArtifactVersion]) -> None:
    if not versions:
        return
    click.echo(f"{title}:")
    width = max(len(v.uri) for v in versions)
    for v in versions:
        click.echo(f"  {v.uri.ljust(width)}  {fmt_partitions(v.partitions, v.time_partition)}")


def failure_text(ex: Execution, nodes: list[NodeExecution] | None = None) -> tuple[str, str]:
    """(one-line message, traceback) of a failed execution."""
    err = ex.error or {}
    where = ""
    node_id = err.get("node")
    if node_id:
        names = {n.node_id: n.name for n in (ex.nodes if nodes is None else nodes)}
        where = (
            f" in node {node_id} ({names[node_id]})" if node_id in names else f" in node {node_id}"
        )
    kind = err.get("type")
    message = err.get("message") or "no message recorded"
    line = f"execution {ex.id} {ex.status.value}{where}: " + (
        f"{kind}: {message}" if kind and not message.startswith(kind) else message
    )
    tb = user_frames(str(err.get("traceback") or "")).rstrip("\n")
    return readable_text(line), readable_text(tb)


_FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line \d+')
_PACKAGE_DIR = str(Path(__file__).resolve().parents[1]) + os.sep


def user_frames(text: str) -> str:
    """A recorded traceback without the frames inside Headwater itself (kept whole when only
    Headwater frames are in it, since then the problem is in Headwater)."""
    kept: list[str] = []
    dropped = skipping = False
    any_user = False
    for line in text.splitlines(keepends=True):
        frame = _FRAME.match(line)
        if frame:
            skipping = frame["file"].startswith((_PACKAGE_DIR, "<frozen importlib"))
            dropped |= skipping
            any_user |= not skipping
        elif not line.startswith("    "):
            skipping = False
        if not skipping:
            kept.append(line)
    return "".join(kept) if dropped and any_user else text


def print_run_summary(ex: Execution, versions: list[ArtifactVersion]) -> None:
    """What ``headwater run`` prints on stdout."""
    click.echo(execution_line(ex))
    print_literals("outputs", ex.output_literals)
    print_versions("artifacts", versions)


def print_execution_detail(ex: Execution, versions: list[ArtifactVersion]) -> None:
    """What ``headwater executions show`` prints."""
    nodes = ex.nodes
    fields(
        [
            ("id", ex.id),
            ("workflow", ex.workflow),
            ("version", ex.workflow_version),
            ("project", f"{ex.project}/{ex.domain}"),
            ("launch plan", ex.launch_plan),
            ("status", ex.status.value),
            *([("waiting", ex.waiting)] if ex.waiting else []),
            ("queue", ex.queue),
            ("created", fmt_time(ex.created_at)),
            ("started", fmt_time(ex.started_at)),
            ("finished", fmt_time(ex.finished_at)),
            ("duration", fmt_duration(ex.duration)),
        ]
    )
    if ex.trigger:
        heading("trigger")
        click.echo(json.dumps(ex.trigger, indent=2, default=str))
    if ex.input_literals:
        heading("inputs")
        width = max(len(k) for k in ex.input_literals)
        for name, literal in ex.input_literals.items():
            via = ex.resolved_inputs.get(name)
            src = f"  <- {via.get('uri')} ({via.get('via')})" if isinstance(via, dict) else ""
            click.echo(f"  {name.ljust(width)}  {preview(literal)}{src}")
    if ex.output_literals:
        heading("outputs")
        print_literals_body(ex.output_literals)
    heading("nodes")
    table(
        ["NODE", "TASK", "STATUS", "ATTEMPTS", "DURATION", "CACHED FROM"],
        [
            [
                n.node_id,
                n.name,
                n.status.value,
                n.attempts,
                fmt_duration(
                    (n.finished_at - n.started_at).total_seconds()
                    if n.started_at and n.finished_at
                    else None
                ),
                n.cached_from or NONE,
            ]
            for n in nodes
        ],
        empty="  (no task calls recorded)",
    )
    retried = [(n, r) for n in nodes for r in n.retry_log]
    if retried:
        heading("retries")
        for n, r in retried:
            click.echo(
                f"  {n.node_id} attempt {r.get('attempt')} after {r.get('wait', 0):g} s: "
                f"{r.get('error', '')}"
            )
    if versions:
        heading("artifacts produced")
        for v in versions:
            click.echo(f"  {v.uri}  {fmt_partitions(v.partitions, v.time_partition)}")
    if ex.error:
        line, tb = failure_text(ex, nodes)
        heading("error")
        click.echo(line)
        if tb:
            click.echo(tb)


def execution_rows(found: list[Execution]) -> list[list[Any]]:
    return [
        [
            ex.id,
            ex.workflow,
            ex.status.value,
            fmt_time(ex.created_at),
            fmt_duration(ex.duration),
            ex.launch_plan or NONE,
        ]
        for ex in found
    ]


EXECUTION_HEADERS = ["ID", "WORKFLOW", "STATUS", "CREATED", "DURATION", "LAUNCH PLAN"]


# -- artifact versions -----------------------------------------------------------------------
VERSION_HEADERS = ["URI", "PARTITIONS", "TIME PARTITION", "TYPE", "CREATED", "EXECUTION"]


def version_rows(found: list[ArtifactVersion]) -> list[list[Any]]:
    return [
        [
            v.uri,
            fmt_partitions(v.partitions),
            fmt_partition_time(v.time_partition),
            v.literal.get("type", NONE),
            fmt_time(v.created_at),
            v.execution_id or NONE,
        ]
        for v in found
    ]


def version_json(v: ArtifactVersion, cards: bool = False) -> dict[str, Any]:
    return v.to_dict(cards=cards)


def print_version_detail(v: ArtifactVersion) -> None:
    """What ``headwater artifacts show`` prints: every field, then the cards as Markdown."""
    from headwater.types.preview import human_size

    lit = v.literal
    size = lit.get("size")
    fields(
        [
            ("uri", v.uri),
            ("name", v.name),
            ("version", v.version),
            ("project", f"{v.project}/{v.domain}"),
            ("partitions", fmt_partitions(v.partitions)),
            ("time partition", fmt_partition_time(v.time_partition)),
            ("created", fmt_time(v.created_at)),
            ("type", lit.get("type", NONE)),
            ("format", lit.get("format", NONE) + (" (pickled)" if lit.get("pickled") else "")),
            ("size", human_size(size) if isinstance(size, int) else NONE),
            ("value", lit.get("preview", NONE)),
            (
                "execution",
                f"{v.execution_id} (node {v.node_id}, output {v.output_name})"
                if v.execution_id
                else "published from outside a workflow",
            ),
        ]
    )
    if lit.get("note"):
        click.echo(f"note:  {lit['note']}")
    for i, card in enumerate(v.cards, 1):
        heading(f"{card.kind} card" + (f" {i}" if len(v.cards) > 1 else ""))
        markdown(card.text)


# -- events ----------------------------------------------------------------------------------
EVENT_HEADERS = ["ID", "NAME", "TIME", "SUBJECT"]


def event_rows(found: list[EventRecord]) -> list[list[Any]]:
    return [[e.id, e.name, fmt_time(e.timestamp), e.subject or NONE] for e in found]


def print_event_detail(e: EventRecord) -> None:
    fields(
        [
            ("id", e.id),
            ("name", e.name),
            ("time", e.timestamp.isoformat() if e.timestamp else "(out of range)"),
            ("source", e.source),
            ("subject", e.subject),
            ("project", f"{e.project}/{e.domain}"),
            ("sequence", e.seq),
        ]
    )
    heading("payload")
    click.echo(json.dumps(readable(e.payload), indent=2, default=str, ensure_ascii=False))
    if e.attributes:
        heading("attributes")
        click.echo(json.dumps(readable(e.attributes), indent=2, default=str, ensure_ascii=False))
    heading("decisions")
    if e.decided is False:
        click.echo("not decided yet (is `headwater up` running?)")
    elif not e.decisions:
        click.echo("no launch plan listens to this event")
    for d in e.decisions:
        target = f" -> execution {d.execution_id}" if d.execution_id else ""
        click.echo(f"{d.launch_plan} [{d.trigger}] {d.outcome}: {d.reason}{target}")


def report_run(ex: Execution, as_json: bool) -> None:
    """Print an ended execution as `headwater run` does; exit 1 unless it succeeded."""
    import sys

    from headwater.cli._output import emit_json

    versions = produced_versions(ex)
    if as_json:
        emit_json(execution_json(ex, versions))
    else:
        print_run_summary(ex, versions)
    if ex.status.value != "succeeded":
        line, tb = failure_text(ex)
        if tb and not as_json:
            click.echo(tb, err=True)
        click.echo(f"error: {line}", err=True)
        sys.exit(1)
