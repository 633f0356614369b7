"""Failover of the reactor: the leading ``headwater up`` dies, a standby decides the next event.

Target: < 5 s with default settings (issue 12).

Set-up per run: a fresh database on a throwaway PostgreSQL (tests/_pg.py), one launch plan
listening to ``failover.tick``, two ``headwater up --workers 0`` (own homes and ports, one
shared blob folder). A feeder writes one event every 10 ms straight into the event log. Once
the leader (``server_state`` row ``leader:reactor``) has decided events, its whole "machine"
dies: every process of that ``up`` is frozen (SIGSTOP) and then SIGKILLed. Measured: from the
SIGKILL to the ``created_at`` of the first decision made after it (the standby's, as the dead
leader can decide nothing more). Three runs; the median is held to the target.

Run: ``.venv/bin/python benchmarks/bench_failover.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import _common as c

FLOW = """
from headwater import LaunchPlan, OnEvent, task, workflow


@task
def sink(n: int) -> int:
    return n


@workflow
def consume(n: int = 0) -> int:
    return sink(n=n)


on_failover_tick = LaunchPlan.create(
    "on_failover_tick", consume, trigger=OnEvent("failover.tick", parameters=["n"]),
    auto_activate=True,
)
"""

FEED_EVERY = 0.01  # seconds between events


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    if str(c.TESTS) not in sys.path:
        sys.path.insert(0, str(c.TESTS))
    import _procs

    return sorted(_procs.children(pid))


class Up:
    def __init__(self, root: Path, name: str, env: dict[str, str]) -> None:
        home = root / name
        home.mkdir(parents=True)
        self.log_path = home / "up.log"
        port = str(free_port())
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "headwater.cli", "up", "--workers", "0", "--port", port],
                env={**env, "HEADWATER_HOME": str(home)},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def processes(self) -> list[int]:
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += _children(pid)
        return found

    def signal_all(self, pids: list[int], sig: int) -> None:
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.signal_all(self.processes(), signal.SIGKILL)
                self.proc.wait()


def one_run(pg: c.Postgres, root: Path) -> float:
    import headwater
    from headwater.instance import Instance
    from headwater.settings import Settings
    from headwater.storage.events import insert_event
    from headwater.storage.leases import current_holder

    url = pg.database("hwfailover")
    flow = root / "author" / "failover_flow.py"
    flow.parent.mkdir(parents=True)
    flow.write_text(textwrap.dedent(FLOW))
    blobs = root / "blobs"
    inst = Instance(
        Settings.from_env(
            {}, home=root / "author" / "home", database_url=url, storage_url=str(blobs)
        )
    )
    ups: list[Up] = []
    stop = threading.Event()
    try:
        with inst.use():
            headwater.register(flow, activate=True)
        env = c.clean_env(
            HEADWATER_DATABASE_URL=url,
            HEADWATER_STORAGE_URL=str(blobs),
            PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
        )
        ups = [Up(root, f"up-{i}", env) for i in range(2)]

        def feed() -> None:
            n = 0
            while not stop.wait(FEED_EVERY):
                with inst.db.transaction() as tx:
                    insert_event(
                        tx,
                        id=f"tick-{n}",
                        name="failover.tick",
                        source="bench",
                        project=inst.project,
                        domain=inst.domain,
                        subject=None,
                        time=time.time(),
                        payload={"n": n},
                    )
                n += 1

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()

        def decided() -> int:
            with inst.db.read() as tx:
                return int(tx.scalar("SELECT COUNT(*) FROM trigger_decisions"))

        deadline = time.monotonic() + 120
        leader = None
        while leader is None or decided() < 50:
            if time.monotonic() > deadline:
                raise RuntimeError("no reactor leader decided events within 120 s")
            time.sleep(0.1)
            with inst.db.read() as tx:
                h = current_holder(tx, role="reactor")
            if h is not None:
                leader = next((u for u in ups if u.proc.pid in (h.pid, h.ppid)), None)
        assert leader is not None
        pids = leader.processes()
        leader.signal_all(pids, signal.SIGSTOP)
        killed_at = time.time()
        leader.signal_all(pids, signal.SIGKILL)
        leader.proc.wait(10)
        while True:
            with inst.db.read() as tx:
                first = tx.scalar(
                    "SELECT MIN(created_at) FROM trigger_decisions WHERE created_at > :t",
                    {"t": killed_at},
                )
            if first is not None:
                return float(first) - killed_at
            if time.time() - killed_at > 60:
                raise RuntimeError("no decision within 60 s of the leader's death")
            time.sleep(0.02)
    finally:
        stop.set()
        for u in ups:
            u.stop()
        inst.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1 if c.QUICK else 3)
    parser.add_argument("--quick", action="store_true", help="one run")
    args = parser.parse_args()
    c.install_signal_handlers()
    c.header(
        "bench_failover",
        "two `headwater up --workers 0` on one PostgreSQL; the reactor leader's machine is "
        "SIGKILLed; time to the first decision by the standby.",
    )
    with c.postgres() as pg:
        if pg is None:
            return 0
        times = []
        for i in range(args.runs):
            with c.temp_dir("hw-failover-") as root:
                took = one_run(pg, root)
            times.append(took)
            c.figure(f"run {i + 1}: leader SIGKILLed -> next decision", c.fmt_time(took))
        c.target(
            f"failover, median of {len(times)} runs",
            c.median(times),
            5.0,
            "runs: " + ", ".join(c.fmt_time(t) for t in times),
        )
        c.record("failover: leader SIGKILLed -> next decision, median", c.median(times), "s")
    c.summary()
    return 0


if __name__ == "__main__":
    sys.exit(main())
