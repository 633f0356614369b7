"""Rows of ``node_executions``: one task call inside an execution.

``node_id`` numbers the calls of an execution (``n0``, ``n1``, ...; unique per execution);
``cache_key`` identifies a cacheable call's task and inputs. JSON columns (``inputs``,
``outputs``, ``error``, ``retry_log``) are written from Python values and read back as text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from headwater.storage.db import Tx

if TYPE_CHECKING:
    from headwater.storage.db import Database
    from headwater.storage.sent import Sent

_JSON_COLUMNS = ("inputs", "outputs", "error", "retry_log")
_ENCODER = json.JSONEncoder(sort_keys=True)


def _dump(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        k: _ENCODER.encode(v) if k in _JSON_COLUMNS and v is not None else v
        for k, v in fields.items()
    }


@dataclass(frozen=True, slots=True)
class NodeExecutionRow:
    """One task call of an execution, as stored (JSON columns as text)."""

    id: int
    execution_id: str
    node_id: str
    name: str
    kind: str
    status: str
    inputs: str
    outputs: str | None
    error: str | None
    attempts: int
    cache_key: str | None
    cached_from: str | None
    started_at: float
    finished_at: float | None
    retry_log: str | None = None  # [{"attempt", "wait", "error"}] per retry, or NULL

    @classmethod
    def from_db(cls, r: Any) -> NodeExecutionRow:
        return cls(
            id=r["id"],
            execution_id=r["execution_id"],
            node_id=r["node_id"],
            name=r["name"],
            kind=r["kind"],
            status=r["status"],
            inputs=r["inputs"],
            outputs=r["outputs"],
            error=r["error"],
            attempts=r["attempts"],
            cache_key=r["cache_key"],
            cached_from=r["cached_from"],
            started_at=r["started_at"],
            finished_at=r["finished_at"],
            retry_log=r["retry_log"],
        )


@dataclass(frozen=True, slots=True)
class RunningNode:
    """A node execution still ``running``: its row id and its node id."""

    id: int
    node_id: str


def insert_node(tx: Tx, **fields: Any) -> int:
    """Insert a node execution; returns its row id."""
    cols = ", ".join(fields)
    vals = ", ".join(f":{k}" for k in fields)
    return int(
        tx.scalar(
            f"INSERT INTO node_executions ({cols}) VALUES ({vals}) RETURNING id", _dump(fields)
        )
    )


def insert_node_if_leased(
    tx: Tx, *, worker: str, node_id: str | None, **fields: Any
) -> tuple[int, str] | None:
    """PostgreSQL: :func:`insert_node` only while ``worker`` holds the running execution
    (``fields["execution_id"]``; its row locked as ``executions.still_leased`` does), in one
    statement that commits on its own outside a transaction. ``node_id`` None: numbered
    after the node executions recorded already (``n<count>``). Returns ``(row id,
    node_id)``, or None when the lease is gone (nothing written)."""
    values = _dump(fields)
    r = tx.one(_if_leased_sql(values), {**values, "_node": node_id, "_w": worker})
    return None if r is None else (int(r["id"]), str(r["node_id"]))


def _if_leased_sql(fields: dict[str, Any]) -> str:
    cols = ", ".join(["node_id", *fields])
    vals = ", ".join(f":{k}" for k in fields)
    return (
        f"INSERT INTO node_executions ({cols}) SELECT COALESCE(CAST(:_node AS text), 'n' || "
        "(SELECT COUNT(*) FROM node_executions n WHERE n.execution_id = x.id)), "
        f"{vals} FROM executions x WHERE x.id = :execution_id AND x.worker = :_w "
        "AND x.status = 'running' FOR UPDATE RETURNING id, node_id"
    )


def send_node_if_leased(db: Database, *, worker: str, node_id: str, **fields: Any) -> Sent:
    """PostgreSQL: :func:`insert_node_if_leased` of a node whose id is known, sent without
    waiting for it (``Database.send``): ``.one()`` of the result is the row (its ``id``),
    or None when the lease is gone (nothing written)."""
    values = _dump(fields)
    return db.send(_if_leased_sql(values), {**values, "_node": node_id, "_w": worker})


def update_node(tx: Tx, node_row_id: int, **fields: Any) -> None:
    """Set ``fields`` on the node execution with row id ``node_row_id``."""
    sets = ", ".join(f"{k} = :{k}" for k in fields)
    tx.execute(
        f"UPDATE node_executions SET {sets} WHERE id = :_id", {**_dump(fields), "_id": node_row_id}
    )


def end_node(
    tx: Tx, node_row_id: int, *, status: str, error: dict[str, Any], finished_at: float
) -> None:
    """End a node execution with ``status`` and ``error`` (its outputs untouched)."""
    tx.execute(
        "UPDATE node_executions SET status = :s, error = :err, finished_at = :t WHERE id = :id",
        {
            "s": status,
            "err": json.dumps(error, sort_keys=True),
            "t": finished_at,
            "id": node_row_id,
        },
    )


def list_nodes(tx: Tx, execution_id: str) -> list[NodeExecutionRow]:
    """The execution's node executions in the order they started (row id)."""
    found = tx.all(
        "SELECT * FROM node_executions WHERE execution_id = :id ORDER BY id", {"id": execution_id}
    )
    return [NodeExecutionRow.from_db(r) for r in found]


