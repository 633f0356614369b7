"""``headwater worker`` and the hidden ``headwater reactor``: the daemons ``up`` supervises.

The same commands serve ``python -m headwater.daemon.worker`` and ``python -m
headwater.daemon.reactor_process`` (what ``headwater up`` spawns), so both spellings take the
same flags. A worker is restarted on the path of executions, so this module imports only
click at the top (not ``cli.app`` and the other commands); the engine is imported when a
command runs.
"""

from __future__ import annotations

import click

# Mirrors app.CONTEXT_SETTINGS, engine.worker.DEFAULT_LEASE and the *_ENV names, kept literal
# so that starting a worker imports neither the other commands nor (for --help) the engine;
# tests/cli/test_worker_cmd.py checks that they agree.
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
DEFAULT_LEASE = 30.0
MAX_EXECUTIONS_ENV = "HEADWATER_WORKER_MAX_EXECUTIONS"
MAX_MEMORY_ENV = "HEADWATER_WORKER_MAX_MEMORY_MB"

_parent_pid = click.option(
    "--parent-pid",
    type=int,
    default=None,
    metavar="PID",
    help="Exit when this process is no longer the parent.",
)
_json_logs = click.option("--json-logs", is_flag=True, help="Log JSON lines.")
_ready_fd = click.option(
    "--ready-fd",
    type=int,
    default=None,
    metavar="FD",
    help="Write 'ready' to this inherited file descriptor once signals are handled.",
)


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option(
    "--lease",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_LEASE,
    help="Seconds a claim lasts without a heartbeat (default 30).",
)
@click.option("--name", default=None, help="Worker name (default host:pid).")
@click.option(
    "--max-executions",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Replace the process running executions after this many; 0: no limit "
    f"(default ${MAX_EXECUTIONS_ENV} or 0).",
)
@click.option(
    "--max-memory-mb",
    type=click.IntRange(min=0),
    default=None,
    metavar="MB",
    help="Replace the process running executions after one leaves it above this many MB "
    f"resident; 0: no limit (default ${MAX_MEMORY_ENV} or 0).",
)
@_parent_pid
@_json_logs
@_ready_fd
@click.pass_context
def worker(
    ctx: click.Context,
    lease: float,
    name: str | None,
    max_executions: int | None,
    max_memory_mb: int | None,
    parent_pid: int | None,
    json_logs: bool,
    ready_fd: int | None,
) -> None:
    """Run one worker and nothing else of `up`.

    The worker claims executions from the database of the HEADWATER_* settings and runs them,
    with its blob store; no reactor, scheduler or HTTP API. Stops after SIGTERM/SIGINT once the current
    execution is finished. Exit codes: 0 when stopped, 2 for bad arguments or settings, 75
    when an execution needs a fresh process (snapshot conflict), 76 when recycled.
    """
    from headwater.daemon.worker import run_worker

    ctx.exit(
        run_worker(
            lease=lease,
            name=name,
            parent_pid=parent_pid,
            max_executions=max_executions,
            max_memory_mb=max_memory_mb,
            ready_fd=ready_fd,
            json_logs=json_logs,
        )
    )


@click.command(hidden=True, context_settings=CONTEXT_SETTINGS)
@_parent_pid
@_json_logs
@_ready_fd
@click.pass_context
def reactor(
    ctx: click.Context, parent_pid: int | None, json_logs: bool, ready_fd: int | None
) -> None:
    """Run the reactor process (what `headwater up` starts and supervises).

    Exit codes: 0 when stopped, 2 for bad arguments or settings, 1 if deciding failed.
    """
    from headwater.daemon.reactor_process import run_reactor

    ctx.exit(run_reactor(parent_pid=parent_pid, ready_fd=ready_fd, json_logs=json_logs))
