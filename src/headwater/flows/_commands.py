"""What ``python flow.py show|deploy|run`` do once their flags are parsed (``_cli.py``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headwater.flows._spec import FlowSpec


def show(cls: type[FlowSpec]) -> None:
    """``show``: print the flow's parameters and steps."""
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


def deploy(cls: type[FlowSpec], opts: dict[str, Any]) -> int:
    """``deploy``: register and activate the flow, here or on the server; the exit code."""
    from headwater.client import active_remote
    from headwater.flows import _compile

    remote = active_remote()
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
        info = _compile.deploy(
            cls, branch=opts.get("branch"), production=opts.get("production") or None
        )
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


def run_here(
    cls: type[FlowSpec],
    scope: dict[str, Any],
    trigger_event: str | None,
    payload: dict[str, Any] | None,
    params: dict[str, Any],
    max_workers: int | None = None,
) -> int:
    """``run``: run the flow here as a recorded execution; the exit code."""
    from headwater.flows._compile import run

    if max_workers is not None:  # else the run's default
        params = {**params, "max_workers": max_workers}
    ex = run(
        cls,
        trigger=scope.get("trigger"),
        trigger_event=trigger_event,
        payload=payload,
        branch=scope.get("branch"),
        production=scope.get("production") or None,
        **params,
    )
    return _report(cls, ex)


def resume_here(
    cls: type[FlowSpec],
    scope: dict[str, Any],
    origin_run_id: str | None,
    step: str | None,
    max_workers: int | None,
) -> int:
    """``resume``: a new run reusing the origin run's succeeded steps; the exit code."""
    from headwater.flows._resume import resume

    ex = resume(
        cls,
        origin_run_id=origin_run_id,
        step=step,
        max_workers=max_workers,
        branch=scope.get("branch"),
        production=scope.get("production") or None,
    )
    reused = [n.cached_from for n in ex.nodes if n.cached_from]
    origins = sorted({r.split("/")[0] for r in reused})
    print(
        f"Resumed {cls.__name__}: {len(reused)} step task(s) reused"
        + (f" from {', '.join(origins)}" if origins else "")
    )
    return _report(cls, ex)


def _report(cls: type[FlowSpec], ex: Any) -> int:
    pathspec = f"{cls.__name__}/{ex.id}"
    if ex.status.value == "succeeded":
        print(f"Done! {pathspec} succeeded")
        return 0
    err = ex.error or {}
    print(err.get("traceback") or "", file=sys.stderr, end="")
    print(f"{pathspec} {ex.status.value}: {err.get('message')}", file=sys.stderr)
    return 1
