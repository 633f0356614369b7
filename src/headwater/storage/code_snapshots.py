"""Rows of ``code_snapshots``: registered code, content-addressed by ``digest``.

The files themselves are one JSON bundle in the blob store (``blob_key``); a row is written
once per digest and never changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headwater.storage.db import Tx


@dataclass(frozen=True, slots=True)
class CodeSnapshotRow:
    """One registered code snapshot."""

    digest: str
    blob_key: str
    root: str
    files: int
    size: int
    created_at: float

    @classmethod
    def from_db(cls, r: Any) -> CodeSnapshotRow:
        return cls(
            digest=r["digest"],
            blob_key=r["blob_key"],
            root=r["root"],
            files=r["files"],
            size=r["size"],
            created_at=r["created_at"],
        )


def insert_snapshot(
    tx: Tx, *, digest: str, blob_key: str, root: str, files: int, size: int, now: float
) -> None:
    """Record a snapshot; one already recorded under ``digest`` is left as it is."""
    tx.execute(
        "INSERT INTO code_snapshots (digest, blob_key, root, files, size, created_at) "
        "VALUES (:d, :b, :r, :f, :s, :t) ON CONFLICT (digest) DO NOTHING",
        {"d": digest, "b": blob_key, "r": root, "f": files, "s": size, "t": now},
    )


def get_snapshot(tx: Tx, *, digest: str) -> CodeSnapshotRow | None:
    """The snapshot of ``digest``, or None."""
    r = tx.one("SELECT * FROM code_snapshots WHERE digest = :d", {"d": digest})
    return None if r is None else CodeSnapshotRow.from_db(r)
