"""`headwater up` reacting to what other processes do, end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import random
import signal
import time

import headwater
from headwater.engine.execute.queue import reap
from tests._procs import headwater_env, running_up, wait_for

from . import generations as g

MODULE = "tests.engine.generations"


def test_self_triggering_loop_runs_until_deactivated(instance, tmp_path):
    headwater.register(MODULE)
    headwater.activate("evolve_loop")
    env = headwater_env(instance.settings.home, instance.settings.database_url)
    with running_up(env, tmp_path / "up.log", workers=1) as up:
        headwater.create_artifact(g.Gen, 0)  # the seed, published from outside
        wait_for(
            lambda: int(headwater.get_artifact(g.Gen.query()).version) >= 6,
            "six generations",
            logs=up.log,
        )
        headwater.deactivate("evolve_loop")
        wait_for(
            lambda: all(e.status.terminal for e in headwater.list_executions()),
            "running generations to end",
            logs=up.log,
        )
        assert up.stop() == 0
    latest = headwater.get_artifact(g.Gen.query())
    n = int(latest.version)
    assert latest.value() == n - 1  # version k holds generation k-1: no gaps, no repeats
    runs = headwater.list_executions(launch_plan="evolve_loop", limit=1000)
    assert len(runs) == n - 1 and all(r.status == "succeeded" for r in runs)
    graph = headwater.lineage(latest, direction="upstream", depth=n)
    assert {node.id for node in graph.nodes if node.kind == "artifact"} == {
        f"hw://default/development/generation@{v}" for v in range(1, n + 1)
    }


def test_exactly_once_while_processes_are_killed(instance, tmp_path):
    headwater.register(MODULE)
    headwater.activate("on_tick")
    env = headwater_env(instance.settings.home, instance.settings.database_url)
    rng = random.Random(7)
    sent = 0
    for round_ in range(3):
        with running_up(env, tmp_path / f"up{round_}.log", workers=2) as up:
            for _ in range(40):
                headwater.emit_event("tick", {"n": sent}, id=f"tick-{sent}")
                sent += 1
            wait_for(lambda: len(up.workers()) == 2, "two workers", logs=up.log)
            wait_for(
                lambda: headwater.list_executions(launch_plan="on_tick", limit=1),
                "the first firing",
                logs=up.log,
            )
            # The reactor and a worker crash while work is under way; `up` restarts them.
            time.sleep(rng.uniform(0.05, 0.3))
            reactor = up.reactor()
            assert reactor is not None, up.log()
            os.kill(reactor, signal.SIGKILL)
            os.kill(rng.choice(sorted(up.workers())), signal.SIGKILL)
            for _ in range(20):
                headwater.emit_event("tick", {"n": sent}, id=f"tick-{sent}")
                sent += 1
            wait_for(
                lambda old=reactor: up.reactor() not in (None, old), "a new reactor", logs=up.log
            )
            time.sleep(rng.uniform(0.05, 0.3))  # then the whole of `up` crashes
            up.kill()
        # Re-sending events after the crash must not fire again either.
        for n in rng.sample(range(sent), 10):
            headwater.emit_event("tick", {"n": n}, id=f"tick-{n}")
    with running_up(env, tmp_path / "final.log", workers=2) as up:

        def settled():
            reap(instance)
            runs = headwater.list_executions(launch_plan="on_tick", limit=10_000)
            return len(runs) == sent and all(r.status == "succeeded" for r in runs)

        def state() -> str:
            runs = headwater.list_executions(launch_plan="on_tick", limit=10_000)
            counts: dict[str, int] = {}
            for r in runs:
                counts[r.status.value] = counts.get(r.status.value, 0) + 1
            with instance.db.read() as tx:
                inbox = tx.scalar("SELECT COUNT(*) FROM reactor_inbox")
            failed = [r.error for r in runs if r.status == "failed"][:2]
            return f"{counts} inbox={inbox} failed={failed}\n{up.log()}"

        wait_for(settled, f"{sent} succeeded executions", timeout=90, logs=state)
        assert up.stop() == 0
    runs = headwater.list_executions(launch_plan="on_tick", limit=10_000)
    inputs = sorted(r.inputs["n"] for r in runs)
    assert inputs == list(range(sent))  # every event fired exactly once
    with instance.db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM reactor_inbox") == 0
        assert tx.scalar("SELECT COUNT(*) FROM executions WHERE status = 'running'") == 0


def _slots(instance) -> list[str | None]:
    if instance.db.dialect != "postgresql":
        return []
    with instance.db.read() as tx:
        return [r["execution_id"] for r in tx.all("SELECT execution_id FROM worker_slots")]


def test_an_idle_worker_is_handed_a_firing_and_takes_its_offer_back_when_stopped(
    instance, tmp_path
):
    # PostgreSQL: an idle worker process offers itself (storage/worker_slots.py) and the
    # reactor hands it the execution it fires, claimed in the firing's transaction. SQLite:
    # the worker claims it, as always. Either way it runs once.
    headwater.register(MODULE)
    headwater.activate("on_tick")
    pg = instance.db.dialect == "postgresql"
    env = headwater_env(instance.settings.home, instance.settings.database_url)
    with running_up(env, tmp_path / "up.log", workers=1) as up:
        wait_for(lambda: len(up.workers()) == 1, "a worker", logs=up.log)
        if pg:
            wait_for(lambda: _slots(instance) == [None], "the idle worker's offer", logs=up.log)
        headwater.emit_event("tick", {"n": 1}, id="tick-handed")
        wait_for(
            lambda: [e.status.terminal for e in headwater.list_executions()] == [True],
            "the firing to run",
            logs=up.log,
        )
        (run,) = headwater.list_executions(launch_plan="on_tick")
        assert run.status == "succeeded", up.log()
        if pg:
            assert _slots(instance) == [run.id], up.log()  # handed to it, not claimed
            # idle again, it offers itself again; a stop takes the offer back
            wait_for(lambda: _slots(instance) == [None], "the offer renewed", logs=up.log)
        assert up.stop() == 0
    assert _slots(instance) == []
    started = headwater.list_events(name="headwater.execution.started")
    assert [e.subject for e in started] == [run.id]
