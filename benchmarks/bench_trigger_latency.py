"""Trigger latency: a new upstream artifact version -> the first line of downstream user code.

Target (SQLite, embedded instance, fresh ``HEADWATER_HOME``): p50 < 10 ms, p99 < 50 ms over
1,000 firings. PostgreSQL is measured the same way and printed without a target.

The production path, real processes: ``headwater up --workers 2`` runs as a subprocess
(reactor, scheduler and reaper threads plus two worker processes). A generated module holds
an artifact ``A``, a workflow ``downstream(x)`` whose first task ``first(x)`` takes
``time.time()`` on its first line, and a launch plan
``OnArtifact(trigger_on=A, inputs={"x": A})``, registered and activated. The benchmark
process publishes versions with ``headwater.create_artifact(A, i)``; the task sends its
timestamps to the benchmark over a Unix datagram socket (no polling on the receiving side).

Latency = the task's ``time.monotonic()`` - the benchmark's ``time.monotonic()`` read just
before the ``COMMIT`` of the publishing transaction starts (the benchmark wraps its own
instance's ``db.transaction``). ``CLOCK_MONOTONIC`` is one clock for every process of a Linux
machine, and nothing downstream can see the version before its COMMIT has begun, so no sample
can be negative (the script stops if one is). Earlier versions read ``time.time()`` after the
COMMIT had returned; a benchmark process descheduled in between then produced negative
samples (14 of 1,000, down to -13.9 ms). The COMMIT's own duration is therefore part of the
figure and is printed apart. The event's stored ``time`` (wall clock, taken inside the
publishing transaction) gives an upper bound that is printed too.

The floor, measured in the same run on the same backend: a bare commit + wake-up round trip
between two processes. The benchmark inserts a row through the engine's ``Database`` and
commits; on SQLite it then wakes a child process with a Unix datagram, on PostgreSQL the
child LISTENs and the NOTIFY goes with the COMMIT (as the engine sends it); the child reads the
row on its own connection and reports its ``time.monotonic()``. Ratio = trigger latency / that
round trip (how many times the floor); the trigger path makes several such hand-offs (event
-> reactor -> worker claim -> workflow -> task).

Modes:

* sequential: publish one version, wait for its downstream task to start, wait for that
  execution to end (nothing queued or running), publish the next. The figure with targets.
* burst: 200 versions published back to back, without waiting; each is measured from its
  own commit (queueing behind the previous ones included).
* idle: 20 versions, each published after 2.3 s of quiet, when the reactor polls at its
  slowest (every 20 ms) and the workers have backed off to their idle poll (every 50 ms, after
  2 s without work). SQLite only; its p50 is held to the same target (20 samples are too
  few for a p99, so the p99 is only printed).

Breakdown per firing, from the rows the engine writes: event ``time`` -> the reactor's
decision (``trigger_decisions.created_at``, taken just before its batch commits) -> the claim
(``executions.started_at``) -> workflow body -> first task. ``--profile`` also profiles 200
rounds of ``create_artifact`` + ``Reactor.run_once`` in-process (after ``up`` has stopped).
"""

from __future__ import annotations

import importlib
import socket
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

SEQUENTIAL = 1_000
BURST = 200
WARMUP = 20
IDLE = 20
IDLE_GAP_S = 2.3
PG_SEQUENTIAL = 1_000
TARGET_P50_S = 0.010
TARGET_P99_S = 0.050
WAIT_S = 60.0
FLOOR_TRIPS = 1_000
if c.QUICK:  # make bench: fewer firings, no idle rounds
    SEQUENTIAL, BURST, IDLE, PG_SEQUENTIAL, FLOOR_TRIPS = 200, 50, 0, 200, 200
LP_NAME = "bench_on_a"
MODULE = "hwbench_trigger"

FLOWS = """\
import socket
import time

from headwater import Artifact, LaunchPlan, OnArtifact, current, task, workflow

SOCK = {sock!r}
A = Artifact(name="bench_upstream")
_wf_started = [0.0]


@task
def first(x: int) -> float:
    m = time.monotonic()  # the first line of user code in the task
    t = time.time()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.sendto(
            f"{{x}} {{t!r}} {{_wf_started[0]!r}} {{current.execution_id}} {{m!r}}".encode(), SOCK
        )
    except OSError:
        pass  # the benchmark is gone
    finally:
        s.close()
    return t


@workflow
def downstream(x: int) -> float:
    _wf_started[0] = time.time()
    return first(x=x)


on_a = LaunchPlan.create({lp!r}, downstream,
                         trigger=OnArtifact(trigger_on=A, inputs={{"x": A}}))
"""


