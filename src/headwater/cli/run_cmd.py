"""``headwater run`` and ``headwater register``."""

from __future__ import annotations

import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

import click

from headwater.cli._output import emit_json, table
from headwater.cli._params import coerce_inputs, key_values
from headwater.cli.app import CliError
from headwater.errors import HeadwaterError


def load_user_module(path: str) -> ModuleType:
    """Import the user's file or module; an exception in their code is a CLI error."""
    from headwater.cli._views import user_frames
    from headwater.engine.register.registry import load_module

    if path.endswith(".py") and not Path(path).exists():
        raise CliError(f"{path}: no such file")
    try:
        return load_module(path)
    except HeadwaterError:
        raise
    except Exception as exc:
        text = "".join(traceback.format_exception(exc))
        click.echo(user_frames(text).rstrip("\n"), err=True)
        raise CliError(f"could not import {path}: {type(exc).__name__}: {exc}") from None


@click.command()
@click.argument("path")
@click.argument("name")
@click.option(
    "-i",
    "--input",
    "inputs",
    multiple=True,
    metavar="KEY=VALUE",
    callback=key_values,
    help="An input value, converted to the declared type "
    "(repeatable). hw:// URIs name artifact versions.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the execution as JSON.")
def run(path: str, name: str, inputs: dict[str, str], as_json: bool) -> None:
    """Run a workflow or task from a Python file."""
    from headwater.cli._views import report_run
    from headwater.client import run as run_entity
    from headwater.engine.register.registry import find_entity

    module = load_user_module(path)
    entity = find_entity(module, name)
    values = coerce_inputs(entity, inputs)
    report_run(run_entity(entity, **values), as_json)


@click.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option(
    "--activate",
    is_flag=True,
    help="Activate the launch plans that have a trigger or a schedule (and deploy flows that do).",
)
@click.option(
    "--activate-all", is_flag=True, help="Activate every launch plan, default ones included."
)
@click.option(
    "--activate-plan",
    "plans",
    multiple=True,
    metavar="NAME",
    help="Activate the launch plan (or flow) of this name (repeatable).",
)
@click.option("--no-warnings", is_flag=True, help="Do not print registration warnings.")
@click.option("--json", "as_json", is_flag=True, help="Print what was registered as JSON.")
def register(
    paths: tuple[str, ...],
    activate: bool,
    activate_all: bool,
    plans: tuple[str, ...],
    no_warnings: bool,
    as_json: bool,
) -> None:
    """Register the tasks, workflows and launch plans of files. With HEADWATER_API_URL set,
    the files' code is uploaded to the server, which registers it."""
    from headwater.client import active_remote
    from headwater.client import register as register_path

    if sum((activate, activate_all, bool(plans))) > 1:
        raise CliError("give one of --activate, --activate-all and --activate-plan")
    if plans and len(paths) > 1:
        raise CliError("--activate-plan names plans of one file; give one PATH")
    what: Any = "all" if activate_all else list(plans) if plans else activate
    # In client mode the server imports the uploaded code (in a child process): the module
    # need not be importable here, and its import errors come back from the server.
    local = active_remote() is None
    done: list[Any] = []
    warnings: list[str] = []
    for path in paths:
        if local:
            load_user_module(path)
        found = register_path(path, activate=what)
        done.extend(found)
        warnings.extend(getattr(found, "warnings", []))
    if not no_warnings:
        for text in dict.fromkeys(warnings):
            click.echo(f"warning: {text}", err=True)
    if as_json:
        emit_json([r.to_dict() for r in done])
        return
    table(
        ["NAME", "KIND", "VERSION", "PROJECT"],
        [[r.name, r.kind, r.version, f"{r.project}/{r.domain}"] for r in done],
        empty="no tasks or workflows found",
    )
