"""``headwater artifacts list|search|show|get|create|lineage``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from headwater.cli._output import emit_json, table
from headwater.cli._params import iso_time, key_values
from headwater.cli.app import CONTEXT_SETTINGS, CliError

DIRECTIONS = {
    "up": "upstream",
    "upstream": "upstream",
    "down": "downstream",
    "downstream": "downstream",
    "both": "both",
}
GET_PREVIEW_LIMIT = 10_000

_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
_limit_option = click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="At most this many versions.",
)


@click.group(context_settings=CONTEXT_SETTINGS)
def artifacts() -> None:
    """List, show, get, create and trace artifacts."""


def _print_versions(found: list[Any], as_json: bool) -> None:
    from headwater.cli._views import VERSION_HEADERS, version_json, version_rows

    if as_json:
        emit_json([version_json(v) for v in found])
    else:
        table(VERSION_HEADERS, version_rows(found), empty="no artifact versions found")


@artifacts.command("list")
@click.option("--name", help="Only versions of this artifact (* wildcards allowed).")
@_limit_option
@_json_option
def list_(name: str | None, limit: int, as_json: bool) -> None:
    """The newest artifact versions, newest first."""
    from headwater.client import search_artifacts

    _print_versions(search_artifacts(name=name, limit=limit), as_json)


@artifacts.command()
@click.option("--name", help="Artifact name; * matches any characters (daily_*).")
@click.option(
    "-p",
    "--partition",
    "partitions",
    multiple=True,
    metavar="KEY=VALUE",
    callback=key_values,
    help="A partition value to match (repeatable).",
)
@click.option(
    "--since",
    callback=iso_time,
    metavar="ISO",
    help="Created at or after this time (e.g. 2026-11-01 or 2026-11-01T13:00Z).",
)
@click.option("--until", callback=iso_time, metavar="ISO", help="Created before this time.")
@click.option(
    "--time-from", metavar="ISO", help="Time partition at or after this (e.g. 2026-11-01)."
)
@click.option(
    "--time-to", metavar="ISO", help="Time partition at or before this (a date: that whole day)."
)
@click.option("--text", metavar="WORDS", help="Words a card of the version holds (any case).")
@click.option(
    "--latest",
    is_flag=True,
    help="Only the newest match per artifact, partitions and time partition.",
)
@_limit_option
@_json_option
def search(
    name: str | None,
    partitions: dict[str, str],
    since: datetime | None,
    until: datetime | None,
    time_from: str | None,
    time_to: str | None,
    text: str | None,
    latest: bool,
    limit: int,
    as_json: bool,
) -> None:
    """Search versions by name, partitions, dates or card text."""
    from headwater.client import search_artifacts

    found = search_artifacts(
        name=name,
        partitions=partitions,
        since=since,
        until=until,
        limit=limit,
        time_from=time_from,
        time_to=time_to,
        text=text,
        latest=latest,
    )
    _print_versions(found, as_json)


@artifacts.command()
@click.argument("uri")
@_json_option
def show(uri: str, as_json: bool) -> None:
    """Every field of a version, and its cards."""
    from headwater.cli._views import print_version_detail, version_json
    from headwater.client import get_artifact

    version = get_artifact(uri)
    if as_json:
        emit_json(version_json(version, cards=True))
    else:
        print_version_detail(version)


@artifacts.command()
@click.argument("uri")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    metavar="PATH",
    help="Write the stored value (file, directory or serialized bytes) here.",
)
def get(uri: str, output: Path | None) -> None:
    """Download a version's value, or print it."""
    from headwater.client import get_artifact

    version = get_artifact(uri)
    if output is not None:
        try:
            written = version.download(output)
        except (ValueError, OSError) as exc:
            raise CliError(f"cannot download {version.uri} to {output}: {exc}") from None
        click.echo(f"{version.uri} -> {written}")
        return
    click.echo(_value_text(version))


