"""Workers on any machine: a control plane (``headwater up --workers 0``) and two worker
"machines" (separate processes, homes and working directories) that share only a throwaway
PostgreSQL and a SeaweedFS S3 endpoint. A burst of triggered executions runs once each; one
machine is SIGKILLed mid-run and its executions move to the other when their leases expire.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import headwater
from headwater.instance import Instance
from headwater.settings import Settings
from headwater.storage import executions as rows
from headwater.storage import node_executions as node_rows
from tests import _procs
from tests._s3 import S3

pytestmark = pytest.mark.slow

BURST = 30
LEASE = "3"  # seconds: a dead machine's executions are taken over within a few seconds
# The doomed machine's database sessions carry this name (libpq reads $PGAPPNAME), so that the
# test can wait until the server has finished whatever that machine had sent before it died.
DOOMED_SESSIONS = "hw-test machine-a"

FLOW = """
import os
import time
import uuid
from pathlib import Path

from headwater import LaunchPlan, OnEvent, task, workflow

EFFECTS = Path(os.environ.get("HW_TEST_EFFECTS", "."))


@task(retries=1)
def work(x: int) -> int:
    (EFFECTS / f"start-{x}-{uuid.uuid4().hex}").write_text(os.environ.get("HW_TEST_MACHINE", ""))
    time.sleep(0.5)
    (EFFECTS / f"done-{x}-{uuid.uuid4().hex}").write_text(os.environ.get("HW_TEST_MACHINE", ""))
    return x * x


@workflow
def burst(x: int = 0) -> int:
    return work(x=x)


on_burst_tick = LaunchPlan.create(
    "on_burst_tick", burst, trigger=OnEvent("burst.tick", parameters=["x"]), auto_activate=True
)
"""


class Machine:
    """One process with a home and a working directory of its own."""

    def __init__(self, root: Path, name: str, env: dict[str, str], argv: list[str]) -> None:
        self.name = name
        self.home = root / name / "home"
        self.cwd = root / name / "cwd"
        self.cwd.mkdir(parents=True)
        self.log_path = root / name / "log"
        env = {**env, "HEADWATER_HOME": str(self.home), "HW_TEST_MACHINE": name}
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "headwater.cli", *argv],
                env=env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return f"--- {self.name}\n" + self.log_path.read_text(errors="replace")[-3000:]

    def processes(self) -> list[int]:
        """This machine's processes: the one started and all its descendants."""
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += sorted(_procs.children(pid))
        return found

    def signal_all(self, sig: int) -> None:
        for pid in self.processes():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """The machine dies: every process of it at once (frozen first, so that none sees
        another go and reacts)."""
        self.signal_all(signal.SIGSTOP)
        self.signal_all(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)


