"""Checks shared by the GC tests."""

from __future__ import annotations

import json
from typing import Any

from headwater.engine.retention.run import _referenced, _stored
from headwater.instance import Instance


def blob_keys(inst: Instance) -> set[str]:
    return {k for k, _, _ in _stored(inst)}


def live_version_blobs(inst: Instance) -> list[tuple[int, str]]:
    with inst.db.read() as tx:
        found = tx.all("SELECT id, value FROM artifact_versions WHERE purged_at IS NULL")
    out = []
    for r in found:
        key = json.loads(r["value"]).get("blob")
        if key:
            out.append((int(r["id"]), key))
    return out


def referenced(inst: Instance) -> set[str]:
    from headwater.storage import retention as rows

    with inst.db.read() as tx:
        return _referenced(inst, list(rows.referencing_texts(tx)))


def consistent(inst: Instance) -> None:
    """No live version points at a missing blob."""
    have = blob_keys(inst)
    missing = [(v, k) for v, k in live_version_blobs(inst) if k not in have]
    assert not missing, f"versions whose blob is gone: {missing}"


def settings_with(inst: Instance, **retention: Any) -> Instance:
    return Instance(inst.settings.with_(retention=json.dumps(retention)))
