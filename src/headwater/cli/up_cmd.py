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
    help="How many worker processes run executions.",
)
@click.option("--json-logs", is_flag=True, help="Log JSON lines on stderr.")
def up(host: str, port: int, workers: int, json_logs: bool) -> None:
    """Run the reactor, scheduler and workers until stopped."""
    from headwater.engine.up import HostError, check_host, run_up
    from headwater.instance import get_instance

    try:
        check_host(host)
    except HostError as exc:
        raise CliError(str(exc)) from None
    code = run_up(get_instance(), workers=workers, host=host, port=port, json_logs=json_logs)
    if code:
        raise SystemExit(code)
