"""``headwater up``: the reactor, scheduler, reaper and a pool of workers in one command."""

from __future__ import annotations

import click

from headwater.cli.app import CliError


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address for the HTTP API (a non-loopback one needs an API token: headwater tokens create).",
)
@click.option(
    "--port",
    default=8265,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port for the HTTP API.",
)
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(0, 256),
    help="How many worker processes run executions (0: the control plane alone, with workers "
    "started elsewhere by `headwater worker`; see docs/deploy.md).",
)
@click.option(
    "--worker-max-executions",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    envvar="HEADWATER_WORKER_MAX_EXECUTIONS",
    help="Replace the process running executions after this many (0: never; 1: a fresh "
    "process per execution).",
)
@click.option(
    "--worker-max-memory-mb",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    envvar="HEADWATER_WORKER_MAX_MEMORY_MB",
    help="Replace the process running executions after one leaves it above this many MB "
    "resident (0: never).",
)
@click.option(
    "--connect-timeout",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Wait this long for the database and object store to answer at start, retrying "
    "with backoff, then exit 69; 0 waits forever (default $HEADWATER_CONNECT_TIMEOUT or 60).",
)
@click.option("--json-logs", is_flag=True, help="Log JSON lines on stderr.")
def up(
    host: str,
    port: int,
    workers: int,
    worker_max_executions: int,
    worker_max_memory_mb: int,
    connect_timeout: float | None,
    json_logs: bool,
) -> None:
    """Run the reactor, scheduler and workers until stopped.

    Workers run executions in child processes, which are replaced (with the memory and module
    globals they hold) after --worker-max-executions executions or after one that leaves them
    above --worker-max-memory-mb.
    """
    from headwater.api.exposure import check_host
    from headwater.daemon.up import run_up
    from headwater.errors import HostError
    from headwater.instance import get_instance

    try:
        check_host(host)
    except HostError as exc:
        raise CliError(str(exc)) from None
    from headwater.daemon.worker import setup_logging, wait_until_reachable

    setup_logging(json_logs)
    waited = wait_until_reachable(None, connect_timeout, who="up")
    if waited is not None:
        raise SystemExit(waited)
    code = run_up(
        get_instance(),
        workers=workers,
        host=host,
        port=port,
        json_logs=json_logs,
        max_executions=worker_max_executions,
        max_memory_mb=worker_max_memory_mb,
    )
    if code:
        raise SystemExit(code)
