"""``headwater worker`` and the hidden ``headwater reactor``: the daemons ``up`` supervises.

The same commands serve ``python -m headwater.daemon.worker`` and ``python -m
headwater.daemon.reactor_process`` (what ``headwater up`` spawns), so both spellings take the
same flags. A worker is restarted on the path of executions, so this module imports only
click at the top (not ``cli.app`` and the other commands); the engine is imported when a
command runs.
"""

from __future__ import annotations

import re

import click

# Mirrors app.CONTEXT_SETTINGS, engine.worker.DEFAULT_LEASE and the *_ENV names, kept literal
# so that starting a worker imports neither the other commands nor (for --help) the engine;
# tests/cli/test_worker_cmd.py checks that they agree.
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
DEFAULT_LEASE = 30.0
MAX_EXECUTIONS_ENV = "HEADWATER_WORKER_MAX_EXECUTIONS"
MAX_MEMORY_ENV = "HEADWATER_WORKER_MAX_MEMORY_MB"
EXECUTOR_ENV = "HEADWATER_WORKER_EXECUTOR"
CONNECT_TIMEOUT_ENV = "HEADWATER_CONNECT_TIMEOUT"
DEFAULT_GRACE = 25.0
DEFAULT_QUEUE = "default"

_QUEUE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")  # as definitions.launch_plan

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
    "--queue",
    "queues",
    multiple=True,
    metavar="NAME",
    help=f"Take executions of this queue only; repeat for several (default: {DEFAULT_QUEUE}).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=256),
    default=1,
    metavar="N",
    help="Run up to N executions at a time, in N worker processes (default 1); with "
    "--executor dask://, N executions on the cluster at a time (default: its worker threads).",
)
@click.option(
    "--executor",
    default=None,
    metavar="URL",
    help="Where executions run: 'local' (processes of this machine) or 'dask://host:8786' "
    f"(whole executions as tasks of that Dask cluster); default ${EXECUTOR_ENV} or local.",
)
@click.option(
    "--once",
    is_flag=True,
    help="Run one queued execution, if there is one, then exit 0.",
)
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=DEFAULT_GRACE,
    metavar="SECONDS",
    help="After SIGTERM, let the running execution finish for this long, then stop it and "
    f"hand it back to the queue for another worker (default {DEFAULT_GRACE:g}).",
)
@click.option(
    "--connect-timeout",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Wait this long for the database, object store and Dask scheduler to answer at "
    f"start, retrying with backoff, then exit 69; 0 waits forever (default ${CONNECT_TIMEOUT_ENV} "
    "or 60).",
)
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
    queues: tuple[str, ...],
    concurrency: int,
    executor: str | None,
    once: bool,
    grace: float,
    connect_timeout: float | None,
    max_executions: int | None,
    max_memory_mb: int | None,
    parent_pid: int | None,
    json_logs: bool,
    ready_fd: int | None,
) -> None:
    """Run workers and nothing else of `up`.

    On this machine or any other, the worker claims executions of its queues from the database of the HEADWATER_* settings
    (HEADWATER_DATABASE_URL, HEADWATER_STORAGE_URL) and runs them with the code registered in
    the blob store; no reactor, scheduler or HTTP API. On another machine than `headwater up`
    both must be shared: PostgreSQL and an object store (s3://...); a SQLite database or a
    local blob folder is refused there. Stops after SIGTERM/SIGINT once the current execution
    is finished, or after --grace seconds, handing it back to the queue. Exit codes: 0 when
    stopped, 2 for bad arguments or settings, 69 when the database, object store or Dask
    scheduler did not answer within --connect-timeout, 75 when an execution needs a fresh process
    (snapshot conflict), 76 when recycled. See docs/deploy.md.
    """
    for queue in queues:
        if not _QUEUE_NAME.match(queue):
            raise click.BadParameter(
                f"{queue!r} is not a queue name: use 1-63 letters, digits, '-', '_' or '.', "
                "starting with a letter or digit",
                param_hint="'--queue'",
            )
    from headwater.daemon.worker import run_worker

    ctx.exit(
        run_worker(
            lease=lease,
            name=name,
            queues=list(queues) or None,
            concurrency=concurrency,
            executor=executor,
            connect_timeout=connect_timeout,
            once=once,
            grace=grace,
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
