"""``headwater.map`` on the local process pool (or the executor in ``HEADWATER_EXECUTOR``).

1. A map of 64 items that each sleep 0.25 s, at concurrency 16 and at the number of CPUs:
   wall time next to the ideal 64 * 0.25 s / parallelism.
2. Overhead per item: a map of 1,000 no-op items (wall time / 1,000), after a warm-up map
   that starts the pool's processes; target < 5 ms per item.
Every item is a recorded node execution on a real SQLite file.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

SLEEP_ITEMS = 64
SLEEP_S = 0.25
NOOP_ITEMS = 1000
TARGET_OVERHEAD_S = 0.005
if c.QUICK:  # make bench
    SLEEP_ITEMS, NOOP_ITEMS = 16, 200

FLOWS = """\
import time

import headwater
from headwater import task, workflow


@task
def nap(x: int) -> int:
    time.sleep(0.25)
    return x


@task
def noop(x: int) -> int:
    return x


@workflow
def naps(n: int = 64, concurrency: int = 16) -> list[int]:
    return headwater.map(nap, list(range(n)), concurrency=concurrency)


@workflow
def noops(n: int = 1000, concurrency: int = 2) -> list[int]:
    return headwater.map(noop, list(range(n)), concurrency=concurrency)
"""


def load_flows(code: Path) -> ModuleType:
    (code / "hwbench_map_flows.py").write_text(FLOWS)
    sys.path.insert(0, str(code))
    os.environ["PYTHONPATH"] = os.pathsep.join([str(code), os.environ.get("PYTHONPATH", "")])
    return importlib.import_module("hwbench_map_flows")


def timed(run: object, wf: object, expect: list[int], **inputs: int) -> float:
    t0 = time.perf_counter()
    ex = run(wf, **inputs)  # type: ignore[operator]
    took = time.perf_counter() - t0
    if ex.status.value != "succeeded" or ex.output != expect:
        raise RuntimeError(f"{ex.workflow}: {ex.status.value} {ex.error}")
    return took


def main() -> None:
    import headwater
    from headwater.engine.execute.executors import shutdown_local_pool
    from headwater.instance import Instance
    from headwater.settings import Settings

    c.install_signal_handlers()
    executor = os.environ.get("HEADWATER_EXECUTOR") or "local"
    cpus = os.cpu_count() or 1
    c.header("bench_map", f"headwater.map, executor {executor}, SQLite")
    with c.temp_dir("hw-bench-map-") as tmp:
        code = tmp / "code"
        code.mkdir()
        flows = load_flows(code)
        inst = Instance(Settings.from_env({}, home=tmp / "home", executor=executor))
        try:
            with inst.use():
                for parallel in (16, cpus):
                    # warm-up: the pool's processes start (and import) once per size
                    timed(
                        headwater.run,
                        flows.noops,
                        list(range(parallel)),
                        n=parallel,
                        concurrency=parallel,
                    )
                    took = timed(
                        headwater.run,
                        flows.naps,
                        list(range(SLEEP_ITEMS)),
                        n=SLEEP_ITEMS,
                        concurrency=parallel,
                    )
                    ideal = SLEEP_ITEMS * SLEEP_S / parallel
                    c.figure(
                        f"map of {SLEEP_ITEMS} x sleep {SLEEP_S} s, concurrency {parallel}",
                        f"{c.fmt_time(took)}   ideal {c.fmt_time(ideal)}   "
                        f"({took / ideal:.2f}x ideal)",
                    )
                    c.record(
                        f"map of {SLEEP_ITEMS} x sleep {SLEEP_S} s, concurrency {parallel}",
                        took,
                        "s",
                        ideal,  # the floor: the sleeps alone, perfectly parallel
                    )
                timed(headwater.run, flows.noops, list(range(cpus)), n=cpus, concurrency=cpus)
                took = timed(
                    headwater.run,
                    flows.noops,
                    list(range(NOOP_ITEMS)),
                    n=NOOP_ITEMS,
                    concurrency=cpus,
                )
                c.figure(f"map of {NOOP_ITEMS} no-op items, concurrency {cpus}", c.fmt_time(took))
                c.target(
                    f"overhead per item ({NOOP_ITEMS} no-op items / wall time)",
                    took / NOOP_ITEMS,
                    TARGET_OVERHEAD_S,
                    "recorded node per item: 2 writes in the child, 1 batched insert",
                )
                c.record("map overhead per no-op item", took / NOOP_ITEMS, "s")
        finally:
            shutdown_local_pool()
            inst.close()
    c.summary()


if __name__ == "__main__":
    main()
