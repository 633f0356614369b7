"""``python flow.py [--branch B] [--production] [--trigger FLOW/RUN_ID] run|resume|show|deploy``.

A click group built for each FlowSpec class when its file runs: ``run`` has one option per
Parameter of the flow (``--name VALUE``, also spelled with dashes; a bool parameter is also a
flag, ``--name`` / ``--no-name``). ``--branch``, ``--production`` and ``--trigger`` go before
or after the command. Exit codes: 0 done, 1 the run failed, 2 bad arguments or a refusal
(``error: ...`` on stderr).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from headwater.errors import HeadwaterError
from headwater.flows import _commands

if TYPE_CHECKING:
    from headwater.flows._spec import FlowSpec, Parameter

# The same as headwater.cli.app's; flows sits beside the cli package, not above it.
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
_SCOPE = ("branch", "production", "trigger")


class _Refused(click.ClickException):
    """A HeadwaterError from a command: ``error: <message>`` on stderr, exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True, file=file)


def _scope_options(*, shown: bool, trigger: bool) -> list[click.Parameter]:
    """--branch/--production/--trigger (and Metaflow's --quiet/--no-pylint, ignored)."""
    return [
        click.Option(
            ["--branch"],
            metavar="NAME",
            default=None,
            hidden=not shown,
            help="Branch of the flow's @project: runs and the launch plan go to test.NAME "
            "(prod.NAME with --production) instead of user.<you>.",
        ),
        click.Option(
            ["--production"],
            is_flag=True,
            hidden=not shown,
            help="Use the @project's production branch (prod, or prod.NAME with --branch).",
        ),
        click.Option(
            ["--trigger"],
            metavar="FLOW/RUN_ID",
            default=None,
            hidden=not trigger,
            help="Run as if that finished run of FLOW had triggered this one "
            "(current.trigger.run); FLOW/RUN_ID as `run` prints it.",
        ),
        click.Option(["--quiet"], is_flag=True, hidden=True, expose_value=False),
        click.Option(["--no-pylint"], is_flag=True, hidden=True, expose_value=False),
    ]


def _scope(ctx: click.Context, given: dict[str, Any]) -> dict[str, Any]:
    """The scope options: given after the command, else before it."""
    outer = ctx.find_root().params
    return {k: given.get(k) or outer.get(k) for k in _SCOPE}


def _shown_flags(ctx: click.Context, command: click.Command) -> list[str]:
    return [
        f
        for p in command.get_params(ctx)
        if isinstance(p, click.Option) and not p.hidden
        for f in p.opts
    ]


