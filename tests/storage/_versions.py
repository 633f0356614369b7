"""Shared setup for the contract tests of the artifact and lineage tables: a migrated
database, and rows to hang versions, cards and edges on (written through storage/ itself)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import psycopg

from headwater.definitions.names import partition_key_text
from headwater.storage import artifact_partitions, artifact_versions, artifacts
from headwater.storage.db import Database, Tx
from headwater.storage.executions import insert_execution
from headwater.storage.migrate import ensure_schema
from tests import _schema

# What a broken unique or primary key raises (the drivers' own errors pass through Tx).
INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError)

SPEC = {"name": "model", "partition_keys": ["region"], "granularity": None}


def migrated(url: str) -> Iterator[Database]:
    """A ``Database`` on an empty database brought to head (a copy of one the migrations
    brought there, tests/_schema.py)."""
    db = Database(_schema.at_head(url))  # a copy of a migrated database (tests/_schema.py)
    try:
        ensure_schema(db)
        yield db
    finally:
        db.close()


def add_version(
    tx: Tx,
    name: str = "model",
    *,
    partitions: dict[str, str] | None = None,
    time_partition: str | None = None,
    value: dict[str, Any] | None = None,
    execution_id: str | None = None,
    now: float = 1_700_000_000.0,
    project: str = "proj",
    domain: str = "dev",
) -> int:
    """A new version of artifact ``name`` as the engine writes one; its id."""
    parts = partitions or {}
    spec = {**SPEC, "name": name, "partition_keys": sorted(parts)}
    art = artifacts.ensure_artifact(tx, project, domain, name, spec, now)
    vid = artifact_versions.insert_version(
        tx,
        artifact_id=art.id,
        version=artifacts.next_version(tx, art.id),
        partitions=parts,
        partition_key=partition_key_text(parts),
        time_partition=time_partition,
        value=value if value is not None else {"format": "json", "value": 1, "type": "int"},
        execution_id=execution_id,
        node_id="n0" if execution_id else None,
        output_name="o0" if execution_id else None,
        now=now,
    )
    artifact_partitions.insert_partitions(tx, version_id=vid, artifact_id=art.id, partitions=parts)
    return vid


def add_execution(tx: Tx, execution_id: str, now: float = 1_700_000_000.0) -> str:
    insert_execution(
        tx,
        id=execution_id,
        project="proj",
        domain="dev",
        workflow="wf",
        workflow_version="v1",
        status="succeeded",
        inputs={},
        resolved={},
        created_at=now,
    )
    return execution_id


def count(db: Database, table: str) -> int:
    with db.read() as tx:
        return int(tx.scalar(f"SELECT COUNT(*) FROM {table}"))


def add_cards(tx: Any, vid: int, given: list[dict[str, str]]) -> None:
    """``cards.insert_cards`` for version ``vid``, with the series its row holds."""
    from headwater.storage import cards

    row = tx.one(
        "SELECT artifact_id, partition_key, time_partition FROM artifact_versions WHERE id = :v",
        {"v": vid},
    )
    cards.insert_cards(
        tx,
        version_id=vid,
        artifact_id=row["artifact_id"],
        partition_key=row["partition_key"],
        time_partition=row["time_partition"],
        cards=given,
    )
