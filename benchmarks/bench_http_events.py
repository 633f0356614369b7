"""Events accepted per second over HTTP by a real ``headwater up`` (uvicorn) on SQLite.

Targets (this 2-core machine, fresh ``HEADWATER_HOME``): single-event POSTs from one
keep-alive client >= 2,000 events/s (< 500 us per event), batches of 1,000 events >= 20,000
events/s (< 50 us per event). Every event is committed before its 202; ``headwater up
--workers 0`` runs the reactor too (its own process), which decides every event (no launch
plan matches, so it records no firing). At the end: how many events still wait for the
reactor, and how long until all are decided.

The client is the standard library's ``http.client.HTTPConnection`` (one connection, kept
alive), the leanest Python client: the client runs on the same 2 CPUs as the server, so its
own cost per request counts against the server's. The same single POSTs from an
``httpx.Client`` are measured too, for reference (no target): httpx spends ~0.2 ms more per
request in the client.

Run: ``.venv/bin/python benchmarks/bench_http_events.py [--single N] [--batches N]``.
"""

from __future__ import annotations

import argparse
import json
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from http.client import HTTPConnection

import _common as c
import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def backlog(db: str) -> int:
    with sqlite3.connect(db, timeout=30) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM reactor_inbox").fetchone()[0])


def stored(db: str) -> int:
    with sqlite3.connect(db, timeout=30) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--single", type=int, default=5000, help="single-event POSTs")
    parser.add_argument("--batches", type=int, default=30, help="batches of 1,000 events")
    args = parser.parse_args()
    c.install_signal_handlers()
    c.header(
        "bench_http_events",
        "POST /api/v1/events to `headwater up --workers 0` on SQLite; events/s accepted.",
    )
    with c.temp_dir("hw-bench-http-") as home:
        db = str(home / "headwater.db")
        port = free_port()
        env = c.clean_env(HEADWATER_HOME=str(home))
        log = (home / "up.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "headwater.cli", "up", "--workers", "0", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
                deadline = time.monotonic() + 30
                while True:
                    try:
                        if http.get("/healthz").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    c.check(time.monotonic() < deadline, "headwater up did not come up")
                    time.sleep(0.05)
                for i in range(200):  # warm-up
                    http.post("/api/v1/events", json={"name": "warm.up", "id": f"w{i}"})

                run = uuid.uuid4().hex[:8]
                conn = HTTPConnection("127.0.0.1", port, timeout=60)
                headers = {"Content-Type": "application/json"}

                def post(body: object) -> tuple[int, bytes]:
                    conn.request("POST", "/api/v1/events", json.dumps(body), headers)
                    resp = conn.getresponse()
                    return resp.status, resp.read()

                for i in range(200):  # warm-up of this connection
                    post({"name": "warm.up", "id": f"{run}-w{i}"})
                t0 = time.perf_counter()
                for i in range(args.single):
                    status, text = post(
                        {"name": "bench.single", "id": f"{run}-s{i}", "payload": {"i": i}}
                    )
                    c.check(status == 202, text.decode())
                single = time.perf_counter() - t0
                c.target(
                    f"single-event POSTs ({args.single}, keep-alive http.client)",
                    single / args.single,
                    1 / 2000,
                    f"{args.single / single:,.0f} events/s; target >= 2,000/s",
                )
                t0 = time.perf_counter()
                for i in range(args.single):
                    r = http.post(
                        "/api/v1/events",
                        json={"name": "bench.httpx", "id": f"{run}-x{i}", "payload": {"i": i}},
                    )
                    c.check(r.status_code == 202, r.text)
                took = time.perf_counter() - t0
                c.figure(
                    f"single-event POSTs ({args.single}, keep-alive httpx.Client), for reference",
                    f"{c.fmt_time(took / args.single)} per event, {args.single / took:,.0f} "
                    "events/s (no target)",
                )

                batches = [
                    [
                        {"name": "bench.batch", "id": f"{run}-b{b}-{i}", "payload": {"i": i}}
                        for i in range(1000)
                    ]
                    for b in range(args.batches)
                ]
                t0 = time.perf_counter()
                for body in batches:
                    status, text = post(body)
                    c.check(status == 202 and len(json.loads(text)["ids"]) == 1000, text[:200])
                batch = time.perf_counter() - t0
                n = 1000 * args.batches
                c.target(
                    f"batches of 1,000 ({n} events, keep-alive http.client)",
                    batch / n,
                    1 / 20000,
                    f"{n / batch:,.0f} events/s; target >= 20,000/s",
                )
                conn.close()
                total = 400 + 2 * args.single + n
                c.check(stored(db) == total, f"{stored(db)} events stored, expected {total}")
                behind = backlog(db)
                t0 = time.perf_counter()
                while backlog(db):
                    c.check(time.perf_counter() - t0 < 600, "the reactor did not catch up")
                    time.sleep(0.05)
                c.figure(
                    "reactor at the end",
                    f"{behind} of {total} events not yet decided; all decided "
                    f"{time.perf_counter() - t0:.2f} s later",
                )
        finally:
            if proc.poll() is None:
                proc.send_signal(2)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
            log.close()
        c.check(proc.returncode == 0, f"headwater up exited with {proc.returncode}")
    c.summary()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
