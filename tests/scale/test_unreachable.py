"""An unreachable database, object store or Dask scheduler (a closed loopback port): ``headwater
worker`` and ``headwater up`` say which (without the password) and how to fix it, retry with a
growing delay, and give up after ``--connect-timeout`` with exit code 69."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from headwater.daemon.reach import EXIT_UNREACHABLE
from tests._procs import free_port


def _headwater(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("HEADWATER_", "AWS_"))}
    environ.update(
        HEADWATER_HOME=str(tmp_path / "home"),
        PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "headwater.cli", *args],
        env=environ,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_worker_waits_for_the_database_then_gives_up_naming_it(tmp_path: Path) -> None:
    port = free_port()
    url = f"postgresql+psycopg://hw:s3cret@127.0.0.1:{port}/headwater"
    done = _headwater(tmp_path, "worker", "--connect-timeout", "2", HEADWATER_DATABASE_URL=url)
    assert done.returncode == EXIT_UNREACHABLE, done.stderr
    err = done.stderr
    assert f"cannot reach the database at postgresql+psycopg://hw:***@127.0.0.1:{port}" in err
    assert "fix HEADWATER_DATABASE_URL" in err
    assert "trying again in 0.5 s" in err and "trying again in 1.0 s" in err  # backoff
    assert "Gave up after" in err and "--connect-timeout" in err
    assert "s3cret" not in err


def test_up_waits_for_the_database_then_gives_up_naming_it(tmp_path: Path) -> None:
    port = free_port()
    url = f"postgresql+psycopg://hw:s3cret@127.0.0.1:{port}/headwater"
    done = _headwater(
        tmp_path,
        "up",
        "--port",
        str(free_port()),
        "--connect-timeout",
        "1",
        HEADWATER_DATABASE_URL=url,
    )
    assert done.returncode == EXIT_UNREACHABLE, done.stderr
    assert f"cannot reach the database at postgresql+psycopg://hw:***@127.0.0.1:{port}" in (
        done.stderr
    )
    assert "s3cret" not in done.stderr


def test_a_worker_names_an_unreachable_object_store(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    done = _headwater(
        tmp_path,
        "worker",
        "--connect-timeout",
        "1",
        HEADWATER_STORAGE_URL="s3://hw-bucket/blobs",
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="headwater",
        AWS_SECRET_ACCESS_KEY="headwater",
        AWS_MAX_ATTEMPTS="1",
    )
    assert done.returncode == EXIT_UNREACHABLE, done.stderr
    assert f"cannot reach the object store at s3://hw-bucket/blobs (endpoint {endpoint})" in (
        done.stderr
    )
    assert "fix HEADWATER_STORAGE_URL" in done.stderr


def test_a_worker_names_an_unreachable_dask_scheduler(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    port = free_port()
    done = _headwater(
        tmp_path, "worker", "--executor", f"dask://127.0.0.1:{port}", "--connect-timeout", "1"
    )
    assert done.returncode == EXIT_UNREACHABLE, done.stderr
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in done.stderr
    assert "HEADWATER_WORKER_EXECUTOR" in done.stderr


def test_a_bad_connect_timeout_setting_is_refused(tmp_path: Path) -> None:
    done = _headwater(tmp_path, "worker", "--once", HEADWATER_CONNECT_TIMEOUT="soon")
    assert done.returncode == 2
    assert "HEADWATER_CONNECT_TIMEOUT='soon' is not a number of seconds >= 0" in done.stderr


def test_a_worker_goes_on_once_the_scheduler_answers(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from tests import _procs

    from .conftest import _dask, _stop

    port = free_port()
    log = tmp_path / "worker.log"
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("HEADWATER_", "AWS_"))}
    environ.update(
        HEADWATER_HOME=str(tmp_path / "home"), PYTHONPATH=os.pathsep.join(p for p in sys.path if p)
    )
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [
                *(sys.executable, "-m", "headwater.cli", "worker", "--once"),
                *("--executor", f"dask://127.0.0.1:{port}", "--connect-timeout", "0"),
            ],
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    scheduler = None
    try:
        _procs.wait_for(lambda: "trying again in" in log.read_text(), "a retry", timeout=60)
        scheduler = _dask(
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-dashboard",
            log=tmp_path / "scheduler.log",
        )
        assert worker.wait(90) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        if scheduler is not None:
            _stop(scheduler)
    text = log.read_text()
    assert "the Dask scheduler at tcp://127.0.0.1:" in text and "answers now" in text
    assert "nothing queued on default; exiting" in text
