"""``headwater executions cancel``: a queued execution ends at once; an ended one is refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.cli.cli_helpers import Invoke, as_json, ok

FLOW = """
from headwater import task, workflow


@task
def double(x: int) -> int:
    return x * 2


@workflow
def wf(x: int = 1) -> int:
    return double(x=x)
"""


def test_cancel_a_queued_execution_then_refuse_it_again(
    hw: Invoke, write_module: Callable[[str, str], Path]
) -> None:
    path = write_module("cancel_flow", FLOW)
    done = as_json(hw("run", path, "wf", "-i", "x=2", "--json"))
    queued = as_json(hw("executions", "relaunch", done["id"], "--queue", "--json"))
    assert queued["status"] == "queued"

    out = ok(hw("executions", "cancel", queued["id"])).stdout
    assert out == f"{queued['id']} cancelled (cancel_flow.wf)\n"
    shown = as_json(hw("executions", "show", queued["id"], "--json"))
    assert shown["status"] == "cancelled" and shown["error"]["type"] == "Cancelled"

    again = hw("executions", "cancel", queued["id"])
    assert again.exit_code == 2
    assert "has already ended (cancelled)" in again.stderr and again.stdout == ""
    finished = hw("executions", "cancel", done["id"], "--json")
    assert finished.exit_code == 2 and "already ended (succeeded)" in finished.stderr
    unknown = hw("executions", "cancel", "nope")
    assert unknown.exit_code == 2 and "no execution 'nope'" in unknown.stderr
    statuses = {e["id"]: e["status"] for e in as_json(hw("executions", "list", "--json"))}
    assert statuses == {done["id"]: "succeeded", queued["id"]: "cancelled"}
