"""``headwater graph``: the meta-workflow graph as text, JSON, Graphviz DOT or Mermaid."""

from __future__ import annotations

import click

from headwater.cli._output import emit_json
from headwater.cli.app import CONTEXT_SETTINGS

FORMATS = ("text", "json", "dot", "mermaid")


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="json includes the warnings; the others print them to stderr.",
)
@click.option("--project", help="This project's graph (default: HEADWATER_PROJECT; '*': all).")
@click.option("--domain", help="Only this domain (default: every domain).")
def graph(fmt: str, project: str | None, domain: str | None) -> None:
    """Show how workflows, artifacts, events and plans connect.

    Workflows, the artifacts and events they produce, the launch plans listening to them and
    the workflows those start (from registrations and triggers), with each workflow's last
    run and recent failures. Warns about triggers listening to a name nothing declares.

    \b
    headwater graph --format dot | dot -Tsvg > graph.svg
    headwater graph --format mermaid > graph.mmd
    """
    from headwater.client import graph as read

    g = read(project, domain)
    if fmt == "json":
        emit_json(g.to_dict())
        return
    click.echo(g.to_dot() if fmt == "dot" else g.to_mermaid() if fmt == "mermaid" else str(g))
    for w in g.warnings:
        click.echo(f"warning: {w.message}", err=True)