def _value_text(version: Any) -> str:
    """The value as text: JSON values in full, other values as their own text, clipped."""
    lit = version.literal
    fmt = lit.get("format")
    if fmt == "json" and "value" in lit:
        return json.dumps(lit["value"], indent=2, ensure_ascii=False, default=str)
    if fmt == "none":
        return "None"
    if fmt in ("file", "directory", "bytes"):
        return (
            f"{lit.get('preview', fmt)}\n(use `headwater artifacts get {version.uri} "
            "-o PATH` to download it)"
        )
    try:
        value = version.value()
    except Exception as exc:  # e.g. a pickled class this process cannot import
        click.echo(
            f"note: cannot load the value here ({type(exc).__name__}: {exc}); "
            "showing the stored preview",
            err=True,
        )
        return str(lit.get("preview", ""))
    text = value if isinstance(value, str) else str(value)
    if len(text) > GET_PREVIEW_LIMIT:
        text = text[:GET_PREVIEW_LIMIT] + (
            f"\n... ({len(text) - GET_PREVIEW_LIMIT} more "
            "characters; use -o PATH for the whole value)"
        )
    return text


@artifacts.command()
@click.argument("name")
@click.option("--value", "value_json", metavar="JSON", help="The value, as JSON text.")
@click.option(
    "--file",
    "file_path",
    type=click.Path(exists=True, path_type=Path),
    help="Publish this file (or directory) as the value.",
)
@click.option(
    "-p",
    "--partition",
    "partitions",
    multiple=True,
    metavar="KEY=VALUE",
    callback=key_values,
    help="A partition value (repeatable).",
)
@click.option(
    "--time-partition",
    callback=iso_time,
    metavar="ISO",
    help="The time partition (makes the artifact time partitioned).",
)
@click.option(
    "--granularity",
    type=click.Choice(["minute", "hour", "day", "month"]),
    default="day",
    show_default=True,
    help="How finely time partitions are cut.",
)
@click.option(
    "--partition-keys",
    metavar="K1,K2",
    help="Declared partition keys (default: the keys given with -p).",
)
@click.option(
    "--card-md",
    "cards",
    multiple=True,
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A Markdown card to attach (repeatable).",
)
@click.option(
    "--card-kind",
    type=click.Choice(["data", "model"]),
    default="data",
    show_default=True,
    help="Whether the --card-md cards are data or model cards.",
)
@click.option("--description", default="", help="The artifact's description.")
@_json_option
def create(
    name: str,
    value_json: str | None,
    file_path: Path | None,
    partitions: dict[str, str],
    time_partition: datetime | None,
    granularity: str,
    partition_keys: str | None,
    cards: tuple[Path, ...],
    card_kind: str,
    description: str,
    as_json: bool,
) -> None:
    """Publish a version from outside a workflow."""
    from headwater import Artifact, DataCard, Directory, File, Granularity, ModelCard
    from headwater.cli._views import print_version_detail, version_json
    from headwater.client import create_artifact
    from headwater.definitions.cards import Card

    if (value_json is None) == (file_path is None):
        raise click.UsageError("give exactly one of --value JSON or --file PATH")
    value: Any
    if value_json is not None:
        try:
            value = json.loads(value_json)
        except ValueError as exc:
            raise click.BadParameter(
                f"not valid JSON ({exc}); a text value is quoted: --value '\"text\"'",
                param_hint="'--value'",
            ) from None
    else:
        assert file_path is not None
        value = Directory(str(file_path)) if file_path.is_dir() else File(str(file_path))
    if partition_keys is None:
        keys = list(partitions)
        _check_declaration(name, keys, time_partition is not None)
    else:
        keys = [k.strip() for k in partition_keys.split(",") if k.strip()]
        missing = [k for k in keys if k not in partitions]
        if missing:
            raise click.UsageError(
                f"--partition-keys declares {', '.join(missing)}; give "
                + " ".join(f"-p {k}=VALUE" for k in missing)
            )
    artifact = Artifact(
        name,
        partition_keys=keys,
        time_partitioned=time_partition is not None,
        time_partition_granularity=Granularity(granularity) if time_partition else None,
        description=description,
    )
    card_cls: Callable[[str], Card] = ModelCard if card_kind == "model" else DataCard
    try:
        card_list = [card_cls(p.read_text(encoding="utf-8")) for p in cards]
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read the card: {exc}") from None
    version = create_artifact(
        artifact, value, time_partition=time_partition, cards=card_list, **partitions
    )
    if as_json:
        emit_json(version_json(version, cards=True))
    else:
        click.echo(f"published {version.uri}")
        print_version_detail(version)


