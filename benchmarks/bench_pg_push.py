"""PostgreSQL push (LISTEN/NOTIFY) against polling, in one run: ``HEADWATER_PG_NOTIFY=0`` / 1.

Targets (PostgreSQL, push): event -> first line of user code p50 <= 5 ms, p99 <= 25 ms with
an otherwise idle system; reactor >= 5,000 events/s. Each mode gets a fresh database:

* idle CPU: a ``headwater up --workers 2`` (reactor process, scheduler, reaper, API, two
  workers and their execution processes) left alone for ``IDLE_CPU_S`` seconds after its
  warm-up; utime + stime of the whole process tree from ``/proc/<pid>/stat``, as a share of
  one core.
* latency, the set-up and clock of ``bench_trigger_latency.py`` (a new version of artifact
  ``A`` -> the first line of the task its launch plan runs, measured from the COMMIT):
  *sequential* (the next version once the previous execution has ended; the workers are
  then still in their busy window and poll every 2 ms either way) and *idle* (each version
  after ``IDLE_GAP_S`` s of quiet: the reactor and the workers idle, where push matters).
* reactor events/s: ``bench_reactor_throughput.py``'s 5,000 events against 1,000 active
  launch plans, decided in-process, batch 500 (the NOTIFY rides on the batch's COMMIT).

``--quick``: fewer firings and a shorter idle-CPU window.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c
import bench_reactor_throughput as rt
import bench_trigger_latency as tl

QUICK = c.QUICK
SEQUENTIAL = 100 if QUICK else 300
IDLE = 4 if QUICK else 20
IDLE_GAP_S = 2.5
IDLE_CPU_S = 5.0 if QUICK else 30.0
REACTOR_EVENTS = 2_000 if QUICK else 5_000
TARGET_P50_S, TARGET_P99_S = 0.005, 0.025
TARGET_EPS = 5_000.0
MODES = (("polling", "0"), ("push", "1"))


def tree(root: int) -> list[int]:
    """``root`` and every process descending from it."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def cpu_ticks(pids: list[int]) -> dict[int, int]:
    out = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[pid] = int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, ValueError, IndexError):
            pass
    return out


def idle_cpu(root: int, seconds: float) -> tuple[float, int]:
    """(share of one core used by ``root``'s tree over ``seconds``, processes measured)."""
    before = cpu_ticks(tree(root))
    t0 = time.monotonic()
    time.sleep(seconds)
    took = time.monotonic() - t0
    after = cpu_ticks(list(before))
    used = sum(after[p] - before[p] for p in after)
    return used / os.sysconf("SC_CLK_TCK") / took, len(after)


def latency(mode: str, flag: str, tmp: Path, url: str, mod: Any, starts: Any) -> dict[str, Any]:
    import headwater
    from headwater.instance import Instance
    from headwater.settings import Settings

    sys.path.insert(0, str(c.TESTS.parent))
    from tests._procs import headwater_env, running_up, wait_for

    home = tmp / f"home-{mode}"
    inst = Instance(Settings.from_env({}, home=home, database_url=url))
    clock = tl.CommitClock(inst)
    starts.seen.clear()
    x = 0
    out: dict[str, Any] = {}
    try:
        with inst.use():
            headwater.register(tl.MODULE)
            headwater.activate(tl.LP_NAME)
            env = {**headwater_env(home, url), "HEADWATER_PG_NOTIFY": flag}
            with running_up(env, tmp / f"up-{mode}.log", workers=2) as up:
                wait_for(lambda: len(up.workers()) == 2, "two workers", logs=up.log)
                for _ in range(tl.WARMUP):
                    tl.publish(headwater, mod.A, x, clock)
                    tl.wait_finished(inst, starts.wait(x, logs=up.log)[2], up.log)
                    x += 1
                time.sleep(3.0)  # past the workers' busy window
                out["cpu"], out["procs"] = idle_cpu(up.proc.pid, IDLE_CPU_S)
                seq: list[tl.Rec] = []
                for _ in range(SEQUENTIAL):
                    seq.append(tl.Rec(x, tl.publish(headwater, mod.A, x, clock)))
                    tl.wait_finished(inst, starts.wait(x, logs=up.log)[2], up.log)
                    x += 1
                idle: list[tl.Rec] = []
                for _ in range(IDLE):
                    time.sleep(IDLE_GAP_S)
                    idle.append(tl.Rec(x, tl.publish(headwater, mod.A, x, clock)))
                    tl.wait_finished(inst, starts.wait(x, logs=up.log)[2], up.log)
                    x += 1
                code = up.stop()
                c.check(code == 0, f"headwater up exited with {code}\n{up.log()}")
            tl.fill_from_db(inst, seq + idle, starts)
        out["seq"] = [r.task_mono - r.commit_mono for r in seq]
        out["idle"] = [r.task_mono - r.commit_mono for r in idle]
        print()
        tl.report(f"postgresql {mode}", "sequential", seq, "")
        print()
        tl.report(f"postgresql {mode}", f"idle ({IDLE_GAP_S:g} s quiet before each)", idle, "")
        c.figure(
            f"postgresql {mode}: idle CPU of `up --workers 2` over {IDLE_CPU_S:g} s",
            f"{out['cpu'] * 100:.2f}% of one core ({out['procs']} processes)",
        )
    finally:
        inst.close()
    return out