class Starts:
    """The downstream starts the tasks report: x -> (task time, workflow time, execution id,
    task monotonic time)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.seen: dict[int, tuple[float, float, str, float]] = {}

    def wait(
        self, x: int, timeout: float = WAIT_S, logs: Any = None
    ) -> tuple[float, float, str, float]:
        deadline = time.monotonic() + timeout
        while x not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0:
                tail = logs() if logs else ""
                raise RuntimeError(f"no downstream start for x={x} within {timeout} s\n{tail}")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(512)
            except TimeoutError:
                continue
            sx, st, swf, eid, sm = data.decode().split()
            if int(sx) in self.seen:
                raise RuntimeError(f"x={sx} started twice (exactly-once firing broken)")
            self.seen[int(sx)] = (float(st), float(swf), eid, float(sm))
        return self.seen[x]

    def close(self) -> None:
        self.sock.close()


def wait_finished(inst: Any, execution_id: str, logs: Any) -> None:
    """Poll (1 ms) until the execution has ended; fail loudly if it did not succeed."""
    deadline = time.monotonic() + WAIT_S
    while True:
        with inst.db.read() as tx:
            row = tx.one(
                "SELECT status, error FROM executions WHERE id = :id", {"id": execution_id}
            )
        if row is not None and row["status"] not in ("queued", "running"):
            if row["status"] != "succeeded":
                raise RuntimeError(f"{execution_id} {row['status']}: {row['error']}")
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{execution_id} did not finish within {WAIT_S} s\n{logs()}")
        time.sleep(0.001)


def wait_all_finished(inst: Any, logs: Any) -> None:
    deadline = time.monotonic() + WAIT_S
    while True:
        with inst.db.read() as tx:
            left = tx.scalar(
                "SELECT COUNT(*) FROM executions WHERE status IN ('queued', 'running')"
            )
            inbox = tx.scalar("SELECT COUNT(*) FROM reactor_inbox")
        if not left and not inbox:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{left} executions still queued/running\n{logs()}")
        time.sleep(0.005)


class Rec:
    """One firing: when the version was committed and when each stage happened."""

    __slots__ = (
        "claimed",
        "commit_mono",
        "commit_took",
        "committed",
        "decided",
        "eid",
        "event",
        "returned",
        "task",
        "task_mono",
        "wf",
        "x",
    )

    def __init__(self, x: int, times: tuple[float, float, float, float]) -> None:
        self.x, (self.committed, self.returned, self.commit_mono, self.commit_took) = x, times
        self.event = self.decided = self.claimed = self.wf = self.task = self.task_mono = 0.0
        self.eid = ""


def fill_from_db(inst: Any, recs: list[Rec], starts: Starts) -> None:
    """Stage timestamps from the engine's rows (one query for the whole run)."""
    by_eid: dict[str, Rec] = {}
    for r in recs:
        r.task, r.wf, r.eid, r.task_mono = starts.seen[r.x]
        by_eid[r.eid] = r
    with inst.db.read() as tx:
        rows = tx.all(
            "SELECT x.id, x.started_at, e.time AS event_time, d.created_at AS decided "
            "FROM executions x JOIN events e ON e.seq = x.event_seq "
            "JOIN trigger_decisions d ON d.event_id = e.id AND d.execution_id = x.id "
            "WHERE x.launch_plan = :lp",
            {"lp": LP_NAME},
        )
    for row in rows:
        hit = by_eid.get(row["id"])
        if hit is not None:
            hit.event, hit.decided = row["event_time"], row["decided"]
            hit.claimed = row["started_at"]
    missing = [r.x for r in recs if not r.event]
    c.check(not missing, f"no execution/decision rows for x={missing[:5]}")


