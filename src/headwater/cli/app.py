"""The root ``headwater`` command group and its error handling."""

from __future__ import annotations

from typing import IO, Any

import click

from headwater import __version__
from headwater.errors import HeadwaterError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class CliError(click.ClickException):
    """An error the user can fix: ``error: <message>`` on stderr, exit code 2, no traceback."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True, file=file)


class RootGroup(click.Group):
    """Turns every HeadwaterError raised by a command into a CliError."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HeadwaterError as exc:
            raise CliError(str(exc) or type(exc).__name__) from None


@click.group(cls=RootGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(
    __version__, "-V", "--version", prog_name="headwater", message="%(prog)s %(version)s"
)
def cli() -> None:
    """Headwater: reactive workflows with versioned artifacts and recorded lineage."""


def _add_commands() -> None:
    from headwater.cli import (
        artifacts_cmd,
        child_cmd,
        demo_cmd,
        events_cmd,
        executions_cmd,
        gc_cmd,
        graph_cmd,
        launchplans_cmd,
        lineage_cmd,
        run_cmd,
        tokens_cmd,
        up_cmd,
        worker_cmd,
    )

    cli.add_command(run_cmd.run)
    cli.add_command(run_cmd.register)
    cli.add_command(artifacts_cmd.artifacts)
    cli.add_command(executions_cmd.executions)
    cli.add_command(events_cmd.events)
    cli.add_command(launchplans_cmd.launchplans)
    cli.add_command(graph_cmd.graph)
    cli.add_command(lineage_cmd.lineage)
    cli.add_command(gc_cmd.gc)
    cli.add_command(demo_cmd.demo)
    cli.add_command(up_cmd.up)
    cli.add_command(tokens_cmd.tokens)
    cli.add_command(worker_cmd.worker)
    cli.add_command(worker_cmd.reactor)
    cli.add_command(child_cmd.register_process)
    cli.add_command(child_cmd.relaunch_process)


_add_commands()