def count_nodes(tx: Tx, execution_id: str) -> int:
    """How many node executions the execution has (over all its attempts)."""
    return int(
        tx.scalar(
            "SELECT COUNT(*) FROM node_executions WHERE execution_id = :id", {"id": execution_id}
        )
    )


def running_nodes(tx: Tx, execution_id: str) -> list[RunningNode]:
    """The execution's node executions still ``running``."""
    found = tx.all(
        "SELECT id, node_id FROM node_executions WHERE execution_id = :id AND status = 'running'",
        {"id": execution_id},
    )
    return [RunningNode(id=r["id"], node_id=r["node_id"]) for r in found]


def last_running_node_id(tx: Tx, execution_id: str) -> str | None:
    """The node id of the execution's newest ``running`` node execution, or None."""
    node = tx.scalar(
        "SELECT node_id FROM node_executions WHERE execution_id = :id "
        "AND status = 'running' ORDER BY id DESC LIMIT 1",
        {"id": execution_id},
    )
    return None if node is None else str(node)


def find_cached(tx: Tx, cache_key: str) -> NodeExecutionRow | None:
    """The newest successful node execution with this cache key, or None."""
    r = tx.one(
        "SELECT * FROM node_executions WHERE cache_key = :k AND status = 'succeeded' "
        "ORDER BY id DESC LIMIT 1",
        {"k": cache_key},
    )
    return None if r is None else NodeExecutionRow.from_db(r)


def set_cached_from(tx: Tx, execution_id: str, node_id: str, origin: str) -> None:
    """Record that a node's outputs were taken from ``origin`` (``<execution>/<node>``)."""
    tx.execute(
        "UPDATE node_executions SET cached_from = :o WHERE execution_id = :e AND node_id = :n",
        {"o": origin, "e": execution_id, "n": node_id},
    )


@dataclass(frozen=True)
class NodeProgress:
    """Where one node row stands: its status, attempts so far and recorded outputs."""

    status: str
    attempts: int
    outputs: dict[str, Any]


def node_progress(tx: Tx, node_row_id: int) -> NodeProgress | None:
    """The status, attempts and outputs of one node row (None if there is no such row)."""
    row = tx.execute(
        "SELECT status, attempts, outputs FROM node_executions WHERE id = :id",
        {"id": node_row_id},
    ).fetchone()
    if row is None:
        return None
    return NodeProgress(
        str(row["status"]), int(row["attempts"] or 0), json.loads(row["outputs"] or "{}")
    )


def cancel_queued_node(tx: Tx, node_row_id: int, error: dict[str, Any], now: float) -> None:
    """End a node row that never started as ``cancelled`` with ``error`` (rows that started
    are left as they are)."""
    tx.execute(
        "UPDATE node_executions SET status = 'cancelled', error = :err, "
        "finished_at = :t WHERE id = :id AND status = 'queued'",
        {"err": json.dumps(error), "t": now, "id": node_row_id},
    )
