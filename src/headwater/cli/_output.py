"""Printing: JSON for machines, plain columns for pipes, rich tables and Markdown in a terminal.

``rich`` is imported only when something is printed to a terminal.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import click

NONE = "-"
KEY_COLUMNS = frozenset({"ID", "URI", "EXECUTION", "NAME", "WORKFLOW"})


def is_terminal() -> bool:
    """True when standard output is an interactive terminal."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def emit_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout (datetimes and paths as text)."""
    click.echo(json.dumps(value, indent=2, default=str, ensure_ascii=False))


def fmt_time(value: datetime | None) -> str:
    """``2026-11-01 13:05:09Z`` (UTC, to the second)."""
    if value is None:
        return NONE
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%SZ")


def fmt_partition_time(value: datetime | None) -> str:
    """A time partition: the date alone when it is midnight."""
    if value is None:
        return NONE
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
        return value.strftime("%Y-%m-%d")
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return NONE
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.2f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def fmt_partitions(partitions: Mapping[str, Any], time_partition: datetime | None = None) -> str:
    """``region=EU time_partition=2026-11-01`` (or ``-`` when there are none)."""
    parts = [f"{k}={v}" for k, v in sorted(partitions.items())]
    if time_partition is not None:
        parts.append(f"time_partition={fmt_partition_time(time_partition)}")
    return " ".join(parts) or NONE


def preview(literal: Mapping[str, Any] | None) -> str:
    """The stored preview of a value literal, with its type."""
    if not literal:
        return NONE
    from headwater.definitions.storable import readable_text

    text = readable_text(str(literal.get("preview", literal.get("format", "?"))))
    kind = literal.get("type")
    note = " (pickled)" if literal.get("pickled") else ""
    return f"{text}  [{kind}{note}]" if kind else text


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    empty: str = "nothing found",
    title: str | None = None,
) -> None:
    """A table: rich in a terminal, tab-free aligned columns otherwise."""
    if not rows:
        click.echo(empty)
        return
    cells = [[NONE if c is None else str(c) for c in row] for row in rows]
    if is_terminal():
        from rich import box
        from rich.console import Console
        from rich.table import Table

        tbl = Table(
            title=title,
            header_style="bold",
            title_justify="left",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            padding=(0, 1, 0, 0),
        )
        for i, header in enumerate(headers):
            # URIs and ids are never cut or wrapped; other columns wrap when space is short.
            key = i == 0 or header in KEY_COLUMNS
            tbl.add_column(
                header,
                no_wrap=key,
                overflow="fold",
                min_width=max(len(header), *(len(r[i]) for r in cells)) if key else None,
            )
        for row in cells:
            tbl.add_row(*row)
        Console().print(tbl)
        return
    if title:
        click.echo(title)
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    for row in [list(headers), *cells]:
        line = "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
        click.echo(line.rstrip())


def fields(pairs: Sequence[tuple[str, Any]]) -> None:
    """``key:  value`` lines, keys aligned."""
    width = max(len(k) for k, _ in pairs) + 1
    for key, value in pairs:
        click.echo(f"{(key + ':').ljust(width)}  {NONE if value is None else value}")


def heading(text: str) -> None:
    click.echo("")
    if is_terminal():
        click.secho(text, bold=True)
    else:
        click.echo(text)


def markdown(text: str) -> None:
    """Render Markdown in a terminal; print it as is otherwise."""
    if is_terminal():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        click.echo(text.rstrip("\n"))
