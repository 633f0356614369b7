"""Reactors and schedulers in standby: three ``headwater up --workers 0`` (each with its own
home and port) on one throwaway PostgreSQL. One reactor and one scheduler lead; the leader's
whole "machine" is SIGKILLed and a standby takes over.

The burst is the full 10,000 events of issue 12 (written straight into the event log, as the
HTTP API would): on the shared 2-core test machine the whole test, three `up`s, the burst and
two kills, takes ~10 s, well within the ~2 minutes it may use. The leader is killed after 20%
and after 50% of the burst is decided.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import headwater
from headwater.instance import Instance
from headwater.settings import Settings
from headwater.storage.events import insert_event
from headwater.storage.leases import Holder, current_holder
from tests import _procs

pytestmark = pytest.mark.slow

BURST = 10_000
# The whole burst in one transaction: it is all pending when the leader starts on it. (In
# transactions of 500, a test process slowed by other work let the leader keep pace with the
# inserts, and the burst could end before the second kill.)
INSERT_TX = BURST

FLOW = """
from datetime import timedelta

from headwater import FixedRate, LaunchPlan, OnEvent, task, workflow


@task
def sink(n: int) -> int:
    return n


@workflow
def consume(n: int = 0) -> int:
    return sink(n=n)


on_standby_tick = LaunchPlan.create(
    "on_standby_tick", consume, trigger=OnEvent("standby.tick", parameters=["n"]),
    auto_activate=True,
)
"""

SCHEDULED = """
every_second = LaunchPlan.create(
    "every_second", consume, schedule=FixedRate(timedelta(seconds=1)), auto_activate=True
)
"""


class Machine:
    """One ``headwater up --workers 0`` with a home of its own."""

    def __init__(self, root: Path, name: str, env: dict[str, str]) -> None:
        self.name = name
        home = root / name
        home.mkdir(parents=True)
        self.log_path = home / "up.log"
        port = str(_procs.free_port())
        self.url = f"http://127.0.0.1:{port}"
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "headwater.cli", "up", "--workers", "0", "--port", port],
                env={**env, "HEADWATER_HOME": str(home)},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def roles(self) -> dict[str, str] | None:
        """What its ``/healthz`` says it is (None until it answers with its roles)."""
        import httpx

        try:
            roles = httpx.get(self.url + "/healthz", timeout=5).json().get("roles")
        except (httpx.TransportError, ValueError):
            return None
        return roles if roles and len(roles) == 2 else None

    def log(self) -> str:
        return f"--- {self.name}\n" + self.log_path.read_text(errors="replace")[-3000:]

    def processes(self) -> list[int]:
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += sorted(_procs.children(pid))
        return found

    def kill(self) -> None:
        """The machine dies: all its processes at once (frozen first, so none reacts)."""
        pids = self.processes()
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        self.proc.wait(10)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)


@contextmanager
def three_ups(
    tmp_path: Path, postgres_url: str, flow_text: str
) -> Iterator[tuple[Instance, list[Machine]]]:
    flow = tmp_path / "author" / "standby_flow.py"
    flow.parent.mkdir()
    flow.write_text(textwrap.dedent(flow_text))
    blobs = tmp_path / "blobs"  # one blob folder for all (one machine in this test)
    inst = Instance(
        Settings.from_env(
            {}, home=tmp_path / "author" / "home", database_url=postgres_url, storage_url=str(blobs)
        )
    )
    machines: list[Machine] = []
    try:
        with inst.use():
            headwater.register(flow, activate=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
        env.update(
            HEADWATER_DATABASE_URL=postgres_url,
            HEADWATER_STORAGE_URL=str(blobs),
            PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
        )
        machines += [Machine(tmp_path, f"up-{i}", env) for i in range(3)]
        yield inst, machines
    finally:
        for m in machines:
            if m.proc.poll() is None:
                m.kill()
        inst.close()


def logs_of(machines: list[Machine]) -> str:
    return "\n".join(m.log() for m in machines)


def holder(inst: Instance, role: str) -> Holder | None:
    with inst.db.read() as tx:
        return current_holder(tx, role=role)


def machine_of(machines: list[Machine], h: Holder) -> Machine | None:
    """The live machine whose process holds the lead (the reactor's parent, or `up` itself)."""
    for m in machines:
        if m.proc.poll() is None and m.proc.pid in (h.pid, h.ppid):
            return m
    return None


def wait_new_leader(
    inst: Instance, role: str, machines: list[Machine], gone: Holder | None
) -> tuple[Holder, Machine]:
    def led() -> tuple[Holder, Machine] | None:
        h = holder(inst, role)
        if h is None or (gone is not None and h.holder == gone.holder):
            return None
        m = machine_of(machines, h)
        return None if m is None else (h, m)

    found: tuple[Holder, Machine] = _procs.wait_for(
        led, f"a {role} leader", timeout=60, logs=lambda: logs_of(machines)
    )
    return found


def count(inst: Instance, sql: str) -> int:
    with inst.db.read() as tx:
        return int(tx.scalar(sql))


def test_reactor_leader_killed_twice_during_a_burst_decides_every_event_once(
    tmp_path: Path, postgres_url: str
) -> None:
    with three_ups(tmp_path, postgres_url, FLOW) as (inst, machines):
        logs = lambda: logs_of(machines)  # noqa: E731
        first, leading = wait_new_leader(inst, "reactor", machines, None)
        # /healthz of each `up` says whether its reactor leads or stands by: one leads
        roles = [_procs.wait_for(m.roles, f"roles of {m.name}", logs=logs) for m in machines]
        assert sorted(r["reactor"] for r in roles) == ["leader", "standby", "standby"]
        assert roles[machines.index(leading)]["reactor"] == "leader"
        now = time.time()
        for start in range(0, BURST, INSERT_TX):
            with inst.db.transaction() as tx:
                for n in range(start, min(start + INSERT_TX, BURST)):
                    insert_event(
                        tx,
                        id=f"burst-{n}",
                        name="standby.tick",
                        source="test",
                        project=inst.project,
                        domain=inst.domain,
                        subject=None,
                        time=now,
                        payload={"n": n},
                    )
        decided = "SELECT COUNT(*) FROM trigger_decisions"
        gone = first
        for share in (0.2, 0.5):
            _procs.wait_for(
                lambda share=share: count(inst, decided) >= BURST * share,  # type: ignore[misc]
                f"{share:.0%} of the burst decided",
                timeout=90,
                logs=logs,
            )
            assert count(inst, decided) < BURST, f"the burst ended before the kill at {share:.0%}"
            leading.kill()
            gone, leading = wait_new_leader(inst, "reactor", machines, gone)
        _procs.wait_for(
            lambda: count(inst, "SELECT COUNT(*) FROM reactor_inbox") == 0,
            "the whole burst decided",
            timeout=90,
            logs=logs,
        )

        with inst.db.read() as tx:
            per_event = tx.all(
                "SELECT d.event_seq, COUNT(*) AS n, SUM(CASE WHEN d.outcome = 'fired' "
                "THEN 1 ELSE 0 END) AS fired FROM trigger_decisions d "
                "JOIN events e ON e.seq = d.event_seq WHERE e.name = 'standby.tick' "
                "GROUP BY d.event_seq"
            )
            firings = tx.all("SELECT firing_key, COUNT(*) AS n FROM firings GROUP BY firing_key")
            executions = tx.all(
                "SELECT event_seq, COUNT(*) AS n FROM executions "
                "WHERE launch_plan = 'on_standby_tick' GROUP BY event_seq"
            )
        assert len(per_event) == BURST
        assert {(int(r["n"]), int(r["fired"])) for r in per_event} == {(1, 1)}
        assert len(firings) == BURST and {int(r["n"]) for r in firings} == {1}
        assert len(executions) == BURST and {int(r["n"]) for r in executions} == {1}
        text = logs()
        assert text.count("reactor: standby -> leader after") >= 2, text
        survivors = [m for m in machines if m.proc.poll() is None]
        assert len(survivors) == 1
        assert survivors[0].stop() == 0, logs()


def test_a_schedule_ticks_once_per_tick_across_three_ups(tmp_path: Path, postgres_url: str) -> None:
    with three_ups(tmp_path, postgres_url, FLOW + SCHEDULED) as (inst, machines):
        logs = lambda: logs_of(machines)  # noqa: E731
        ticks = "SELECT COUNT(*) FROM events WHERE name = 'headwater.schedule.tick'"
        _, leading = wait_new_leader(inst, "scheduler", machines, None)
        _procs.wait_for(lambda: count(inst, ticks) >= 3, "3 ticks", timeout=60, logs=logs)
        leading.kill()  # the scheduler's leader dies: another takes over
        seen = count(inst, ticks)
        _procs.wait_for(
            lambda: count(inst, ticks) >= seen + 3, "3 more ticks", timeout=60, logs=logs
        )
        _procs.wait_for(
            lambda: count(inst, "SELECT COUNT(*) FROM reactor_inbox") == 0,
            "the ticks decided",
            timeout=60,
            logs=logs,
        )
        for m in machines:
            if m.proc.poll() is None:
                assert m.stop() == 0, logs()
        with inst.db.read() as tx:
            payloads = [
                r["payload"]
                for r in tx.all("SELECT payload FROM events WHERE name = 'headwater.schedule.tick'")
            ]
            executions = int(
                tx.scalar("SELECT COUNT(*) FROM executions WHERE launch_plan = 'every_second'")
            )
        import json

        times = sorted(json.loads(p)["scheduled_time"] for p in payloads)
        assert len(times) == len(set(times))  # one event per tick
        assert executions == len(times)  # one execution per tick
        assert logs().count("scheduler: standby -> leader") >= 2, logs()