def report(backend: str, mode: str, recs: list[Rec], targets: str) -> list[float]:
    """``targets``: "" (none), "p50" or "p50+p99"."""
    lat = [r.task_mono - r.commit_mono for r in recs]
    lat_ev = [r.task - r.event for r in recs]
    n = len(lat)
    c.check(
        min(lat) >= 0,
        f"{backend} {mode}: {sum(x < 0 for x in lat)} negative latencies on CLOCK_MONOTONIC "
        "(cannot happen if the clock is shared: a bug in the benchmark)",
    )
    tail = (
        f"p50 {c.fmt_time(c.percentile(lat, 50))}, p90 {c.fmt_time(c.percentile(lat, 90))}, "
        f"p99 {c.fmt_time(c.percentile(lat, 99))}, max {c.fmt_time(max(lat))}, "
        f"min {c.fmt_time(min(lat))} (n={n}; the COMMIT itself p50 "
        f"{c.fmt_time(c.percentile([r.commit_took for r in recs], 50))})"
    )
    c.figure(f"{backend} {mode}: commit -> first task line", tail)
    c.figure(
        f"{backend} {mode}: event time -> first task line (upper bound)",
        f"p50 {c.fmt_time(c.percentile(lat_ev, 50))}, p99 {c.fmt_time(c.percentile(lat_ev, 99))}",
    )
    stages = [
        ("event time -> commit", [r.committed - r.event for r in recs]),
        ("commit -> create_artifact returned", [r.returned - r.committed for r in recs]),
        ("event time -> reactor decision", [r.decided - r.event for r in recs]),
        ("decision -> claimed (started_at)", [r.claimed - r.decided for r in recs]),
        ("claimed -> workflow body", [r.wf - r.claimed for r in recs]),
        ("workflow body -> first task", [r.task - r.wf for r in recs]),
    ]
    parts = ", ".join(
        f"{label} {c.fmt_time(c.percentile(xs, 50))} (p99 {c.fmt_time(c.percentile(xs, 99))})"
        for label, xs in stages
    )
    c.figure(f"{backend} {mode}: breakdown, p50 (p99)", parts)
    if targets:
        c.target(
            f"{backend} {mode}: trigger latency p50 (n={n})", c.percentile(lat, 50), TARGET_P50_S
        )
    if "p99" in targets:
        c.target(
            f"{backend} {mode}: trigger latency p99 (n={n})", c.percentile(lat, 99), TARGET_P99_S
        )
    return lat


FLOOR_CHILD = """
import socket, sys, time
dialect, dsn, listen_path, reply_path = sys.argv[1:5]
reply = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
if dialect == "sqlite":
    import sqlite3
    conn = sqlite3.connect(dsn, isolation_level=None)
    wake = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    wake.bind(listen_path)
    reply.sendto(b"ready", reply_path)
    while True:
        x = int(wake.recv(64))
        if x < 0:
            break
        row = conn.execute("SELECT x FROM floor_ping WHERE x = ?", (x,)).fetchone()
        reply.sendto(f"{x} {time.monotonic()!r} {row is not None}".encode(), reply_path)
else:
    import psycopg
    conn = psycopg.connect(dsn, autocommit=True)
    conn.execute("LISTEN hwbench_floor")
    reply.sendto(b"ready", reply_path)
    while True:
        # the generator holds the connection while it waits: leave it before querying
        for note in conn.notifies(stop_after=1):
            pass
        top, low = conn.execute("SELECT max(x), min(x) FROM floor_ping").fetchone()
        if low is not None and low < 0:
            break
        reply.sendto(f"{top} {time.monotonic()!r} {top is not None}".encode(), reply_path)
"""


def wake_listeners(tx: Any) -> None:
    """PostgreSQL: NOTIFY the floor's child with the COMMIT, the way the engine does
    (``Tx.notify``); with push off, or on a commit older than push (``make bench-compare``),
    a plain NOTIFY statement, which PostgreSQL also delivers at COMMIT. SQLite: nothing (the
    child is woken by a datagram)."""
    if tx.dialect != "postgresql":
        return
    try:
        from headwater.storage.notify import push_enabled

        piggyback = push_enabled() and hasattr(tx, "notify")
    except ImportError:
        piggyback = False
    if piggyback:
        tx.notify("hwbench_floor")
    else:
        tx.execute("NOTIFY hwbench_floor")


