"""Planning a GC over 1,000,000 artifact versions and 100,000 executions (SQLite).

``python benchmarks/bench_gc.py [--small|--quick] [--repeat N] [--rebuild]``

The instance is bench_ui.py's (built by its loaders, cached under ``$HEADWATER_BENCH_CACHE``,
default ``/tmp/headwater-bench-cache``; ``--small``: 10,000 versions): seven artifacts, six
partitioned by region (one also by ``blessed``), and ``history``, one chain of 100,000
versions each produced by an execution that consumed the one before.

Measured: ``headwater gc --dry-run``'s planning (``engine/retention/plan.planning``, the whole
plan with its report: counts per artifact and reason, bytes freed, the first versions purged
and kept through lineage) under the policy ``keep_last=3`` for every artifact and
``executions_days=0`` (every execution is old enough to go), so the closure over lineage walks
the whole 100,000-generation history chain (its newest three versions keep their producers,
which keep what they consumed, and so on; planned as if a year after the build, so
every execution is old enough). Target: < 30 s. Planning changes nothing but
temporary tables; the database is read as it is.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c
import bench_ui

TARGET_S = 30.0
POLICY = {"keep_last": 3, "executions_days": 0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="10,000 versions (a quick run)")
    parser.add_argument("--quick", action="store_true", help="as --small (make bench)")
    parser.add_argument("--repeat", type=int, default=3, help="timed plans")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached instance")
    args = parser.parse_args()
    total = 10_000 if args.small or args.quick else 1_000_000
    plan = bench_ui.Plan(total)
    c.install_signal_handlers()
    c.header(
        "bench_gc",
        f"planning `headwater gc` (SQLite) over {total:,} artifact versions and "
        f"{plan.history - 1:,} executions, policy {POLICY}",
    )
    home, info = bench_ui.instance(plan, args.rebuild)
    c.figure("rows", ", ".join(f"{n:,} {t}" for t, n in info["counts"].items()))

    from headwater.engine.retention.plan import planning
    from headwater.engine.retention.policy import parse
    from headwater.instance import Instance
    from headwater.settings import Settings

    inst = Instance(Settings.from_env({}, home=home))
    retention = parse(POLICY)
    # the bulk rows are stamped from the build time on: plan as if a year later, so every
    # execution is old enough to go and only lineage keeps one
    later = time.time() + 365 * 86_400
    times = []
    try:
        for i in range(args.repeat):
            t0 = time.perf_counter()
            with planning(inst, retention, now=later) as p:
                seconds = time.perf_counter() - t0
                result = p
            times.append(seconds)
            c.figure(f"  plan {i + 1}", f"{c.fmt_time(seconds)}, load {c.load()}")
    finally:
        inst.close()
    c.figure(
        "plan",
        f"{result.versions:,} versions to purge, {result.executions:,} executions to delete, "
        f"{result.executions_kept:,} old executions kept by lineage, "
        f"{sum(a.kept.get('lineage or launch plan', 0) for a in result.artifacts):,} versions "
        "kept through lineage",
    )
    for a in result.artifacts:
        c.figure(f"  {a.uri}", f"purge {a.purge:,} of {a.live:,}; kept {a.kept}")
    c.record(f"plan a GC over {total:,} versions", c.median(times), "s")
    c.target(
        f"plan a GC over {total:,} versions (median of {len(times)})",
        c.median(times),
        TARGET_S,
        f"min {c.fmt_time(min(times))}, load {c.load()}",
    )
    c.summary()
    return 0


if __name__ == "__main__":
    sys.exit(main())
