"""``headwater executions list|show``."""

from __future__ import annotations

import click

from headwater.cli._output import emit_json, table
from headwater.cli.app import CONTEXT_SETTINGS


@click.group(context_settings=CONTEXT_SETTINGS)
def executions() -> None:
    """List and inspect executions."""


@executions.command("list")
@click.option("--workflow", help="Only executions of this workflow (its registered name).")
@click.option("--status", help="Only executions in this state (succeeded, failed, running...).")
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="At most this many executions.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(workflow: str | None, status: str | None, limit: int, as_json: bool) -> None:
    """Executions, newest first."""
    from headwater.cli._views import EXECUTION_HEADERS, execution_rows
    from headwater.client import list_executions

    found = list_executions(workflow=workflow, status=status, limit=limit)
    if as_json:
        emit_json([ex.to_dict() for ex in found])
    else:
        table(EXECUTION_HEADERS, execution_rows(found), empty="no executions found")


@executions.command()
@click.argument("execution_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(execution_id: str, as_json: bool) -> None:
    """An execution, its nodes, outputs and error."""
    from headwater.cli._views import execution_json, print_execution_detail, produced_versions
    from headwater.client import get_execution

    ex = get_execution(execution_id)
    versions = produced_versions(ex)
    if as_json:
        emit_json(execution_json(ex, versions))
    else:
        print_execution_detail(ex, versions)
