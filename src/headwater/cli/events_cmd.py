"""``headwater events list|show|emit|replay``."""

from __future__ import annotations

from typing import Any

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
@click.option("--source", help="The event's source, when several sources sent this id.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(event_id: str, source: str | None, as_json: bool) -> None:
    """An event with its payload."""
    from headwater.cli._views import print_event_detail
    from headwater.client import get_event

    event = get_event(event_id, source)
    if as_json:
        emit_json(event.to_dict())
    else:
        print_event_detail(event)


@events.command()
@click.argument("name")
@click.option("--payload", default="{}", help="The payload, a JSON object.")
@click.option(
    "--id",
    "event_id",
    help="The event id. The same source and id again is the same event (stored once); "
    "with another payload it is refused.",
)
@click.option("--source", help="Who sends it (a URI).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def emit(name: str, payload: str, event_id: str | None, source: str | None, as_json: bool) -> None:
    """Send a custom event to the launch plans listening for it."""
    import json

    from headwater.client import emit_event

    try:
        body = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--payload") from None
    sent = emit_event(name, body, id=event_id, source=source)
    if as_json:
        emit_json({"id": sent, "name": name})
    else:
        click.echo(sent)


@events.command()
@click.option("--since", required=True, help="Replay events from this time (ISO 8601).")
@click.option("--until", help="Up to (not including) this time (ISO 8601).")
@click.option("--launch-plan", "launch_plan", required=True, help="The launch plan to deliver to.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def replay(since: str, until: str | None, launch_plan: str, as_json: bool) -> None:
    """Deliver past events again to one launch plan.

    What already fired for an event is not fired again. With HEADWATER_API_URL set, the
    server replays them.
    """
    from headwater.client import active_remote as remote
    from headwater.engine.publish.artifacts import epoch_seconds

    start, end = epoch_seconds(since), None if until is None else epoch_seconds(until)
    server = remote()
    decisions: list[Any]
    if server is not None:
        decisions = server.replay(launch_plan, start, end)
    else:
        from headwater.engine.react.reactor import Reactor
        from headwater.instance import get_instance

        decisions = Reactor(get_instance()).replay(launch_plan, start, end)
    rows = [[d.event_id, d.outcome, d.reason, d.execution_id or "-"] for d in decisions]
    if as_json:
        emit_json(
            [
                {
                    "event_id": d.event_id,
                    "outcome": d.outcome,
                    "reason": d.reason,
                    "execution_id": d.execution_id,
                }
                for d in decisions
            ]
        )
    else:
        table(
            ["EVENT", "OUTCOME", "REASON", "EXECUTION"],
            rows,
            empty="no past events reach this launch plan's triggers",
        )
