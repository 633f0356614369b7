"""The ``artifacts`` table: one row per artifact name (per project and domain).

Its ``latest_seq`` numbers the artifact's versions; its ``spec`` (JSON) is the latest
declaration. Versions are in ``artifact_versions`` (storage/artifact_versions.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from headwater.storage.db import Tx


@dataclass(frozen=True, slots=True)
class ArtifactRow:
    """One ``artifacts`` row; ``spec`` is the declaration as JSON text."""

    id: int
    project: str
    domain: str
    name: str
    spec: str
    latest_seq: int
    created_at: float

    @classmethod
    def from_db(cls, r: Any) -> ArtifactRow:
        return cls(
            id=r["id"],
            project=r["project"],
            domain=r["domain"],
            name=r["name"],
            spec=r["spec"],
            latest_seq=r["latest_seq"],
            created_at=r["created_at"],
        )


def get_artifact(tx: Tx, project: str, domain: str, name: str) -> ArtifactRow | None:
    """The artifact ``name`` of ``project``/``domain``, or None before its first version."""
    r = tx.one(
        "SELECT * FROM artifacts WHERE project = :p AND domain = :d AND name = :n",
        {"p": project, "d": domain, "n": name},
    )
    return None if r is None else ArtifactRow.from_db(r)


def ensure_artifact(
    tx: Tx, project: str, domain: str, name: str, spec: dict[str, Any], now: float
) -> ArtifactRow:
    """The artifact row, created on first use; its spec follows the latest declaration."""
    body = json.dumps(spec, sort_keys=True)
    row = get_artifact(tx, project, domain, name)
    if row is None:
        tx.execute(
            "INSERT INTO artifacts (project, domain, name, spec, latest_seq, created_at) "
            "VALUES (:p, :d, :n, :s, 0, :t) ON CONFLICT DO NOTHING",
            {"p": project, "d": domain, "n": name, "s": body, "t": now},
        )
        row = get_artifact(tx, project, domain, name)
    elif row.spec != body:
        tx.execute("UPDATE artifacts SET spec = :s WHERE id = :id", {"s": body, "id": row.id})
        row = get_artifact(tx, project, domain, name)
    assert row is not None  # inserted above, or by a concurrent writer (ON CONFLICT)
    return row


def next_version(tx: Tx, artifact_id: int) -> str:
    """Versions count up per artifact: 1, 2, 3, ... (the row lock orders concurrent writers)."""
    seq = tx.scalar(
        "UPDATE artifacts SET latest_seq = latest_seq + 1 WHERE id = :id RETURNING latest_seq",
        {"id": artifact_id},
    )
    return str(seq)


def name_exists(tx: Tx, *, name: str) -> bool:
    """Whether an artifact called ``name`` exists in any project or domain."""
    return tx.one("SELECT 1 FROM artifacts WHERE name = :n LIMIT 1", {"n": name}) is not None
