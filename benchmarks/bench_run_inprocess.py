"""In-process ``headwater.run``: a one-task workflow and a 10-task chain.

Targets (SQLite, after warm-up): one task < 2 ms median, 10-task chain < 10 ms median.
The same on PostgreSQL is printed without a target. Every run is a full recorded execution
(execution + node rows, events, outputs), on a real SQLite file / a real PostgreSQL server.
``--profile`` also prints a cProfile summary of each measured loop.
"""

from __future__ import annotations

import gc
import importlib
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

WARMUP = 20
RUNS_ONE = 300
RUNS_CHAIN = 100
TARGET_ONE_S = 0.002
TARGET_CHAIN_S = 0.010
if c.QUICK:  # make bench
    WARMUP, RUNS_ONE, RUNS_CHAIN = 10, 100, 30

FLOWS = """\
from headwater import task, workflow


@task
def inc(x: int) -> int:
    return x + 1


@workflow
def one(x: int = 1) -> int:
    return inc(x=x)


@workflow
def chain10(x: int = 1) -> int:
    for _ in range(10):
        x = inc(x=x)
    return x
"""


def load_flows(code: Path) -> ModuleType:
    (code / "hwbench_flows.py").write_text(FLOWS)
    sys.path.insert(0, str(code))
    return importlib.import_module("hwbench_flows")


def time_runs(run: Any, wf: Any, n: int, expect: int) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        ex = run(wf)
        times.append(time.perf_counter() - t0)
        if ex.status.value != "succeeded" or ex.output != expect:
            raise RuntimeError(f"{wf.name}: {ex.status.value} {ex.output!r} {ex.error}")
    return times


def bench(
    backend: str, database_url: str | None, home: Path, flows: ModuleType, targets: bool
) -> dict[str, float]:
    import headwater
    from headwater.instance import Instance
    from headwater.settings import Settings

    overrides = {"database_url": database_url} if database_url else {}
    inst = Instance(Settings.from_env({}, home=home, **overrides))
    medians = {}
    try:
        with inst.use():
            for wf, expect in ((flows.one, 2), (flows.chain10, 11)):
                time_runs(headwater.run, wf, WARMUP, expect)
            gc.collect()
            for wf, n, expect, limit in (
                (flows.one, RUNS_ONE, 2, TARGET_ONE_S),
                (flows.chain10, RUNS_CHAIN, 11, TARGET_CHAIN_S),
            ):
                what = "one task" if wf is flows.one else "10-task chain"
                times = time_runs(headwater.run, wf, n, expect)
                medians[what] = c.median(times)
                c.record(f"{backend}: headwater.run {what} median", c.median(times), "s")
                c.figure(f"{backend}: run({what})", c.spread(times))
                label = f"{backend}: headwater.run {what} (median of {n})"
                if targets:
                    c.target(
                        label, c.median(times), limit, f"p90 {c.fmt_time(c.percentile(times, 90))}"
                    )
                else:
                    c.figure(
                        label,
                        f"{c.fmt_time(c.median(times))}   (no target)   "
                        f"p90 {c.fmt_time(c.percentile(times, 90))}",
                    )
                if c.want_profile():
                    c.profile(
                        f"{backend} run({what})", lambda wf=wf: headwater.run(wf), min(n, 100)
                    )
            per_task = (medians["10-task chain"] - medians["one task"]) / 9
            c.figure(
                f"{backend}: marginal cost per extra task",
                f"{c.fmt_time(per_task)} (chain - one) / 9",
            )
    finally:
        inst.close()
    return medians


def main() -> None:
    c.install_signal_handlers()
    c.header(
        "bench_run_inprocess",
        "headwater.run in-process, after "
        f"{WARMUP} warm-up runs; SQLite (targets) and PostgreSQL (no target)",
    )
    with c.temp_dir("hw-bench-inproc-") as tmp:
        code = tmp / "code"
        code.mkdir()
        flows = load_flows(code)
        sqlite = bench("sqlite", None, tmp / "sqlite-home", flows, targets=True)
        print()
        with c.postgres() as pg:
            if pg is not None:
                url = pg.database()
                print(f"PostgreSQL {pg.version(url)} (throwaway cluster, fsync off)")
                pgm = bench("postgresql", url, tmp / "pg-home", flows, targets=False)
                print()
                for what in ("one task", "10-task chain"):
                    c.figure(f"postgresql / sqlite, {what}", f"{pgm[what] / sqlite[what]:.1f}x")
    c.summary()


if __name__ == "__main__":
    main()
