"""A real `headwater up` serves the API: health, a CloudEvent in, a triggered run, SIGINT."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import httpx
import pytest

import _procs

from .conftest import cloud_event, registration, structured

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_up_serves_events_that_fire_launch_plans(tmp_path, database_url):
    port = free_port()
    env = _procs.headwater_env(tmp_path / "home", database_url)
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "headwater.cli", "up", "--workers", "1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def logs() -> str:
        return log.read_text(errors="replace")[-4000:]

    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=10) as http:
            _procs.wait_healthy(base, logs)
            assert f"HTTP API: {base}" in log.read_text()
            r = http.post(
                "/api/v1/registrations", json=registration("tests.api.sensors", activate=True)
            )
            assert r.status_code == 201, r.text
            r = http.post(
                "/api/v1/events",
                **structured(cloud_event("sensor.reading", {"reading": 5}, id="up-1")),
            )
            assert r.status_code == 202, r.text

            def fired() -> str | None:
                decisions = http.get("/api/v1/events/up-1").json()["decisions"]
                return decisions[0]["execution_id"] if decisions else None

            ex_id = _procs.wait_for(fired, "the reactor's decision", logs=logs)

            def finished() -> dict | None:
                ex = http.get(f"/api/v1/executions/{ex_id}").json()
                return ex if ex["status"] in ("succeeded", "failed") else None

            ex = _procs.wait_for(finished, "the triggered execution", timeout=60, logs=logs)
            assert ex["status"] == "succeeded", ex["error"]
            assert "headwater_worker_processes 1.0" in http.get("/metrics").text
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, logs()
        assert "Traceback" not in logs(), logs()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
