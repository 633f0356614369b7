from __future__ import annotations

from pathlib import Path

import pytest

from headwater.storage.blobs import BlobStore


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(str(tmp_path / "blobs"))


@pytest.fixture(autouse=True)
def _file_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "file-cache"
    monkeypatch.setenv("HEADWATER_FILE_CACHE", str(cache))
    return cache