def reactor_rate(mode: str, tmp: Path, pg: Any) -> float:
    url = pg.database()
    home = tmp / f"rt-{mode}"
    rt.prepare(home, url, REACTOR_EVENTS, f"postgresql {mode}")
    eps, _ = rt.run_one(
        f"postgresql {mode}",
        home,
        url,
        500,
        REACTOR_EVENTS,
        REACTOR_EVENTS,
        f"{REACTOR_EVENTS:,} events, batch=500, 1,000 launch plans",
        targets=False,
        quiet=True,
    )
    return eps


def main() -> None:
    c.install_signal_handlers()
    c.header(
        "bench_pg_push",
        "PostgreSQL, polling (HEADWATER_PG_NOTIFY=0) vs push: idle CPU of `up`, trigger "
        f"latency (sequential {SEQUENTIAL}, idle {IDLE}), reactor events/s",
    )
    with c.temp_dir("hw-bench-push-") as tmp:
        code = tmp / "code"
        code.mkdir()
        sock = tmp / "starts.sock"
        (code / f"{tl.MODULE}.py").write_text(tl.FLOWS.format(sock=str(sock), lp=tl.LP_NAME))
        rt.write_modules(code)
        sys.path.insert(0, str(code))
        mod = importlib.import_module(tl.MODULE)
        starts = tl.Starts(sock)
        results: dict[str, dict[str, Any]] = {}
        try:
            with c.postgres() as pg:
                if pg is None:
                    return
                for mode, flag in MODES:
                    os.environ["HEADWATER_PG_NOTIFY"] = flag
                    url = pg.database()
                    if not results:
                        print(f"PostgreSQL {pg.version(url)} (throwaway cluster, fsync off)")
                    print()
                    results[mode] = latency(mode, flag, tmp, url, mod, starts)
                    print()
                    results[mode]["eps"] = reactor_rate(mode, tmp, pg)
        finally:
            starts.close()
            os.environ.pop("HEADWATER_PG_NOTIFY", None)
    poll, push = results["polling"], results["push"]
    print()
    for key, label in (("seq", "sequential"), ("idle", "idle")):
        for p in (50, 99):
            a, b = c.percentile(poll[key], p), c.percentile(push[key], p)
            c.figure(
                f"push / polling, {label} latency p{p}",
                f"{c.fmt_time(b)} / {c.fmt_time(a)} = {b / a:.2f}x",
            )
    c.figure(
        "push / polling, idle CPU",
        f"{push['cpu'] * 100:.2f}% / {poll['cpu'] * 100:.2f}% of one core = "
        f"{push['cpu'] / max(poll['cpu'], 1e-9):.2f}x",
    )
    c.figure(
        "push / polling, reactor events/s",
        f"{push['eps']:,.0f} / {poll['eps']:,.0f} = {push['eps'] / poll['eps']:.2f}x",
    )
    for mode, res in (("polling", poll), ("push", push)):
        c.record(f"{mode}: sequential trigger latency p50", c.percentile(res["seq"], 50), "s")
        c.record(f"{mode}: idle trigger latency p50", c.percentile(res["idle"], 50), "s")
        c.record(f"{mode}: idle CPU of up --workers 2", res["cpu"], "cores")
        c.record(f"{mode}: reactor events/s", res["eps"], "events/s")
    n_seq, n_idle = len(push["seq"]), len(push["idle"])
    c.target(f"push sequential p50 (n={n_seq})", c.percentile(push["seq"], 50), TARGET_P50_S)
    c.target(f"push sequential p99 (n={n_seq})", c.percentile(push["seq"], 99), TARGET_P99_S)
    c.target(f"push idle p50 (n={n_idle})", c.percentile(push["idle"], 50), TARGET_P50_S)
    rt.rate_target("push: reactor events decided per second", push["eps"], TARGET_EPS)
    c.summary()


if __name__ == "__main__":
    main()
