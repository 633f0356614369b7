"""``python flow.py [--branch B] [--production] [--trigger Flow/id] run|show|deploy [...]``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater.errors import HeadwaterError

if TYPE_CHECKING:
    from headwater.flows._spec import FlowSpec

USAGE = """\
usage: python {file} [--branch NAME] [--production] [--trigger FLOW/RUN_ID] COMMAND [options]

commands:
  run [--PARAM VALUE ...] [--trigger FLOW/RUN_ID] [--trigger-event NAME [--payload JSON]]
                  run the flow here as a recorded execution
  show            print the steps of the flow
  deploy          register the flow with its triggers and schedule, and activate them
"""


class _Usage(Exception):
    pass


def _take(args: list[str], i: int, flag: str) -> tuple[str, int]:
    if "=" in args[i]:
        return args[i].split("=", 1)[1], i + 1
    if i + 1 >= len(args):
        raise _Usage(f"{flag} needs a value")
    return args[i + 1], i + 2


def _parse(cls: type[FlowSpec], argv: Sequence[str]) -> tuple[str, dict[str, Any]]:
    from headwater.flows._spec import parameters_of

    args = list(argv)
    opts: dict[str, Any] = {"params": {}}
    command = None
    params = parameters_of(cls)
    by_flag = {}
    for name, (_, p) in params.items():
        by_flag[f"--{name}"] = p
        by_flag[f"--{name.replace('_', '-')}"] = p
    i = 0
    while i < len(args):
        a = args[i]
        flag = a.split("=", 1)[0]
        if flag in ("-h", "--help"):
            opts["help"] = True
            i += 1
        elif flag == "--branch":
            opts["branch"], i = _take(args, i, flag)
        elif flag == "--production":
            opts["production"] = True
            i += 1
        elif flag == "--trigger":
            opts["trigger"], i = _take(args, i, flag)
        elif flag in ("--quiet", "--no-pylint"):
            i += 1
        elif command is None and not a.startswith("-"):
            command = a
            i += 1
        elif command == "run" and flag == "--trigger-event":
            opts["trigger_event"], i = _take(args, i, flag)
        elif command == "run" and flag == "--payload":
            opts["payload"], i = _take(args, i, flag)
        elif command == "run" and flag in by_flag:
            p = by_flag[flag]
            if (
                p.declared_type is bool
                and "=" not in a
                and (i + 1 >= len(args) or args[i + 1].startswith("--"))
            ):
                opts["params"][p.name] = True
                i += 1
            else:
                opts["params"][p.name], i = _take(args, i, flag)
        elif command == "run" and flag.startswith("--no-") and flag[5:] in params:
            opts["params"][flag[5:]] = False
            i += 1
        else:
            known = ", ".join(f"--{n}" for n in params) or "none"
            raise _Usage(f"unknown option {a!r} (parameters: {known})")
    if opts.get("help"):
        return "help", opts
    if command is None:
        raise _Usage("no command given")
    if command not in ("run", "show", "deploy"):
        raise _Usage(f"unknown command {command!r}")
    return command, opts


def _help(cls: type[FlowSpec]) -> str:
    from headwater.flows._spec import parameters_of

    text = USAGE.format(file=sys.argv[0] if sys.argv else "flow.py")
    params = parameters_of(cls)
    if params:
        text += "\nparameters:\n"
        for name, (_, p) in params.items():
            extra = " (required)" if p.required else f" (default {p.default!r})"
            text += f"  --{name} {p.help}{extra}\n"
    return text


def main(cls: type[FlowSpec], argv: Sequence[str]) -> int:
    try:
        command, opts = _parse(cls, argv)
    except _Usage as exc:
        print(_help(cls), file=sys.stderr)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if command == "help":
        print(_help(cls))
        return 0
    try:
        if command == "show":
            return _show(cls)
        if command == "deploy":
            return _deploy(cls, opts)
        return _run(cls, opts)
    except HeadwaterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _show(cls: type[FlowSpec]) -> int:
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
    return 0


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


def _run(cls: type[FlowSpec], opts: dict[str, Any]) -> int:
    from headwater.flows._compile import parse_payload, run

    payload = parse_payload(opts["payload"]) if "payload" in opts else None
    if payload is not None and "trigger_event" not in opts:
        raise _usage_error("--payload goes with --trigger-event NAME")
    ex = run(
        cls,
        trigger=opts.get("trigger"),
        trigger_event=opts.get("trigger_event"),
        payload=payload,
        branch=opts.get("branch"),
        production=opts.get("production") or None,
        **opts["params"],
    )
    pathspec = f"{cls.__name__}/{ex.id}"
    if ex.status.value == "succeeded":
        print(f"Done! {pathspec} succeeded")
        return 0
    err = ex.error or {}
    print(err.get("traceback") or "", file=sys.stderr, end="")
    print(f"{pathspec} {ex.status.value}: {err.get('message')}", file=sys.stderr)
    return 1


def _usage_error(message: str) -> HeadwaterError:
    from headwater.errors import UserInputError

    return UserInputError(message)
