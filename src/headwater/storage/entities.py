"""Rows of ``entities``: registered versions of tasks and workflows.

A version is identified by (project, domain, name, version) and never changes once stored;
``spec`` is the entity's JSON description (interface, outputs, options), ``snapshot`` the
digest of its code in ``code_snapshots``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from headwater.storage.db import Tx


@dataclass(frozen=True, slots=True)
class EntityRow:
    """One registered version of a task or workflow."""

    id: int
    project: str
    domain: str
    name: str
    version: str
    kind: str
    snapshot: str
    spec: str
    created_at: float

    @classmethod
    def from_db(cls, r: Any) -> EntityRow:
        return cls(
            id=r["id"],
            project=r["project"],
            domain=r["domain"],
            name=r["name"],
            version=r["version"],
            kind=r["kind"],
            snapshot=r["snapshot"],
            spec=r["spec"],
            created_at=r["created_at"],
        )


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
    """Store a version (``spec`` JSON-encoded); a version already stored is left as it is."""
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


def get_entity(tx: Tx, *, project: str, domain: str, name: str, version: str) -> EntityRow | None:
    """That version, or None."""
    r = tx.one(
        "SELECT * FROM entities WHERE project = :p AND domain = :d AND name = :n AND version = :v",
        {"p": project, "d": domain, "n": name, "v": version},
    )
    return None if r is None else EntityRow.from_db(r)


def get_spec(tx: Tx, *, project: str, domain: str, name: str, version: str) -> str | None:
    """The ``spec`` (JSON text) of that version, or None."""
    r = tx.one(
        "SELECT spec FROM entities WHERE project = :p AND domain = :d AND "
        "name = :n AND version = :v",
        {"p": project, "d": domain, "n": name, "v": version},
    )
    return None if r is None else str(r["spec"])


def all_specs(tx: Tx) -> list[str]:
    """The ``spec`` of every stored version (of every name, project and domain)."""
    return [str(r["spec"]) for r in tx.all("SELECT spec FROM entities")]


def name_exists(tx: Tx, *, project: str, domain: str, name: str) -> bool:
    """Whether any version of ``name`` is registered in ``project``/``domain``."""
    return (
        tx.one(
            "SELECT 1 FROM entities WHERE project = :p AND domain = :d AND name = :n LIMIT 1",
            {"p": project, "d": domain, "n": name},
        )
        is not None
    )


def latest_entity(tx: Tx, *, project: str, domain: str, name: str) -> EntityRow | None:
    """The version of ``name`` stored last, or None."""
    r = tx.one(
        "SELECT * FROM entities WHERE project = :p AND domain = :d AND name = :n "
        "ORDER BY id DESC LIMIT 1",
        {"p": project, "d": domain, "n": name},
    )
    return None if r is None else EntityRow.from_db(r)


def list_entities(
    tx: Tx, *, project: str | None = None, domain: str | None = None, kind: str | None = None
) -> list[EntityRow]:
    """The newest version of each registered name (filters: None means any), by name."""
    where, params = [], {}
    for col, value in (("project", project), ("domain", domain), ("kind", kind)):
        if value is not None:
            where.append(f"{col} = :{col}")
            params[col] = value
    cond = (" AND " + " AND ".join(where)) if where else ""
    rows = tx.all(
        "SELECT * FROM entities e WHERE id = (SELECT MAX(id) FROM entities x WHERE "
        f"x.project = e.project AND x.domain = e.domain AND x.name = e.name){cond} "
        "ORDER BY name",
        params,
    )
    return [EntityRow.from_db(r) for r in rows]