def floor_round_trips(backend: str, tmp: Path, database_url: str | None, n: int) -> list[float]:
    """The floor: ``n`` sequential commit + wake-up round trips between this process and a
    child (see the module docstring); seconds from just before each COMMIT to the child
    having read the row."""
    import subprocess

    from headwater.storage.db import Database

    url = database_url or f"sqlite:///{tmp / 'floor.db'}"
    db = Database(url)
    listen, reply_path = tmp / f"floor-wake-{backend}.sock", tmp / f"floor-reply-{backend}.sock"
    reply = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    reply.bind(str(reply_path))
    reply.settimeout(WAIT_S)
    wake = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    with db.transaction() as tx:
        tx.execute("CREATE TABLE floor_ping (x INTEGER PRIMARY KEY)")
    dsn = db.path if db.dialect == "sqlite" else db.dsn
    child = subprocess.Popen(
        [sys.executable, "-c", FLOOR_CHILD, db.dialect, str(dsn), str(listen), str(reply_path)],
        env=c.clean_env(),
    )
    times: list[float] = []
    try:
        c.check(reply.recv(64) == b"ready", "floor child did not start")

        def ping(x: int) -> float:
            with db.transaction() as tx:
                tx.execute("INSERT INTO floor_ping (x) VALUES (:x)", {"x": x})
                wake_listeners(tx)
                before = time.monotonic()
            if db.dialect == "sqlite":
                wake.sendto(str(x).encode(), str(listen))
            got, mono, found = reply.recv(128).decode().split()
            c.check(int(got) == x and found == "True", f"floor round trip {x}: got {got}")
            return float(mono) - before

        for x in range(20):  # warm-up
            ping(x)
        for x in range(20, 20 + n):
            times.append(ping(x))
        c.check(min(times) >= 0, "negative floor round trip on CLOCK_MONOTONIC")
        return times
    finally:
        with db.transaction() as tx:
            tx.execute("INSERT INTO floor_ping (x) VALUES (-1)")
            wake_listeners(tx)
        if db.dialect == "sqlite":
            wake.sendto(b"-1", str(listen))
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(10)
        wake.close()
        reply.close()
        db.close()


def report_floor(backend: str, seq: list[float], floor: list[float]) -> None:
    c.figure(f"{backend} floor: commit + wake-up round trip", c.spread(floor))
    for p in (50, 99):
        value, base = c.percentile(seq, p), c.percentile(floor, p)
        c.floor_line(f"{backend} sequential trigger latency p{p}", value, base, "s", False)
        c.record(f"{backend} sequential trigger latency p{p}", value, "s", base)
    c.record(f"{backend} floor: commit + wake-up round trip p50", c.percentile(floor, 50), "s")


class CommitClock:
    """Wraps an instance's ``db.transaction`` to note when its outermost COMMIT started
    (``before``, monotonic) and returned (``last``, wall clock; ``after``, monotonic)."""

    def __init__(self, inst: Any) -> None:
        import contextlib

        self.last = self.before = self.after = 0.0
        orig = inst.db.transaction

        @contextlib.contextmanager
        def timed() -> Any:
            with orig() as tx:
                yield tx
                self.before = time.monotonic()  # the outermost's runs last: its COMMIT next
            self.after = time.monotonic()
            self.last = time.time()

        inst.db.transaction = timed


def publish(hw: Any, art: Any, x: int, clock: CommitClock) -> tuple[float, float, float, float]:
    """Of ``create_artifact(A, x)``: (commit returned, wall; call returned, wall; commit
    started, monotonic; the COMMIT's duration)."""
    clock.last = 0.0
    hw.create_artifact(art, x)
    returned = time.time()
    c.check(clock.last > 0, "create_artifact committed no transaction through db.transaction")
    return clock.last, returned, clock.before, clock.after - clock.before