def test_two_worker_machines_share_a_burst_and_survive_one_dying(
    tmp_path: Path, postgres_url: str, seaweed_s3: S3, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = seaweed_s3.new_bucket(f"hw-{uuid.uuid4().hex[:12]}")
    storage = f"s3://{bucket}/blobs"
    for key, value in seaweed_s3.env().items():
        monkeypatch.setenv(key, value)
    effects = tmp_path / "effects"  # the test's own record of what the task did
    effects.mkdir()
    flow = tmp_path / "author" / "burst_flow.py"
    flow.parent.mkdir()
    flow.write_text(textwrap.dedent(FLOW))
    inst = Instance(
        Settings.from_env(
            {}, home=tmp_path / "author" / "home", database_url=postgres_url, storage_url=storage
        )
    )
    machines: list[Machine] = []

    def logs() -> str:
        return "\n".join(m.log() for m in machines)

    try:
        with inst.use():
            headwater.register(flow, activate=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
        env.update(
            seaweed_s3.env(),
            HEADWATER_DATABASE_URL=postgres_url,
            HEADWATER_STORAGE_URL=storage,
            HW_TEST_EFFECTS=str(effects),
            PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
        )
        port = str(_procs.free_port())
        control = Machine(tmp_path, "control", env, ["up", "--workers", "0", "--port", port])
        machines.append(control)
        _procs.wait_for(
            lambda: "0 worker processes" in control.log(), "the control plane", logs=logs
        )
        doomed = Machine(
            tmp_path,
            "machine-a",
            {**env, "PGAPPNAME": DOOMED_SESSIONS},
            ["worker", "--name", "a", "--concurrency", "2", "--lease", LEASE],
        )
        survivor = Machine(tmp_path, "machine-b", env, ["worker", "--name", "b", "--lease", LEASE])
        machines += [doomed, survivor]

        with inst.use():
            for x in range(BURST):
                headwater.emit_event("burst.tick", {"x": x})

        def executions() -> list[Any]:
            with inst.db.read() as tx:
                return rows.list_executions(tx, launch_plan="on_burst_tick", limit=1000)

        def running_on_a_now() -> list[str]:
            found = executions()
            return [r.id for r in found if r.status == "running" and r.worker.startswith("a-")]

        def running_on_a() -> list[str]:
            found = executions()
            done_on_a = sum(r.status == "succeeded" and r.worker.startswith("a-") for r in found)
            return running_on_a_now() if done_on_a >= 1 else []

        def doomed_sessions() -> int:
            with inst.db.read() as tx:
                return int(
                    tx.scalar(
                        "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = :name",
                        {"name": DOOMED_SESSIONS},
                    )
                )

        def retried_on_a() -> set[str]:
            """Executions the reaper took from machine a (their retrying events)."""
            with inst.db.read() as tx:
                found = tx.all(
                    "SELECT payload FROM events WHERE name = 'headwater.execution.retrying'"
                )
            payloads = [json.loads(r["payload"]) for r in found]
            return {p["execution_id"] for p in payloads if p["worker"].startswith("a-")}

        while True:
            _procs.wait_for(running_on_a, "machine a mid-run", timeout=60, logs=logs)
            doomed.signal_all(signal.SIGSTOP)  # frozen: what runs there now stays so
            if running_on_a():
                break
            doomed.signal_all(signal.SIGCONT)
        assert doomed_sessions() > 0  # (so that the wait below means something)
        doomed.kill()
        # A statement machine a sent just before it froze (a claim, a task's or an
        # execution's result) is still carried out by the server: its sessions must end before
        # what it left running is known. Those are the victims (the reaper may have requeued
        # some of them already: their leases may expire meanwhile).
        _procs.wait_for(
            lambda: doomed_sessions() == 0, "machine a's database sessions to end", logs=logs
        )
        victims = sorted(set(running_on_a_now()) | retried_on_a())

        def all_ended() -> list[Any] | None:
            found = executions()
            ended = len(found) == BURST and all(r.status in ("succeeded", "failed") for r in found)
            return found if ended else None

        found = _procs.wait_for(all_ended, f"{BURST} executions to end", timeout=90, logs=logs)

        # none lost: every event made one execution, and every one succeeded
        assert [r.status for r in found] == ["succeeded"] * BURST, logs()
        with inst.db.read() as tx:
            xs = sorted(
                int(r["payload"].split(":")[1].strip(" }"))
                for r in tx.all("SELECT payload FROM events WHERE name = 'burst.tick'")
            )
        assert xs == list(range(BURST))
        # the dead machine's executions (those seen running there, and any it claimed while
        # it was being killed) were taken over by the other after their leases expired
        by_id = {r.id: r for r in found}
        taken_over = {r.id for r in found if r.attempts > 1}
        assert taken_over == set(victims), logs()  # (it claimed nothing once dead)
        with inst.db.read() as tx:
            retried = [
                json.loads(r["payload"])
                for r in tx.all(
                    "SELECT payload FROM events WHERE name = 'headwater.execution.retrying'"
                )
            ]
        assert sorted(p["execution_id"] for p in retried) == sorted(taken_over)
        for payload in retried:
            assert payload["worker"].startswith("a-"), payload
            assert "stopped heartbeating" in payload["reason"]
        for eid in taken_over:
            assert (by_id[eid].worker, by_id[eid].attempts) == ("b", 2)
        others = [r for r in found if r.id not in taken_over]
        assert all(r.attempts == 1 for r in others)
        assert any(r.worker.startswith("a-") for r in others)  # a worked before it died
        victims = sorted(taken_over)
        # none twice: one task call per execution that never ran on the killed machine, and
        # one successful task call in the attempt that ended each taken-over execution. Before
        # that call, a taken-over execution recorded at most what machine a did: nothing (it
        # died before the task started), the call it was running (failed: its worker was lost)
        # or a call it had finished (succeeded: it died after the task's result was committed
        # and before the execution's; a retry runs the workflow again, its task included).
        # The task's side effect happened at least once per event, exactly once for every
        # execution that never ran on the killed machine, and once more for each call that
        # succeeded (a run killed after its side effect and before its commit legitimately
        # does it again on the survivor).
        with inst.db.read() as tx:
            nodes = {r.id: [n.status for n in node_rows.list_nodes(tx, r.id)] for r in found}
        for eid, statuses in nodes.items():
            if eid not in victims:
                assert statuses == ["succeeded"], (eid, statuses)
            else:
                assert statuses[-1:] == ["succeeded"], (eid, statuses)
                assert len(statuses) <= 2 and statuses[0] in ("failed", "succeeded"), statuses
        x_of = {r.id: headwater_input(inst, r, "x") for r in found}
        assert sorted(x_of.values()) == list(range(BURST))
        victim_xs = {x_of[eid] for eid in victims}
        done = Counter(int(p.name.split("-")[1]) for p in effects.glob("done-*"))
        assert set(done) == set(range(BURST)), done
        for x in range(BURST):
            assert done[x] <= (2 if x in victim_xs else 1), (x, done[x], sorted(victim_xs))
        for eid, statuses in nodes.items():
            assert done[x_of[eid]] >= statuses.count("succeeded"), (eid, statuses, done)
        started = Counter(int(p.name.split("-")[1]) for p in effects.glob("start-*"))
        assert all(started[x] == 1 for x in range(BURST) if x not in victim_xs), started
        assert all(1 <= started[x] <= 2 for x in victim_xs), started
        assert BURST < sum(started.values()) <= BURST + len(victims)
        outputs = sorted(headwater_output(inst, r) for r in found)
        assert outputs == sorted(x * x for x in range(BURST))

        assert survivor.stop() == 0, logs()
        assert control.stop() == 0, logs()
    finally:
        for m in machines:
            if m.proc.poll() is None:
                m.kill()
        inst.close()


def headwater_input(inst: Instance, row: Any, name: str) -> int:
    with inst.use():
        return int(headwater.get_execution(row.id).inputs[name])


def headwater_output(inst: Instance, row: Any) -> int:
    with inst.use():
        return int(headwater.get_execution(row.id).output)
