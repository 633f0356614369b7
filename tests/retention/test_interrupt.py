"""`headwater gc` killed mid-run (SIGKILL), then rerun: nothing dangles, nothing is left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import headwater
from headwater.engine.react.reactor import Reactor

from . import flows as f
from .helpers import blob_keys, consistent, referenced

SRC = Path(__file__).resolve().parents[2] / "src"
TESTS = Path(__file__).resolve().parents[1]
RETENTION = {
    "artifacts": {"gc_raw": {"keep_last": 2}},
    "executions_days": 0,
    "events_days": 0,
    "blobs_days": 0,
}


def _gc(instance, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        **instance.settings.to_env(),
        "HEADWATER_RETENTION": json.dumps(RETENTION),
        "PYTHONPATH": os.pathsep.join([str(SRC), str(TESTS)]),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "headwater.cli", "gc", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigkill_mid_gc_then_rerun_is_consistent(instance):
    for n in range(12):
        headwater.run(f.make_wf, n=n)
    reactor = Reactor(instance)
    while reactor.run_once():
        pass
    before = blob_keys(instance)
    proc = _gc(instance, "--batch", "1", "--pause", "0.2")
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.strip() == "versions: 3":
            break
    else:
        raise AssertionError(f"gc ended before purging 3 versions: {proc.wait()}")
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    proc.communicate()  # drain and close its pipes
    with instance.db.read() as tx:
        purged = tx.scalar("SELECT COUNT(*) FROM artifact_versions WHERE purged_at IS NOT NULL")
    assert 3 <= purged < 10  # cut short: some purged, not all
    consistent(instance)  # no live version points at a missing blob

    rerun = _gc(instance, "--json")
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert json.loads(out)["purged_versions"] == 10 - purged
    consistent(instance)
    left = blob_keys(instance)
    assert left <= referenced(instance)  # no orphan left after the rerun
    assert len(left) < len(before)
    with instance.db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM artifact_versions WHERE purged_at IS NULL") == 2


def test_dry_run_json_changes_nothing(instance):
    for n in range(4):
        headwater.run(f.make_wf, n=n)
    proc = _gc(instance, "--dry-run", "--json")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    plan = json.loads(out)
    assert plan["versions_to_purge"] == 2
    (raw,) = [a for a in plan["artifacts"] if a["artifact"].endswith("/gc_raw")]
    assert raw["kept"]["latest of its partition"] == 1 and raw["bytes_freed"] >= 0
    with instance.db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM artifact_versions WHERE purged_at IS NULL") == 4


def test_bad_policy_is_refused_by_the_cli(instance):
    env = {
        **os.environ,
        **instance.settings.to_env(),
        "HEADWATER_RETENTION": '{"artifacts": {"gc_raw": {"keep_last": 0}}}',
        "PYTHONPATH": str(SRC),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "headwater.cli", "gc", "--dry-run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "retention.artifacts.gc_raw: keep_last=0 would delete the latest" in proc.stderr
