"""The hidden ``headwater register-process`` and ``headwater relaunch-process``.

The HTTP server never imports registered code; it runs these in a child process instead
(``engine/isolated.py``), as ``python -m headwater.engine.register.register_process`` and ``python -m
headwater.engine.execute.relaunch_process``, whose ``__main__`` runs these commands. Each writes its
answer as JSON to ``--result``. Like ``worker_cmd``, this module imports only click at the top.
"""

from __future__ import annotations

from pathlib import Path

import click

# Mirrors app.CONTEXT_SETTINGS (see worker_cmd).
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

_result = click.option(
    "--result",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help='Write the answer here as JSON: the result, or {"error": {"type", "message"}}.',
)


@click.command("register-process", hidden=True, context_settings=CONTEXT_SETTINGS)
@_result
@click.option("--digest", required=True, help="The stored code snapshot to import the module from.")
@click.option("--module", required=True, help="The module to register (dotted name).")
@click.option(
    "--activate",
    required=True,
    metavar="JSON",
    help="Which launch plans to activate, as JSON: true, false or a list of names.",
)
@click.option("--project", required=True, help="Project to register into; '' for the default.")
@click.option("--domain", required=True, help="Domain to register into; '' for the default.")
@click.pass_context
def register_process(
    ctx: click.Context,
    result: Path,
    digest: str,
    module: str,
    activate: str,
    project: str,
    domain: str,
) -> None:
    """Register MODULE from an uploaded snapshot (what the API server runs in a child).

    Exit codes: 0 registered, 1 refused or failed (the reason is in --result), 2 for bad
    arguments.
    """
    import json

    from headwater.engine.register.register_process import run_register

    try:
        activate_value = json.loads(activate)
    except ValueError:
        raise click.BadParameter(
            f"{activate!r} is not JSON (true, false or a list of launch plan names)",
            param_hint="'--activate'",
        ) from None
    ctx.exit(
        run_register(
            result=result,
            digest=digest,
            module=module,
            activate=activate_value,
            project=project or None,
            domain=domain or None,
        )
    )


@click.command("relaunch-process", hidden=True, context_settings=CONTEXT_SETTINGS)
@_result
@click.option(
    "--request",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The request, as JSON: execution, inputs, text_inputs and allowed_project.",
)
@click.pass_context
def relaunch_process(ctx: click.Context, result: Path, request: Path) -> None:
    """Relaunch an execution with overrides (what the API server runs in a child).

    Exit codes: 0 relaunched, 1 refused or failed (the reason is in --result), 2 for bad
    arguments.
    """
    from headwater.engine.execute.relaunch_process import run_relaunch

    ctx.exit(run_relaunch(result=result, request=request))
