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

The floor, measured in the same run with the same client loops: a bare Starlette app on
uvicorn (same uvicorn settings as ``headwater up``, its own process) whose one route reads the
same body, parses the JSON and answers 202 with the ids, storing nothing. Figures are printed
and recorded beside it with ratio = headwater / floor (the share of the floor's events/s).

Each measured phase opens a fresh connection (and warms it): a connection left idle while
another phase runs outlives the server's keep-alive (uvicorn: 5 s) and the next request would
die with ``BrokenPipeError``; a request whose send still fails that way is sent again on a new
connection (an event id is stored once: the insert ignores a repeated ``(id, source)``).

Run: ``.venv/bin/python benchmarks/bench_http_events.py [--quick] [--single N] [--batches N]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from http.client import HTTPConnection
from typing import Any

import _common as c
import httpx

FLOOR_APP = """
import json, sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def events(request):
    body = json.loads(await request.body())
    if isinstance(body, list):
        return JSONResponse({"ids": [item["id"] for item in body]}, status_code=202)
    return JSONResponse({"id": body["id"]}, status_code=202)


async def healthz(request):
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/api/v1/events", events, methods=["POST"]),
                        Route("/healthz", healthz)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            access_log=False, lifespan="off")
"""


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


class Client:
    """One keep-alive ``http.client`` connection that reconnects when the server has closed
    it (an idle connection past the server's keep-alive)."""

    HEADERS = {"Content-Type": "application/json"}

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = HTTPConnection("127.0.0.1", port, timeout=60)
        self.reconnects = 0

    def fresh(self) -> None:
        self.conn.close()
        self.conn = HTTPConnection("127.0.0.1", self.port, timeout=60)

    def post(self, body: object) -> tuple[int, bytes]:
        data = json.dumps(body)
        for attempt in (1, 2):
            try:
                self.conn.request("POST", "/api/v1/events", data, self.HEADERS)
                resp = self.conn.getresponse()
                return resp.status, resp.read()
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                if attempt == 2:
                    raise
                self.reconnects += 1
                self.fresh()
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def wait_healthy(port: int, what: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        while True:
            try:
                if http.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            c.check(proc.poll() is None, f"{what} exited with {proc.returncode}")
            c.check(time.monotonic() < deadline, f"{what} did not come up")
            time.sleep(0.05)


def single_phase(port: int, n: int, tag: str) -> float:
    """Events/s of ``n`` single-event POSTs on a fresh, warmed keep-alive connection."""
    client = Client(port)
    try:
        for i in range(200):  # warm-up of this connection
            client.post({"name": "warm.up", "id": f"{tag}-w{i}"})
        t0 = time.perf_counter()
        for i in range(n):
            status, text = client.post(
                {"name": "bench.single", "id": f"{tag}-s{i}", "payload": {"i": i}}
            )
            c.check(status == 202, text.decode())
        return n / (time.perf_counter() - t0)
    finally:
        client.close()


def batch_phase(port: int, n_batches: int, tag: str) -> float:
    """Events/s of ``n_batches`` POSTs of 1,000 events each, fresh connection."""
    batches = [
        [{"name": "bench.batch", "id": f"{tag}-b{b}-{i}", "payload": {"i": i}} for i in range(1000)]
        for b in range(n_batches)
    ]
    client = Client(port)
    try:
        client.post({"name": "warm.up", "id": f"{tag}-bw"})
        t0 = time.perf_counter()
        for body in batches:
            status, text = client.post(body)
            c.check(status == 202 and len(json.loads(text)["ids"]) == 1000, text[:200].decode())
        return 1000 * n_batches / (time.perf_counter() - t0)
    finally:
        client.close()


def start(argv: list[str], env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(2)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--single", type=int, default=1000 if c.QUICK else 5000)
    parser.add_argument("--batches", type=int, default=10 if c.QUICK else 30)
    parser.add_argument("--quick", action="store_true", help="1,000 single POSTs, 10 batches")
    args = parser.parse_args()
    c.install_signal_handlers()
    c.header(
        "bench_http_events",
        "POST /api/v1/events to `headwater up --workers 0` on SQLite, and to a bare "
        "Starlette/uvicorn endpoint (the floor); events/s accepted.",
    )
    with c.temp_dir("hw-bench-http-") as home:
        db = str(home / "headwater.db")
        port, floor_port = free_port(), free_port()
        env = c.clean_env(HEADWATER_HOME=str(home))
        log = (home / "up.log").open("wb")
        (home / "floor_app.py").write_text(FLOOR_APP)
        proc = start(
            [sys.executable, "-m", "headwater.cli", "up", "--workers", "0", "--port", str(port)],
            env,
            log,
        )
        floor = start([sys.executable, str(home / "floor_app.py"), str(floor_port)], env, log)
        try:
            wait_healthy(port, "headwater up", proc)
            wait_healthy(floor_port, "the floor app", floor)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
                for i in range(200):  # warm-up
                    http.post("/api/v1/events", json={"name": "warm.up", "id": f"w{i}"})
            run = uuid.uuid4().hex[:8]

            single = single_phase(port, args.single, run)
            single_floor = single_phase(floor_port, args.single, run)
            c.target(
                f"single-event POSTs ({args.single}, keep-alive http.client)",
                1 / single,
                1 / 2000,
                f"{single:,.0f} events/s; target >= 2,000/s",
            )
            c.floor_line("single-event POSTs", single, single_floor, "events/s", True)
            c.record("single-event POSTs", single, "events/s", single_floor)

            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
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
            c.record("single-event POSTs, httpx client", args.single / took, "events/s")

            batch = batch_phase(port, args.batches, run)
            batch_floor = batch_phase(floor_port, args.batches, run)
            n = 1000 * args.batches
            c.target(
                f"batches of 1,000 ({n} events, keep-alive http.client)",
                1 / batch,
                1 / 20000,
                f"{batch:,.0f} events/s; target >= 20,000/s",
            )
            c.floor_line("batches of 1,000", batch, batch_floor, "events/s", True)
            c.record("batches of 1,000", batch, "events/s", batch_floor)

            total = 200 + 200 + 2 * args.single + 1 + n
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
            stop(floor)
            stop(proc)
            log.close()
        c.check(proc.returncode == 0, f"headwater up exited with {proc.returncode}")
    c.summary()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
