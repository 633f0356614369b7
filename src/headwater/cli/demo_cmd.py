"""``headwater demo``: run the example sales pipeline and show what the engine recorded."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from headwater.cli.app import CliError

REGIONS = ("EU", "US")
DAYS = (datetime(2026, 11, 1), datetime(2026, 11, 2))


def example_path() -> Path:
    """examples/sales_pipeline.py of the source checkout this package runs from."""
    import headwater

    examples = Path(headwater.__file__).resolve().parents[2] / "examples"
    path = examples / "sales_pipeline.py"
    if not path.is_file():
        raise CliError(
            f"the demo runs examples/sales_pipeline.py from a source checkout of "
            f"Headwater, and there is none next to this installation (looked for "
            f"{path}); clone the repository and run `headwater demo` from it"
        )
    return path


def _shown(path: Path) -> str:
    """The path relative to the working directory when it is below it."""
    try:
        return os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)
    except ValueError:
        return str(path)


def _run(entity: Any, label: str, **inputs: Any) -> Any:
    from headwater.cli._views import failure_text, produced_versions
    from headwater.client import run

    ex = run(entity, **inputs)
    click.echo(f"  {label:<30} execution {ex.id}  {ex.status.value}")
    if ex.status.value != "succeeded":
        line, tb = failure_text(ex)
        click.echo(tb, err=True)
        click.echo(f"error: {line}", err=True)
        sys.exit(1)
    return produced_versions(ex)


@click.command()
def demo() -> None:
    """Run the example pipeline and show its lineage."""
    from headwater.cli._output import heading, markdown, table
    from headwater.cli._views import VERSION_HEADERS, version_rows
    from headwater.cli.run_cmd import load_user_module
    from headwater.client import lineage
    from headwater.engine.register.registry import find_entity
    from headwater.instance import get_instance

    path = example_path()
    settings = get_instance().settings
    click.echo(f"instance: {settings.database_url} (blobs: {settings.storage_url})")
    module = load_user_module(str(path))
    etl, train = find_entity(module, "etl"), find_entity(module, "train")

    heading(f"running {_shown(path)}")
    produced = []
    for day in DAYS:
        for region in REGIONS:
            produced += _run(etl, f"etl {region} {day:%Y-%m-%d}", region=region, day=day)
    produced += _run(train, "train (latest EU sales)")

    heading("artifact versions produced")
    table(VERSION_HEADERS, version_rows(produced))
    model = next(v for v in reversed(produced) if v.name == "sales_model")
    for card in model.cards:
        heading(f"{card.kind} card of {model.uri}")
        markdown(card.text)
    heading(f"lineage of {model.uri}")
    click.echo(lineage(model, direction="upstream", depth=3).tree())

    sales = next(
        v
        for v in reversed(produced)
        if v.name == "daily_sales" and v.partitions.get("region") == "EU"
    )
    heading("try next")
    for cmd in (
        "headwater artifacts list",
        "headwater artifacts search --name 'daily_*' -p region=US",
        f"headwater artifacts show {sales.uri}",
        f"headwater artifacts get {model.uri}",
        f"headwater artifacts lineage {sales.uri} --direction down",
        "headwater executions list",
        "headwater events list --name headwater.artifact.created",
        f"headwater run {_shown(path)} etl -i region=US -i day=2026-11-03",
    ):
        click.echo(f"  {cmd}")
