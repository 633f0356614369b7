"""``headwater executions list|show|relaunch``."""

from __future__ import annotations

import click

from headwater.cli._output import emit_json, table
from headwater.cli._params import key_values
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


@executions.command()
@click.argument("execution_id", metavar="ID")
@click.option(
    "-i",
    "--input",
    "inputs",
    multiple=True,
    callback=key_values,
    metavar="NAME=VALUE",
    help="Override an input (repeatable).",
)
@click.option(
    "--queue", "queue_only", is_flag=True, help="Only queue it for the workers of `headwater up`."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def relaunch(execution_id: str, inputs: dict[str, str], queue_only: bool, as_json: bool) -> None:
    """Repeat an execution with its recorded inputs."""

    from headwater.cli._params import coerce_inputs
    from headwater.cli._views import report_run
    from headwater.client import get_execution
    from headwater.engine import queue
    from headwater.engine.relaunch import original
    from headwater.engine.relaunch import relaunch as do_relaunch
    from headwater.engine.worker import Worker
    from headwater.instance import get_instance

    inst = get_instance()
    _, entity = original(inst, execution_id)
    new_id = do_relaunch(inst, execution_id, coerce_inputs(entity, inputs))
    if queue_only:
        if as_json:
            emit_json(get_execution(new_id).to_dict())
        else:
            click.echo(f"{new_id} queued (relaunch of {execution_id}); `headwater up` runs it")
        return
    worker = Worker(inst)
    row = queue.claim_id(inst, new_id, worker.name, worker.lease)
    if row is not None:
        worker.run_one(row)
    report_run(get_execution(new_id), as_json)
