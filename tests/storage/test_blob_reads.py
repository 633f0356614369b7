"""Bounded and streamed reads of a blob (``BlobStore.open`` and ``size``), in a local folder
and behind an fsspec URL, and the error for a blob that is gone."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from headwater.errors import MissingBlob
from headwater.storage.blobs import BlobStore


@pytest.fixture(params=["local", "fsspec"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return BlobStore(str(tmp_path / "blobs"))
    return BlobStore(f"memory://hw-{uuid.uuid4().hex}")


def test_open_reads_part_of_a_blob_and_size_needs_no_read(blobs: BlobStore) -> None:
    data = bytes(range(256)) * 100
    key = blobs.put_bytes(data)
    assert blobs.size(key) == len(data)
    with blobs.open(key) as fh:
        assert fh.read(10) == data[:10]
        fh.seek(1000)
        assert fh.read(5) == data[1000:1005]


def test_a_missing_blob_is_named(blobs: BlobStore) -> None:
    key = "sha256/ab/" + "c" * 62
    with pytest.raises(MissingBlob, match=key):
        blobs.open(key)
    with pytest.raises(MissingBlob, match=key):
        blobs.size(key)
