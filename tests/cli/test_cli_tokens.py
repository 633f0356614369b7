"""`headwater tokens create|list|revoke`, and `headwater up --host` with and without auth."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import httpx

import _procs
from headwater.api import create_app
from headwater.instance import get_instance
from tests.cli.cli_helpers import Invoke, as_json, ok


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

    import anyio

    assert anyio.run(status) == 200
    out = ok(hw("tokens", "revoke", "ci"))
    assert "revoked token 'ci'" in out.stdout
    assert anyio.run(status) == 401
    listed = {t["name"]: t for t in as_json(hw("tokens", "list", "--json"))}
    assert listed["ci"]["revoked_at"] and not listed["keep"]["revoked_at"]
    missing = hw("tokens", "revoke", "ci")
    assert missing.exit_code == 2 and "no live token" in missing.stderr


def test_bad_role_and_project(hw: Invoke) -> None:
    assert hw("tokens", "create", "x", "--project", "*", "--role", "root").exit_code == 2
    bad = hw("tokens", "create", "x", "--project", "a/b", "--role", "viewer")
    assert bad.exit_code == 2 and "project" in bad.stderr


def test_up_on_all_interfaces_needs_auth(hw: Invoke, home: Path, tmp_path: Path) -> None:
    env = _procs.headwater_env(home, f"sqlite:///{home / 'headwater.db'}")
    port = _procs.free_port()
    argv = [sys.executable, "-m", "headwater.cli", "up", "--workers", "0", "--port", str(port)]
    refused = subprocess.run(
        [*argv, "--host", "0.0.0.0"], env=env, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 2, refused.stderr
    assert "headwater tokens create" in refused.stderr
    as_json(hw("tokens", "create", "ops", "--project", "*", "--role", "admin", "--json"))
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*argv, "--host", "0.0.0.0"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _procs.wait_healthy(f"http://127.0.0.1:{port}", lambda: log.read_text())
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/executions").status_code == 401
    finally:
        proc.terminate()
        proc.wait(30)
