"""Reactor throughput on a burst of new artifact versions, each firing a launch plan that
takes the version as its input: SQLite and PostgreSQL.

Set-up: one artifact ``burst_a``, a workflow ``take(x: int)`` and two launch plans on it:
``on_version`` (``OnArtifact(trigger_on=A, inputs={"x": A})``: binding the input reads the
version) and ``on_event`` (``OnEvent("burst.poke", parameters=["x"])``: the value comes with the
event). ``N`` versions are published with ``headwater.create_artifact`` (one transaction each),
then, as a second burst, ``N`` custom events with ``headwater.emit_event``. Timed: only the
reactor deciding each burst in-process (``Reactor.run_once()`` until it returns 0, batch 500,
what ``headwater up`` uses); each decided burst is checked: ``N`` executions queued, each
with the value its event carried.

The floor is the custom-event burst of the same run and backend: the same firings with the
value in the payload, so ratio = artifact events/s / custom events/s says what reading the
versions costs (1.0: nothing). Before the versions were read with the batch's events, each
version took a lookup of its own while deciding: on PostgreSQL a round trip per event
(~1,450 artifact events/s against ~8,000 custom events/s, ratio ~0.2).

``--quick``: 1,000 versions per backend instead of 5,000.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

N = 1_000 if c.QUICK else 5_000
MODULE = "hwbench_artifact_burst"
FLOWS = """\
from headwater import Artifact, LaunchPlan, OnArtifact, OnEvent, workflow

A = Artifact(name="burst_a")


@workflow
def take(x: int) -> int:
    return x


on_version = LaunchPlan.create("on_version", take, trigger=OnArtifact(trigger_on=A, inputs={"x": A}))
on_event = LaunchPlan.create("on_event", take, trigger=OnEvent("burst.poke", parameters=["x"]))
"""
TARGET_RATIO = 0.4  # artifact events/s at least 0.4 of the custom events' (both backends)


def decide(inst: Any) -> float:
    from headwater.engine.react.reactor import Reactor

    reactor = Reactor(inst)
    t0 = time.perf_counter()
    decided = 0
    while n := reactor.run_once():
        decided += n
    took = time.perf_counter() - t0
    c.check(decided == N, f"decided {decided} events, expected {N}")
    return N / took


def check_bound(inst: Any, plan: str) -> None:
    with inst.db.read() as tx:
        rows = tx.all(
            "SELECT inputs FROM executions WHERE launch_plan = :lp ORDER BY event_seq", {"lp": plan}
        )
    got = [json.loads(r["inputs"])["x"]["value"] for r in rows]
    c.check(got == list(range(N)), f"{plan}: {len(got)} executions, values not 0..{N - 1}")


def run(backend: str, url: str, tmp: Path, mod: Any) -> None:
    import headwater
    from headwater.instance import Instance
    from headwater.settings import Settings

    inst = Instance(Settings.from_env({}, home=tmp / f"home-{backend}", database_url=url))
    try:
        with inst.use():
            headwater.register(MODULE, activate=True)
            for i in range(N):
                headwater.create_artifact(mod.A, i)
            artifact = decide(inst)
            check_bound(inst, "on_version")
            for i in range(N):
                headwater.emit_event("burst.poke", {"x": i})
            custom = decide(inst)
            check_bound(inst, "on_event")
    finally:
        inst.close()
    label = f"{backend}: {N:,} artifact versions, each firing"
    c.floor_line(label, artifact, custom, "events/s", True)
    c.record(f"{backend} artifact-event burst", artifact, "events/s", custom)
    c.target(
        f"{backend}: time per artifact event (target: under 1/{TARGET_RATIO:g} x a custom event's)",
        1.0 / artifact,
        1.0 / (custom * TARGET_RATIO),
        f"{artifact:,.0f} / {custom:,.0f} events/s = ratio {artifact / custom:.2f}",
    )


def main() -> None:
    c.install_signal_handlers()
    c.header(
        "bench_artifact_burst",
        f"reactor, a burst of {N:,} new versions each firing a launch plan that takes the "
        "version, beside the same burst of custom events (the floor); SQLite and PostgreSQL",
    )
    with c.temp_dir("hw-bench-artifact-burst-") as tmp:
        code = tmp / "code"
        code.mkdir()
        (code / f"{MODULE}.py").write_text(FLOWS)
        sys.path.insert(0, str(code))
        mod = importlib.import_module(MODULE)
        run("sqlite", f"sqlite:///{tmp}/headwater.db", tmp, mod)
        with c.postgres() as pg:
            if pg is not None:
                run("postgresql", pg.database(), tmp, mod)
    c.summary()


if __name__ == "__main__":
    main()
