"""Lineage edges: an execution consumed or produced an artifact version."""

from __future__ import annotations

from typing import Any

from headwater.storage.db import Tx, in_list

CONSUMED = "consumed"
PRODUCED = "produced"


def insert_edges(tx: Tx, edges: list[dict[str, Any]]) -> None:
    """Each edge: execution_id, version_id, direction, name (input/output), node_id."""
    tx.many(
        "INSERT INTO lineage_edges (execution_id, version_id, direction, name, node_id) "
        "VALUES (:execution_id, :version_id, :direction, :name, :node_id) "
        "ON CONFLICT DO NOTHING",
        edges,
    )


def edges_of_versions(tx: Tx, version_ids: list[int], direction: str) -> list[Any]:
    if not version_ids:
        return []
    marks, params = in_list("v", version_ids)
    return tx.all(
        "SELECT execution_id, version_id, direction, name, node_id FROM lineage_edges "
        f"WHERE version_id IN {marks} AND direction = :d",
        {**params, "d": direction},
    )


def edges_of_executions(tx: Tx, execution_ids: list[str], direction: str) -> list[Any]:
    if not execution_ids:
        return []
    marks, params = in_list("e", execution_ids)
    return tx.all(
        "SELECT execution_id, version_id, direction, name, node_id FROM lineage_edges "
        f"WHERE execution_id IN {marks} AND direction = :d",
        {**params, "d": direction},
    )


TRIGGERED = "triggered"


def insert_links(tx: Tx, execution_id: str, upstream_ids: list[str], kind: str) -> None:
    """Execution ``execution_id`` was started by each of ``upstream_ids`` (``kind``: why)."""
    tx.many(
        "INSERT INTO execution_links (execution_id, upstream_id, kind) VALUES (:e, :u, :k) "
        "ON CONFLICT DO NOTHING",
        [{"e": execution_id, "u": u, "k": kind} for u in upstream_ids],
    )


def links_of(tx: Tx, execution_ids: list[str], upstream: bool) -> list[Any]:
    """Links whose triggered side (``upstream``) or triggering side is in ``execution_ids``."""
    if not execution_ids:
        return []
    marks, params = in_list("x", execution_ids)
    column = "execution_id" if upstream else "upstream_id"
    return tx.all(
        f"SELECT execution_id, upstream_id, kind FROM execution_links WHERE {column} IN {marks}",
        params,
    )
