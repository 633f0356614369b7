"""``headwater gc``: purge what the retention policies let go (``--dry-run``: show the plan)."""

from __future__ import annotations

import click

from headwater.cli._output import emit_json
from headwater.cli.app import CONTEXT_SETTINGS


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan (and outcome) as JSON.")
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds to wait for another gc on this database to finish.",
)
@click.option(
    "--batch",
    type=click.IntRange(min=1, max=100_000),
    default=500,
    show_default=True,
    help="Rows per committed batch.",
)
@click.option(
    "--pause",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Seconds to wait after each batch (lighter on a busy database).",
)
def gc(dry_run: bool, as_json: bool, wait: float, batch: int, pause: float) -> None:
    """Purge what the retention policies let go.

    Old versions, executions, events and unreferenced blobs, as the `retention` setting
    allows (see docs/retention.md).

    The latest version of every partition, versions kept executions consumed and the
    ancestors of kept versions always stay. A purged version leaves a tombstone: its URI says
    when and by which policy it went, and lineage still shows it. Safe to interrupt and rerun.

    \b
    headwater gc --dry-run          # what would go, what stays and why
    headwater gc --dry-run --json
    """
    from headwater.engine.retention.plan import planning
    from headwater.engine.retention.policy import parse
    from headwater.engine.retention.run import GcLock, collect
    from headwater.instance import get_instance

    inst = get_instance()
    retention = parse(inst.settings.retention)
    lock = GcLock(inst)
    lock.acquire(wait)
    try:
        if dry_run:
            with planning(inst, retention) as plan:
                if as_json:
                    emit_json(plan.to_dict())
                else:
                    click.echo(plan.text())
            return
        out = collect(
            inst,
            retention,
            batch=batch,
            progress=None if as_json else _progress,
            pause=pause,
        )
    finally:
        lock.release()
    if as_json:
        emit_json(out.to_dict())
    else:
        click.echo(out.plan.text())
        click.echo(out.text())


def _progress(what: str, n: int) -> None:
    click.echo(f"  {what}: {n}", err=True)
