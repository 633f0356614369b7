"""Rows for registered code snapshots and entity (task/workflow) versions."""

from __future__ import annotations

import json
from typing import Any

from headwater.storage.db import Tx


def insert_snapshot(
    tx: Tx, *, digest: str, blob_key: str, root: str, files: int, size: int, now: float
) -> None:
    tx.execute(
        "INSERT INTO code_snapshots (digest, blob_key, root, files, size, created_at) "
        "VALUES (:d, :b, :r, :f, :s, :t) ON CONFLICT (digest) DO NOTHING",
        {"d": digest, "b": blob_key, "r": root, "f": files, "s": size, "t": now},
    )


def get_snapshot(tx: Tx, digest: str) -> Any:
    return tx.one("SELECT * FROM code_snapshots WHERE digest = :d", {"d": digest})


def insert_entity(
    tx: Tx,
    *,
    project: str,
    domain: str,
    name: str,
    version: str,
    kind: str,
    snapshot: str,
    spec: dict[str, Any],
    now: float,
) -> None:
    tx.execute(
        "INSERT INTO entities (project, domain, name, version, kind, snapshot, spec, "
        "created_at) VALUES (:p, :d, :n, :v, :k, :s, :spec, :t) "
        "ON CONFLICT (project, domain, name, version) DO NOTHING",
        {
            "p": project,
            "d": domain,
            "n": name,
            "v": version,
            "k": kind,
            "s": snapshot,
            "spec": json.dumps(spec, sort_keys=True),
            "t": now,
        },
    )


def latest_entity(tx: Tx, project: str, domain: str, name: str) -> Any:
    return tx.one(
        "SELECT * FROM entities WHERE project = :p AND domain = :d AND name = :n "
        "ORDER BY id DESC LIMIT 1",
        {"p": project, "d": domain, "n": name},
    )


def get_entity(tx: Tx, project: str, domain: str, name: str, version: str) -> Any:
    return tx.one(
        "SELECT * FROM entities WHERE project = :p AND domain = :d AND name = :n AND version = :v",
        {"p": project, "d": domain, "n": name, "v": version},
    )


def list_entities(
    tx: Tx, project: str | None = None, domain: str | None = None, kind: str | None = None
) -> list[Any]:
    """The newest version of each registered name."""
    where, params = [], {}
    for col, value in (("project", project), ("domain", domain), ("kind", kind)):
        if value is not None:
            where.append(f"{col} = :{col}")
            params[col] = value
    cond = (" AND " + " AND ".join(where)) if where else ""
    return tx.all(
        "SELECT * FROM entities e WHERE id = (SELECT MAX(id) FROM entities x WHERE "
        f"x.project = e.project AND x.domain = e.domain AND x.name = e.name){cond} "
        "ORDER BY name",
        params,
    )
