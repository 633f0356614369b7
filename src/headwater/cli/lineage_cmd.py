"""``headwater lineage export``: the recorded lineage in a format other tools read."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from headwater.cli._params import iso_time
from headwater.cli.app import CONTEXT_SETTINGS

FORMATS = ("openlineage",)


@click.group(context_settings=CONTEXT_SETTINGS)
def lineage() -> None:
    """Export recorded lineage to other tools."""


@lineage.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="openlineage",
    show_default=True,
    help="openlineage: one OpenLineage RunEvent per line (NDJSON).",
)
@click.option(
    "--since",
    callback=iso_time,
    help="Only executions created at this ISO date/time or later (UTC when no zone is given).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (default: standard output).",
)
def export(fmt: str, since: datetime | None, output: Path | None) -> None:
    """Write the history as OpenLineage events: START and COMPLETE/FAIL/ABORT per execution.

    Built from the stored executions and lineage (not from the export outbox), oldest first,
    to backfill a lineage service (e.g. Marquez) with what ran before export was on.

    \b
    headwater lineage export --format openlineage --since 2026-11-01 -o lineage.ndjson
    """
    from headwater.instance import get_instance
    from headwater.integrations.openlineage.export import write_history

    inst = get_instance()
    if inst.settings.api_url:
        raise click.UsageError(
            "lineage export reads the database directly; unset HEADWATER_API_URL and point "
            "HEADWATER_DATABASE_URL at the instance's database"
        )
    start = None
    if since is not None:
        start = (since if since.tzinfo else since.replace(tzinfo=UTC)).timestamp()
    if output is None:
        write_history(inst, sys.stdout, start)
        return
    if not output.parent.is_dir():
        raise click.BadParameter(
            f"the folder {output.parent} does not exist; create it first", param_hint="--output"
        )
    with output.open("w", encoding="utf-8") as f:
        n = write_history(inst, f, start)
    click.echo(f"{n} event(s) written to {output}", err=True)