class _FlowGroup(click.Group):
    """Turns a HeadwaterError into ``error: ...``; a flow parameter before ``run`` is
    refused with where it goes."""

    def __init__(self, *args: Any, param_flags: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.param_flags = param_flags

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            message = f"No such option {exc.option_name!r}."
            if exc.option_name in self.param_flags:
                message += f" Parameters follow the command: run {exc.option_name} VALUE."
            raise click.NoSuchOption(
                exc.option_name, message, _shown_flags(ctx, self), ctx
            ) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HeadwaterError as exc:
            raise _Refused(str(exc) or type(exc).__name__) from None


class _RunCommand(click.Command):
    """``run``: an unknown option's error also lists the flow's parameters."""

    def __init__(self, *args: Any, param_flags: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.param_flags = param_flags

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            known = ", ".join(self.param_flags) or "none"
            raise click.NoSuchOption(
                exc.option_name,
                f"No such option {exc.option_name!r}. The flow's parameters: {known}.",
                _shown_flags(ctx, self),
                ctx,
            ) from None


def _describe_default(p: Parameter) -> str:
    if p.required:
        return "required"
    if callable(p.default):
        return "default computed when the run starts"
    return f"default {p.default!r}"


def _metavar(tp: Any) -> str:
    if tp == int | float:
        return "NUMBER"
    names = {bool: "BOOLEAN", int: "INTEGER", float: "FLOAT", str: "TEXT"}
    return names.get(tp, "VALUE") if isinstance(tp, type) else "VALUE"


def _param_options(cls: type[FlowSpec]) -> tuple[list[click.Option], list[str]]:
    """The ``run`` options of the flow's Parameters, and their main flags."""
    from headwater.flows._spec import parameters_of

    taken = {"--branch", "--production", "--trigger", "--trigger-event", "--payload"}
    taken.add("--max-workers")
    taken |= {"--quiet", "--no-pylint", "-h", "--help"}
    options: list[click.Option] = []
    flags: list[str] = []
    for i, (name, (_, p)) in enumerate(parameters_of(cls).items()):
        # A parameter named like a built-in option was never reachable; it stays so.
        both = dict.fromkeys([f"--{name}", f"--{name.replace('_', '-')}"])
        spellings = [f for f in both if f not in taken]
        if not spellings:
            continue
        taken.update(spellings)
        flags.append(spellings[0])
        text = p.help.rstrip(".") if p.help else f"Parameter {name}"
        is_bool = p.declared_type is bool
        # a bool parameter alone means true (`--flag`), or takes a value (`--flag no`)
        optional_value: dict[str, Any] = {"flag_value": "true", "is_flag": False}
        options.append(
            click.Option(
                [*spellings, f"p{i}"],
                metavar=_metavar(p.declared_type),
                default=None,
                **(optional_value if is_bool else {}),
                help=f"{text} ({_describe_default(p)})."
                + (f" {spellings[0]} alone means true." if is_bool else ""),
            )
        )
        negatives = [f"--no-{f[2:]}" for f in spellings]
        negatives = [f for f in negatives if f not in taken]
        if is_bool and negatives:
            taken.update(negatives)
            options.append(
                click.Option(
                    [*negatives, f"p{i}_off"],
                    is_flag=True,
                    default=False,
                    help=f"Set {spellings[0]} to false.",
                )
            )
    return options, flags


def _param_values(cls: type[FlowSpec], given: dict[str, Any]) -> dict[str, Any]:
    from headwater.flows._spec import parameters_of

    values: dict[str, Any] = {}
    for i, name in enumerate(parameters_of(cls)):
        if given.get(f"p{i}_off"):
            if given.get(f"p{i}") is not None:
                raise click.UsageError(f"give --{name} or --no-{name}, not both")
            values[name] = False
        elif given.get(f"p{i}") is not None:
            values[name] = given[f"p{i}"]
    return values


def _run_arguments(
    cls: type[FlowSpec], trigger_event: str | None, payload: str | None, given: dict[str, Any]
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """``run``'s payload and parameter values, checked before anything runs."""
    from headwater.errors import MissingInputError, UserInputError
    from headwater.flows._compile import parse_payload
    from headwater.flows._spec import parameters_of

    body = parse_payload(payload) if payload is not None else None
    if body is not None and trigger_event is None:
        raise UserInputError("--payload goes with --trigger-event NAME")
    params = _param_values(cls, given)
    if trigger_event is None:  # else the event's payload may give them
        declared = parameters_of(cls)
        missing = [n for n, (_, p) in declared.items() if p.required and n not in params]
        if missing:
            flags = ", ".join(f"--{n} {_metavar(declared[n][1].declared_type)}" for n in missing)
            raise MissingInputError(
                f"{cls.__name__} needs parameter {', '.join(map(repr, missing))}: give {flags}"
            )
    return body, params


def _max_workers_option() -> click.Option:
    from headwater.flows._parallel import DEFAULT_MAX_WORKERS

    return click.Option(
        ["--max-workers"],
        type=click.IntRange(min=1),
        metavar="N",
        default=None,
        help="How many steps of parallel branches (foreach items, static branches) run at "
        f"once (default {DEFAULT_MAX_WORKERS}); 1 runs them one after the other.",
    )


def build_cli(cls: type[FlowSpec]) -> click.Group:
    """The ``python flow.py`` command group of ``cls``."""
    name = cls.__name__
    doc = (cls.__doc__ or "").strip()
    summary = f"{doc.splitlines()[0]}\n\n" if doc else ""

    def show(**_: Any) -> None:
        _commands.show(cls)

    @click.pass_context
    def deploy(ctx: click.Context, **given: Any) -> None:
        ctx.exit(_commands.deploy(cls, _scope(ctx, given)))

    @click.pass_context
    def run(
        ctx: click.Context,
        trigger_event: str | None,
        payload: str | None,
        max_workers: int | None,
        **given: Any,
    ) -> None:
        body, params = _run_arguments(cls, trigger_event, payload, given)
        ctx.exit(
            _commands.run_here(cls, _scope(ctx, given), trigger_event, body, params, max_workers)
        )

    @click.pass_context
    def resume(
        ctx: click.Context,
        step: str | None,
        origin_run_id: str | None,
        max_workers: int | None,
        **given: Any,
    ) -> None:
        ctx.exit(_commands.resume_here(cls, _scope(ctx, given), origin_run_id, step, max_workers))

    param_options, param_flags = _param_options(cls)
    run_options = [
        click.Option(
            ["--trigger-event"],
            metavar="NAME",
            default=None,
            help="Run as if the event NAME had triggered the flow: its @trigger parameter "
            "mapping fills parameters from --payload (current.trigger.event).",
        ),
        click.Option(
            ["--payload"],
            metavar="JSON",
            default=None,
            help="The event's payload, a JSON object (e.g. '{\"k\": 1}'); goes with "
            "--trigger-event.",
        ),
        _max_workers_option(),
    ]
    return _FlowGroup(
        context_settings=CONTEXT_SETTINGS,
        param_flags=param_flags,
        params=_scope_options(shown=True, trigger=True),
        help=f"{summary}Run, show or deploy the flow {name}. `COMMAND -h` shows a "
        "command's options (`run -h`: the flow's parameters). --branch, --production and "
        "--trigger may also follow the command.",
        commands=[
            _RunCommand(
                "run",
                callback=run,
                params=[*param_options, *run_options, *_scope_options(shown=True, trigger=True)],
                help=f"Run {name} here as a recorded execution.\n\nPrints `Done! {name}/<run "
                "id> succeeded` (exit code 0), or the error when the run fails (exit code 1).",
                context_settings=CONTEXT_SETTINGS,
                param_flags=param_flags,
            ),
            click.Command(
                "resume",
                callback=resume,
                params=[
                    click.Argument(["step"], required=False),
                    click.Option(
                        ["--origin-run-id"],
                        metavar="ID",
                        default=None,
                        help="The run to resume (default: the latest run of the flow).",
                    ),
                    _max_workers_option(),
                    *_scope_options(shown=True, trigger=False),
                ],
                short_help="Run again, reusing the steps that succeeded in a previous run.",
                help=f"Run {name} again with the parameters of a previous run (the latest by "
                "default), reusing the outputs of the steps that succeeded in it and running "
                "the rest; with STEP, that step and the steps after it run again too. The new "
                "run is linked to the one it resumes.",
                context_settings=CONTEXT_SETTINGS,
            ),
            click.Command(
                "show",
                callback=show,
                params=_scope_options(shown=False, trigger=False),
                help="Print the flow's parameters and steps.",
                context_settings=CONTEXT_SETTINGS,
            ),
            click.Command(
                "deploy",
                callback=deploy,
                params=_scope_options(shown=True, trigger=False),
                short_help="Register and activate the flow (its triggers and schedule).",
                help=f"Register {name} with its triggers and schedule, and activate them.\n\n"
                "Into the HEADWATER_* instance by default; with HEADWATER_API_URL the server "
                "registers this file and deploys the flow (--branch/--production: not yet).",
                context_settings=CONTEXT_SETTINGS,
            ),
        ],
    )


def main(cls: type[FlowSpec], argv: Sequence[str]) -> int:
    """Run ``python flow.py ARGV`` for ``cls``; the exit code."""
    prog = f"python {sys.argv[0] if sys.argv and sys.argv[0] else 'flow.py'}"
    try:
        build_cli(cls).main(args=list(argv), prog_name=prog)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0
