"""``python flow.py [--branch B] [--production] [--trigger FLOW/RUN_ID] run|show|deploy [...]``.

A click group built for each FlowSpec class when its file runs: ``run`` has one option per
Parameter of the flow (``--name VALUE``, also spelled with dashes; a bool parameter is also a
flag, ``--name`` / ``--no-name``). ``--branch``, ``--production`` and ``--trigger`` go before
or after the command. Exit codes: 0 done, 1 the run failed, 2 bad arguments or a refusal
(``error: ...`` on stderr).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from headwater.errors import HeadwaterError

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


def build_cli(cls: type[FlowSpec]) -> click.Group:
    """The ``python flow.py`` command group of ``cls``."""
    name = cls.__name__
    doc = (cls.__doc__ or "").strip()
    summary = f"{doc.splitlines()[0]}\n\n" if doc else ""

    def show(**_: Any) -> None:
        _show(cls)

    @click.pass_context
    def deploy(ctx: click.Context, **given: Any) -> None:
        ctx.exit(_deploy(cls, _scope(ctx, given)))

    @click.pass_context
    def run(
        ctx: click.Context, trigger_event: str | None, payload: str | None, **given: Any
    ) -> None:
        ctx.exit(_run(cls, _scope(ctx, given), trigger_event, payload, _param_values(cls, given)))

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


def _show(cls: type[FlowSpec]) -> None:
    from headwater.flows._spec import parameters_of

    doc = (cls.__doc__ or "").strip()
    print(f"Flow {cls.__name__}" + (f": {doc.splitlines()[0]}" if doc else ""))
    params = parameters_of(cls)
    if params:
        print("\nParameters:")
        for name, (_, p) in params.items():
            extra = "required" if p.required else f"default {p.default!r}"
            print(f"  {name} ({extra}){': ' + p.help if p.help else ''}")
    print()
    print(cls._headwater_graph.describe(), end="")


def _deploy(cls: type[FlowSpec], opts: dict[str, Any]) -> int:
    from headwater.client import _remote
    from headwater.flows._compile import deploy

    remote = _remote()
    if remote is not None:  # HEADWATER_API_URL: the server registers the file and deploys it
        if opts.get("branch") or opts.get("production"):
            print(
                "error: --branch/--production are not supported when deploying to a server "
                "yet; set the branch with @project",
                file=sys.stderr,
            )
            return 2
        source = Path(sys.modules[cls.__module__].__file__ or "").resolve()
        found = [
            i
            # Named: `deploy` activates the flow even when it has no trigger or schedule.
            for i in remote.register(source, None, None, [cls.__name__])
            if getattr(i, "kind", "").startswith("launch plan")
            and i.name == cls.__name__
            and i.active
        ]
        if not found:
            print(f"error: the server did not deploy {cls.__name__}", file=sys.stderr)
            return 1
        info = found[-1]
    else:
        info = deploy(cls, branch=opts.get("branch"), production=opts.get("production") or None)
    triggers = info.spec.get("triggers") or []
    sched = info.spec.get("schedule")
    print(
        f"Deployed {cls.__name__} to {info.project}/{info.domain} (launch plan {info.name} "
        f"version {info.version}, active)"
    )
    for t in triggers:
        print(f"  trigger: {_describe(t)}")
    if sched:
        print(
            f"  schedule: {sched['schedule']}"
            + (f" ({sched['timezone']})" if sched.get("timezone") else "")
        )
    return 0


def _describe(spec: dict[str, Any]) -> str:
    kind = spec.get("kind")
    if kind == "event":
        return f"event {spec['name']}"
    if kind == "finish":
        return f"finish of {spec['project']}.{spec['domain']}.{spec['workflow']}"
    if kind == "all":
        within = spec.get("within")
        body = " and ".join(_describe(p) for p in spec["parts"])
        return f"all of ({body})" + (f" within {within:g} s" if within else "")
    return str(kind)


def _run(
    cls: type[FlowSpec],
    opts: dict[str, Any],
    trigger_event: str | None,
    payload_text: str | None,
    params: dict[str, Any],
) -> int:
    from headwater.errors import MissingInputError, UserInputError
    from headwater.flows._compile import parse_payload, run
    from headwater.flows._spec import parameters_of

    payload = parse_payload(payload_text) if payload_text is not None else None
    if payload is not None and trigger_event is None:
        raise UserInputError("--payload goes with --trigger-event NAME")
    if trigger_event is None:  # else the event's payload may give them
        missing = [n for n, (_, p) in parameters_of(cls).items() if p.required and n not in params]
        if missing:
            raise MissingInputError(
                f"{cls.__name__} needs parameter {', '.join(map(repr, missing))}: give "
                + ", ".join(
                    f"--{n} {_metavar(parameters_of(cls)[n][1].declared_type)}" for n in missing
                )
            )
    ex = run(
        cls,
        trigger=opts.get("trigger"),
        trigger_event=trigger_event,
        payload=payload,
        branch=opts.get("branch"),
        production=opts.get("production") or None,
        **params,
    )
    pathspec = f"{cls.__name__}/{ex.id}"
    if ex.status.value == "succeeded":
        print(f"Done! {pathspec} succeeded")
        return 0
    err = ex.error or {}
    print(err.get("traceback") or "", file=sys.stderr, end="")
    print(f"{pathspec} {ex.status.value}: {err.get('message')}", file=sys.stderr)
    return 1