def _check_declaration(name: str, keys: list[str], timed: bool) -> None:
    """Refuse to silently re-declare an existing artifact with other partitions."""
    from headwater.client import search_artifacts
    from headwater.errors import PartitionError

    project, domain = _publish_scope()
    latest = search_artifacts(name=name, limit=1, project=project, domain=domain)
    if not latest:
        return
    prev = latest[0]
    prev_keys = sorted(prev.partitions)
    prev_timed = prev.time_partition is not None
    if prev_keys == sorted(keys) and prev_timed == timed:
        return
    needed = " ".join(f"-p {k}=..." for k in prev_keys)
    if prev_timed:
        needed = f"{needed} --time-partition ISO".strip()
    declared = f"partition keys {', '.join(prev_keys)}" if prev_keys else "no partition keys"
    declared += " and a time partition" if prev_timed else " and no time partition"
    raise PartitionError(
        f"artifact {name!r} is declared with {declared} ({prev.uri}); give "
        f"{needed or 'no -p and no --time-partition'}, or pass --partition-keys to change "
        "its declaration"
    )


def _publish_scope() -> tuple[str, str]:
    """The project and domain ``create`` publishes to: the instance's, or in client mode
    HEADWATER_PROJECT/HEADWATER_DOMAIN (the scope client mode assumes for the server too),
    without opening the embedded instance."""
    from headwater.client import active_remote as remote

    if remote() is not None:
        from headwater.settings import Settings

        settings = Settings.from_env()
        return settings.project, settings.domain
    from headwater.instance import get_instance

    inst = get_instance()
    return inst.project, inst.domain


@artifacts.command()
@click.argument("uri")
@click.option(
    "--direction",
    type=click.Choice(list(DIRECTIONS)),
    default="both",
    show_default=True,
    help="Where to walk: up(stream), down(stream) or both.",
)
@click.option(
    "--depth",
    default="3",
    show_default=True,
    metavar="N|all",
    help="Generations to walk each way; 'all' walks to the ends, printing as it goes.",
)
@_json_option
def lineage(uri: str, direction: str, depth: str, as_json: bool) -> None:
    """Where a version came from and what used it."""
    from headwater.client import lineage as lineage_of
    from headwater.engine.publish.lineage import check_depth

    generations = check_depth(depth)
    if generations is None and not as_json:
        _print_lineage_as_walked(uri, DIRECTIONS[direction])
        return
    graph = lineage_of(uri, direction=DIRECTIONS[direction], depth=generations)
    if as_json:
        click.echo(graph.to_json())
    else:
        click.echo(graph.tree())


def _print_lineage_as_walked(uri: str, direction: str) -> None:
    """One line per edge, a generation (or a server's page) at a time: a walk of any length
    prints without holding the whole graph (only the labels of the last two pieces)."""
    from headwater.client import lineage_pages
    from headwater.engine.publish.lineage import PRODUCED, TRIGGERED

    labels: dict[str, str] = {}
    previous: dict[str, str] = {}
    for i, page in enumerate(lineage_pages(uri, direction=direction, depth=None)):
        current = {n.id: n.label for n in page.nodes}
        labels = previous | current
        previous = current
        if i == 0:
            click.echo(labels.get(page.root, page.root))
        for e in page.edges:
            source, target = labels.get(e.source, e.source), labels.get(e.target, e.target)
            if e.kind == PRODUCED:
                click.echo(f"{target} <- produced ({e.name}) by {source}")
            elif e.kind == TRIGGERED:
                click.echo(f"{target} <- {e.name} by {source}")
            else:
                click.echo(f"{target} <- consumed ({e.name}) {source}")
