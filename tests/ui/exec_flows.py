"""A workflow that runs until a file appears, for the live-status browser test: the test opens
the running execution's page, creates the file, and watches the status change."""

from __future__ import annotations

import time
from pathlib import Path

from headwater import LaunchPlan, OnEvent, task, workflow

WAIT_LIMIT = 120.0  # seconds: a test that never creates the file fails instead of hanging


@task
def wait_for(path: str) -> str:
    deadline = time.monotonic() + WAIT_LIMIT
    while not Path(path).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {WAIT_LIMIT:g} s")
        time.sleep(0.1)
    return Path(path).read_text()


@workflow
def wait_for_file(path: str = "") -> str:
    return wait_for(path=path)


LaunchPlan.create(
    "wait_on_file", wait_for_file, trigger=OnEvent("exec.wait", parameters={"path": "path"})
)
