"""``headwater executions list|show|relaunch|cancel``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from headwater.cli._output import emit_json, table
from headwater.cli._params import key_values
from headwater.cli.app import CONTEXT_SETTINGS

if TYPE_CHECKING:
    from headwater.client.http import RemoteClient

REMOTE_POLL = 0.2  # seconds between polls of a relaunched execution on the server
REMOTE_NOTICE_AFTER = 5.0  # say what it waits for when the server takes longer than this


@click.group(context_settings=CONTEXT_SETTINGS)
def executions() -> None:
    """List and inspect executions."""


@executions.command("list")
@click.option("--workflow", help="Only executions of this workflow (its registered name).")
@click.option("--launch-plan", help="Only executions started by this launch plan.")
@click.option("--status", help="Only executions in this state (succeeded, failed, running...).")
@click.option("--project", help="Executions of this project (default: HEADWATER_PROJECT).")
@click.option("--all-projects", is_flag=True, help="Executions of every project.")
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="At most this many executions.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(
    workflow: str | None,
    launch_plan: str | None,
    status: str | None,
    project: str | None,
    all_projects: bool,
    limit: int,
    as_json: bool,
) -> None:
    """Executions of the configured project, newest first."""
    from headwater.cli._views import EXECUTION_HEADERS, execution_rows
    from headwater.client import ALL_PROJECTS, list_executions

    if project is not None and all_projects:
        raise click.UsageError("give --project NAME or --all-projects, not both")
    found = list_executions(
        workflow=workflow,
        launch_plan=launch_plan,
        status=status,
        limit=limit,
        project=ALL_PROJECTS if all_projects else project,
    )
    if as_json:
        emit_json([ex.to_dict() for ex in found])
    else:
        where = "" if all_projects else " in this project (--all-projects for every project)"
        table(EXECUTION_HEADERS, execution_rows(found), empty=f"no executions found{where}")


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
    """Repeat an execution with its recorded inputs.

    With HEADWATER_API_URL set, the server queues it and its workers run it (this waits for
    them unless --queue is given).
    """
    from headwater.client import active_remote as remote

    server = remote()
    if server is not None:
        _relaunch_remote(server, execution_id, inputs, queue_only, as_json)
        return

    from headwater.cli._views import report_run
    from headwater.client import get_execution
    from headwater.daemon.worker import Worker
    from headwater.engine.execute import queue
    from headwater.engine.execute.relaunch import relaunch as do_relaunch
    from headwater.instance import get_instance

    inst = get_instance()
    new_id = do_relaunch(inst, execution_id, text_inputs=inputs)
    if queue_only:
        _report_queued(get_execution(new_id), execution_id, as_json)
        return
    worker = Worker(inst)
    row = queue.claim_id(inst, new_id, worker.name, worker.lease)
    if row is not None:
        worker.run_one(row)
    report_run(get_execution(new_id), as_json)


@executions.command()
@click.argument("execution_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def cancel(execution_id: str, as_json: bool) -> None:
    """Stop a queued or running execution.

    It ends `cancelled` at once; a worker running it kills the process running its code.
    An execution that has already ended is refused (exit status 2).
    """
    from headwater.client import cancel as do_cancel

    ex = do_cancel(execution_id)
    if as_json:
        emit_json(ex.to_dict())
    else:
        click.echo(f"{ex.id} cancelled ({ex.workflow})")


def _relaunch_remote(
    server: RemoteClient, execution_id: str, inputs: dict[str, str], queue_only: bool, as_json: bool
) -> None:
    from headwater.cli._views import report_run

    ex = server.relaunch(execution_id, text_inputs=inputs)
    if queue_only:
        _report_queued(ex, execution_id, as_json)
        return
    try:
        ex.wait(timeout=REMOTE_NOTICE_AFTER, poll=REMOTE_POLL)
    except TimeoutError:
        click.echo(
            f"waiting for the server's workers to run {ex.id} (Ctrl-C stops waiting; the "
            "execution stays queued)",
            err=True,
        )
        ex.wait(poll=REMOTE_POLL)
    report_run(ex, as_json)


def _report_queued(ex: Any, execution_id: str, as_json: bool) -> None:
    if as_json:
        emit_json(ex.to_dict())
    else:
        click.echo(f"{ex.id} queued (relaunch of {execution_id}); `headwater up` runs it")