def bench(
    backend: str,
    tmp: Path,
    database_url: str | None,
    n_seq: int,
    n_idle: int,
    targets: bool,
    mod: ModuleType,
    starts: Starts,
) -> None:
    import headwater
    from headwater.instance import Instance
    from headwater.settings import Settings

    sys.path.insert(0, str(c.TESTS.parent))
    from tests._procs import headwater_env, running_up, wait_for

    home = tmp / f"home-{backend}"
    overrides = {"database_url": database_url} if database_url else {}
    inst = Instance(Settings.from_env({}, home=home, **overrides))
    clock = CommitClock(inst)
    starts.seen.clear()
    x = 0
    try:
        with inst.use():
            headwater.register(MODULE)
            headwater.activate(LP_NAME)
            env = headwater_env(home, inst.settings.database_url)
            t0 = time.perf_counter()
            with running_up(env, tmp / f"up-{backend}.log", workers=2) as up:
                wait_for(lambda: len(up.workers()) == 2, "two workers", logs=up.log)
                # Warm-up: both workers import the snapshot, the reactor loads its index.
                for _ in range(WARMUP):
                    publish(headwater, mod.A, x, clock)
                    wait_finished(inst, starts.wait(x, logs=up.log)[2], up.log)
                    x += 1
                c.figure(
                    f"{backend}: headwater up + {WARMUP} warm-up firings",
                    f"{time.perf_counter() - t0:.1f} s",
                )

                seq: list[Rec] = []
                t0 = time.perf_counter()
                for _ in range(n_seq):
                    rec = Rec(x, publish(headwater, mod.A, x, clock))
                    seq.append(rec)
                    wait_finished(inst, starts.wait(x, logs=up.log)[2], up.log)
                    x += 1
                took = time.perf_counter() - t0
                c.figure(
                    f"{backend} sequential: {n_seq} firings",
                    f"{took:.1f} s "
                    f"({took / n_seq * 1000:.1f} ms per publish -> start -> end cycle)",
                )

                burst: list[Rec] = []
                t0 = time.perf_counter()
                for _ in range(BURST):
                    burst.append(Rec(x, publish(headwater, mod.A, x, clock)))
                    x += 1
                published = time.perf_counter() - t0
                for r in burst:
                    starts.wait(r.x, logs=up.log)
                wait_all_finished(inst, up.log)
                c.figure(
                    f"{backend} burst: {BURST} versions published in",
                    f"{published * 1000:.0f} ms ({BURST / published:.0f}/s), all run in "
                    f"{time.perf_counter() - t0:.1f} s",
                )

                idle: list[Rec] = []
                for _ in range(n_idle):
                    time.sleep(IDLE_GAP_S)
                    rec = Rec(x, publish(headwater, mod.A, x, clock))
                    idle.append(rec)
                    wait_finished(inst, starts.wait(x, logs=up.log)[2], up.log)
                    x += 1
                wait_all_finished(inst, up.log)
                code = up.stop()
                c.check(code == 0, f"headwater up exited with {code}\n{up.log()}")

            for recs in (seq, burst, idle):
                if recs:
                    fill_from_db(inst, recs, starts)
            with inst.db.read() as tx:
                fired = tx.scalar(
                    "SELECT COUNT(*) FROM executions WHERE launch_plan = :lp "
                    "AND status = 'succeeded'",
                    {"lp": LP_NAME},
                )
            c.check(
                fired == x == len(starts.seen),
                f"{fired} succeeded executions, {len(starts.seen)} starts, {x} versions",
            )
            print()
            seq_lat = report(backend, "sequential", seq, "p50+p99" if targets else "")
            print()
            burst_lat = report(backend, "burst", burst, "")
            c.record(f"{backend} burst trigger latency p50", c.percentile(burst_lat, 50), "s")
            if idle:
                print()
                idle_lat = report(
                    backend,
                    f"idle ({IDLE_GAP_S:g} s quiet before each)",
                    idle,
                    "p50" if targets else "",
                )
                c.record(f"{backend} idle trigger latency p50", c.percentile(idle_lat, 50), "s")
            print()
            report_floor(
                backend, seq_lat, floor_round_trips(backend, tmp, database_url, FLOOR_TRIPS)
            )
            if c.want_profile():
                profile_reactor(backend, inst, mod)
    finally:
        inst.close()


def profile_reactor(backend: str, inst: Any, mod: ModuleType) -> None:
    """The reactor deciding artifact events in-process (no workers: executions stay queued)."""
    import headwater
    from headwater.engine.react.reactor import Reactor

    reactor = Reactor(inst)
    reactor.run_once()
    base = 10_000_000
    state = {"x": base}

    def one() -> None:
        headwater.create_artifact(mod.A, state["x"])
        state["x"] += 1
        reactor.run_once()

    c.profile(f"{backend}: create_artifact + Reactor.run_once (one firing)", one, 200)


def main() -> None:
    c.install_signal_handlers()
    c.header(
        "bench_trigger_latency",
        "new artifact version -> first line of downstream task, via `headwater up "
        f"--workers 2`; sequential {SEQUENTIAL}, burst {BURST}, idle {IDLE}; "
        "SQLite (targets) and PostgreSQL (no target)",
    )
    with c.temp_dir("hw-bench-trig-") as tmp:
        code = tmp / "code"
        code.mkdir()
        sock = tmp / "starts.sock"
        (code / f"{MODULE}.py").write_text(FLOWS.format(sock=str(sock), lp=LP_NAME))
        sys.path.insert(0, str(code))
        mod = importlib.import_module(MODULE)
        starts = Starts(sock)
        try:
            bench("sqlite", tmp, None, SEQUENTIAL, IDLE, True, mod, starts)
            print()
            with c.postgres() as pg:
                if pg is not None:
                    url = pg.database()
                    print(f"PostgreSQL {pg.version(url)} (throwaway cluster, fsync off)")
                    bench("postgresql", tmp, url, PG_SEQUENTIAL, 0, False, mod, starts)
        finally:
            starts.close()
    c.summary()


if __name__ == "__main__":
    main()
