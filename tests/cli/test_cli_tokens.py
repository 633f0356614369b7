"""`headwater tokens create|list|revoke`, and `headwater up --host` with and without auth."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx
from click.testing import CliRunner
from fastapi import FastAPI

import _procs
from headwater.api import create_app
from headwater.api.exposure import check_host
from headwater.cli import main
from headwater.instance import get_instance
from tests.cli.cli_helpers import Invoke, as_json, ok

T = TypeVar("T")


def run_async(func: Callable[..., Awaitable[T]], *args: Any) -> T:
    """``anyio.run`` in a thread of its own: this thread may already run an event loop (the
    browser tests' Playwright keeps one in the main thread once it has started)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, func, *args).result()


def test_create_shows_the_secret_once_and_stores_only_its_hash(hw: Invoke, home: Path) -> None:
    created = as_json(hw("tokens", "create", "ci", "--project", "*", "--role", "editor", "--json"))
    secret = created["token"]
    assert secret.startswith("hw_") and len(secret) > 40
    assert created["prefix"] == secret[:9] and created["role"] == "editor"
    listed = ok(hw("tokens", "list"))
    assert "ci" in listed.stdout and secret not in listed.stdout
    listed_json = as_json(hw("tokens", "list", "--json"))
    assert [t["name"] for t in listed_json] == ["ci"]
    assert "token" not in listed_json[0] and secret not in str(listed_json)
    plain = ok(hw("tokens", "create", "ci2", "--project", "default", "--role", "viewer"))
    assert plain.stdout.count("hw_") == 1  # printed once, on stdout
    raw = b"".join(p.read_bytes() for p in home.glob("headwater.db*"))  # with the WAL
    assert secret.encode() not in raw
    with get_instance().db.read() as tx:
        rows = [dict(r) for r in tx.all("SELECT * FROM api_tokens")]
    assert secret not in str(rows)
    assert rows[0]["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()


def test_revoke_then_401(hw: Invoke, home: Path) -> None:
    secret = as_json(hw("tokens", "create", "ci", "--project", "*", "--role", "admin", "--json"))[
        "token"
    ]
    as_json(hw("tokens", "create", "keep", "--project", "*", "--role", "viewer", "--json"))
    app = create_app(get_instance())
    transport = httpx.ASGITransport(app=app)

    async def status() -> int:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            r = await client.get(
                "/api/v1/executions", headers={"Authorization": f"Bearer {secret}"}
            )
            return r.status_code

    assert run_async(status) == 200
    out = ok(hw("tokens", "revoke", "ci"))
    assert "revoked token 'ci'" in out.stdout
    assert run_async(status) == 401
    listed = {t["name"]: t for t in as_json(hw("tokens", "list", "--json"))}
    assert listed["ci"]["revoked_at"] and not listed["keep"]["revoked_at"]
    missing = hw("tokens", "revoke", "ci")
    assert missing.exit_code == 2 and "no live token" in missing.stderr


def test_bad_role_and_project(hw: Invoke) -> None:
    assert hw("tokens", "create", "x", "--project", "*", "--role", "root").exit_code == 2
    bad = hw("tokens", "create", "x", "--project", "a/b", "--role", "viewer")
    assert bad.exit_code == 2 and "project" in bad.stderr


def test_up_on_all_interfaces_needs_auth(hw: Invoke, home: Path) -> None:
    # Refused before anything binds; with a token the same host passes the check, and the app
    # built for it demands the token. (Tests never bind a non-loopback address.)
    env = _procs.headwater_env(home, f"sqlite:///{home / 'headwater.db'}")
    argv = [sys.executable, "-m", "headwater.cli", "up", "--workers", "0", "--port", "1"]
    refused = subprocess.run(
        [*argv, "--host", "0.0.0.0"], env=env, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 2, refused.stderr
    assert "headwater tokens create" in refused.stderr
    as_json(hw("tokens", "create", "ops", "--project", "*", "--role", "admin", "--json"))
    assert check_host("0.0.0.0", get_instance()) == "0.0.0.0"
    app = create_app(get_instance(), host="0.0.0.0", port=8265)
    assert run_async(status_of, app, "/api/v1/executions", None) == 401


async def status_of(app: FastAPI, path: str, secret: str | None) -> int:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return (await client.get(path, headers=headers)).status_code


def test_status_and_allow_open(hw: Invoke, home: Path) -> None:
    assert ok(hw("tokens", "status")).stdout.startswith("auth: not required")
    assert as_json(hw("tokens", "status", "--json"))["auth_required"] is False
    secret = as_json(hw("tokens", "create", "ops", "--project", "*", "--role", "admin", "--json"))
    create_app(get_instance(), host="0.0.0.0", port=8265)  # what `up --host 0.0.0.0` builds
    ok(hw("tokens", "revoke", "ops"))
    # Every token revoked: still required, and the status says why and how to lift it.
    shown = ok(hw("tokens", "status")).stdout
    assert "auth: required: an API server bound 0.0.0.0:8265" in shown
    assert "headwater tokens allow-open" in shown
    body = as_json(hw("tokens", "status", "--json"))
    assert body["auth_required"] is True and body["live_tokens"] == 0
    assert "0.0.0.0:8265" in body["exposed"]["reason"]
    app = create_app(get_instance())  # a restart, on loopback
    assert run_async(status_of, app, "/api/v1/executions", None) == 401
    assert run_async(status_of, app, "/api/v1/executions", secret["token"]) == 401
    # A deliberate act: asked first, and "no" changes nothing.
    declined = CliRunner().invoke(main, ["tokens", "allow-open"], input="n\n")
    assert declined.exit_code == 1
    assert as_json(hw("tokens", "status", "--json"))["auth_required"] is True
    assert "lifted" in ok(hw("tokens", "allow-open", "--yes")).stdout
    assert ok(hw("tokens", "status")).stdout.startswith("auth: not required")
    assert run_async(status_of, create_app(get_instance()), "/api/v1/executions", None) == 200
    refused = hw("up", "--host", "0.0.0.0")  # no token, no flag: refused before binding
    assert refused.exit_code == 2 and "refusing to listen" in refused.stderr
    assert "nothing to lift" in ok(hw("tokens", "allow-open")).stdout
