"""Drive the reactor and a worker in-process, as `headwater up` would."""

from __future__ import annotations

from typing import Any

import headwater
from headwater.daemon.worker import Worker
from headwater.engine.execute import queue
from headwater.engine.react.reactor import Reactor


def react_and_run(inst: Any, rounds: int = 10) -> list[headwater.Execution]:
    """Decide pending events and run queued executions until nothing is left."""
    reactor, worker, done = Reactor(inst), Worker(inst), []
    for _ in range(rounds):
        progressed = False
        while reactor.run_once():
            progressed = True
        while (row := queue.claim(inst, worker.name, 30)) is not None:
            progressed = True
            worker.run_one(row)
            done.append(headwater.get_execution(row.id))
        if not progressed:
            break
    return done


def of(runs: list[headwater.Execution], workflow: str) -> list[headwater.Execution]:
    return [r for r in runs if r.workflow == workflow]


def one(runs: list[headwater.Execution], workflow: str) -> headwater.Execution:
    found = of(runs, workflow)
    assert len(found) == 1, [(r.workflow, r.status) for r in runs]
    assert found[0].status == "succeeded", found[0].error
    return found[0]
