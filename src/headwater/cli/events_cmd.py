"""``headwater events list|show``."""

from __future__ import annotations

import click

from headwater.cli._output import emit_json, table
from headwater.cli.app import CONTEXT_SETTINGS


@click.group(context_settings=CONTEXT_SETTINGS)
def events() -> None:
    """List and inspect events."""


@events.command("list")
@click.option("--name", help="Only events with exactly this name.")
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="At most this many events.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(name: str | None, limit: int, as_json: bool) -> None:
    """Events, newest first."""
    from headwater.cli._views import EVENT_HEADERS, event_rows
    from headwater.client import list_events

    found = list_events(name=name, limit=limit)
    if as_json:
        emit_json([e.to_dict() for e in found])
    else:
        table(EVENT_HEADERS, event_rows(found), empty="no events found")


@events.command()
@click.argument("event_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(event_id: str, as_json: bool) -> None:
    """An event with its payload."""
    from headwater.cli._views import print_event_detail
    from headwater.client import get_event

    event = get_event(event_id)
    if as_json:
        emit_json(event.to_dict())
    else:
        print_event_detail(event)
