"""Storage faults over HTTP: a missing blob is a 404, a full disk a 503 with what to free, and
``/healthz`` says unhealthy while writes fail. The disks are real and tiny (tmpfs mounts),
so the errors are the ones the drivers really raise."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

import _pg
import headwater
from headwater.instance import Instance
from headwater.settings import Settings

from .conftest import Api, error_of, serve


@contextmanager
def tiny_disk(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path`` (needs root)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def noise(n: int) -> str:
    """``n`` characters that do not compress (a compressed page would not fill the disk)."""
    return base64.b64encode(os.urandom(n * 3 // 4)).decode()


def fill(post: Callable[[int], Any], limit: int = 200) -> Any:
    """Call ``post(i)`` until a response is not a success; that response."""
    for i in range(limit):
        r = post(i)
        if r.status_code >= 300:
            return r
    raise AssertionError(f"the disk never filled up after {limit} writes")


def assert_full(api: Api, r: Any, hint: str) -> dict[str, Any]:
    err = error_of(r, 503)
    assert err["type"] == "StorageFull", err
    assert hint in err["message"], err
    health = api.get("/healthz")
    assert health.status_code == 503, health.text
    assert health.json()["status"] == "unavailable", health.text
    assert "free disk space" in health.json()["reason"], health.text
    return err


def test_a_missing_blob_is_a_404_naming_the_key(instance: Instance) -> None:
    version = headwater.create_artifact(headwater.Artifact("big"), {"rows": noise(8000)})
    key = version.literal["blob"]
    blob = Path(instance.blobs.location(key))
    blob.unlink()
    with serve(instance) as api:
        err = error_of(api.get(f"/api/v1/blobs/{key}"), 404)
    assert err["type"] == "MissingBlob" and key in err["message"], err


def test_a_full_sqlite_disk_is_a_503_naming_the_disk_and_healthz_says_so(
    tmp_path: Path,
) -> None:
    with tiny_disk(tmp_path / "disk", "3m") as disk:
        inst = Instance(Settings.from_env({}, home=disk))
        try:
            with serve(inst) as api:
                assert api.get("/healthz").status_code == 200

                def post(i: int) -> Any:
                    body = {"name": "fill", "id": f"fill-{i}", "payload": {"x": noise(200_000)}}
                    return api.post("/api/v1/events", json=body)

                r = fill(post)
                failed_id = json.loads(r.request.content)["id"]
                assert_full(api, r, f"free disk space on {disk}")
                # Reads still work, and the refused event was not stored.
                assert api.get("/api/v1/events", params={"limit": 1}).status_code == 200
                assert error_of(api.get(f"/api/v1/events/{failed_id}"), 404)
        finally:
            inst.close()


def test_a_full_postgresql_disk_is_a_503_and_healthz_says_so(
    tmp_path: Path, postgres_cluster: _pg.Cluster, request: pytest.FixtureRequest
) -> None:
    if postgres_cluster.external:
        pytest.skip("needs a server on this machine (its tablespace goes on a tmpfs here)")
    name = f"hw_{uuid.uuid4().hex[:12]}"
    # Outside pytest's folders, which the server's OS user may not enter.
    mount = Path(tempfile.mkdtemp(prefix="hw-disk-"))
    mount.chmod(0o755)
    request.addfinalizer(lambda: mount.rmdir() if mount.is_dir() else None)
    with tiny_disk(mount, "24m") as disk:
        space = disk / "ts"
        space.mkdir()
        if os.geteuid() == 0:  # the server runs as the postgres user
            import pwd

            pg = pwd.getpwnam(_pg.SERVICE_USER)
            os.chown(space, pg.pw_uid, pg.pw_gid)
        admin = _pg.libpq_url(postgres_cluster.url)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE TABLESPACE {name} LOCATION '{space}'")
            conn.execute(f"CREATE DATABASE {name} TABLESPACE {name}")
        url = postgres_cluster.url.rsplit("/", 1)[0] + f"/{name}"
        inst = Instance(Settings.from_env({}, home=tmp_path / "home", database_url=url))
        try:
            with serve(inst) as api:
                assert api.get("/healthz").status_code == 200

                def post(i: int) -> Any:
                    body = {"name": "fill", "id": f"fill-{i}", "payload": {"x": noise(500_000)}}
                    return api.post("/api/v1/events", json=body)

                r = fill(post)
                failed_id = json.loads(r.request.content)["id"]
                assert_full(api, r, "free disk space on the database server")
                assert api.get("/api/v1/events", params={"limit": 1}).status_code == 200
                assert error_of(api.get(f"/api/v1/events/{failed_id}"), 404)
        finally:
            inst.close()
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                conn.execute(f"DROP TABLESPACE IF EXISTS {name}")


def test_a_full_blob_store_is_a_503_and_leaves_no_temporary_files(
    tmp_path: Path, database_url: str
) -> None:
    with tiny_disk(tmp_path / "blobs", "2m") as blobs:
        settings = Settings.from_env(
            {}, home=tmp_path / "home", database_url=database_url, storage_url=str(blobs)
        )
        inst = Instance(settings)
        try:
            with serve(inst) as api:
                assert api.get("/healthz").status_code == 200

                def post(i: int) -> Any:
                    body = {"name": f"blob_{i}", "value": {"x": noise(300_000)}}
                    return api.post("/api/v1/artifacts", json=body)

                r = fill(post)
                failed = json.loads(r.request.content)["name"]
                assert_full(api, r, f"free disk space on {blobs}")
                assert api.get("/api/v1/artifacts", params={"name": failed}).json() == []
            assert list(blobs.rglob(".tmp-*")) == []
        finally:
            inst.close()
