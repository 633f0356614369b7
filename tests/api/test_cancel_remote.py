"""`headwater executions cancel` as a client of a real `headwater up` (SQLite, PostgreSQL):
the server cancels the running execution and its worker kills the process running the task."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import _procs
import headwater
from headwater.instance import Instance
from headwater.settings import Settings
from headwater.storage import executions as rows
from tests.api.test_client_mode_cli import Cli, hw, server  # noqa: F401  (fixtures)
from tests.cli.cli_helpers import as_json, ok

pytestmark = pytest.mark.slow

HANGS = """
import os
import time
from pathlib import Path

from headwater import task, workflow


@task
def hang(x: int) -> int:
    Path({flag!r}).write_text(str(os.getpid()))
    time.sleep(120)
    return x


@workflow
def wf(x: int = 1) -> int:
    return hang(x=x)
"""


def test_cancel_a_running_execution_through_the_server(hw: Cli, tmp_path: Path) -> None:  # noqa: F811
    flag = tmp_path / "hang.pid"
    path = tmp_path / f"hang_{int(time.time() * 1e6)}.py"
    path.write_text(HANGS.format(flag=str(flag)))
    settings = Settings.from_env({}, home=hw.server.home, database_url=hw.server.database_url)
    inst = Instance(settings)
    try:
        with inst.use():
            reg = next(r for r in headwater.register(path) if getattr(r, "kind", "") == "workflow")
        eid = _procs.enqueue(inst, reg, 3)
        pid = int(_procs.wait_for(lambda: flag.exists() and flag.read_text(), "the task", 60))

        out = ok(hw("executions", "cancel", eid)).stdout
        assert out == f"{eid} cancelled ({reg.name})\n"
        _procs.wait_for(lambda: not _procs.alive(pid), "the task's process to be killed", 30)
        with inst.db.read() as tx:
            row = rows.get_execution(tx, eid)
        assert row.status == "cancelled"
        assert json.loads(row.error)["type"] == "Cancelled"

        again = hw("executions", "cancel", eid, "--json")
        assert again.exit_code == 2 and "already ended (cancelled)" in again.stderr
        assert as_json(hw("executions", "show", eid, "--json"))["status"] == "cancelled"
    finally:
        inst.close()
