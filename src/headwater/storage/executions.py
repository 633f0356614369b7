"""Rows for executions and their node executions."""

from __future__ import annotations

import json
from typing import Any

from headwater.storage.db import Tx

_JSON_COLUMNS = ("inputs", "resolved", "outputs", "error", "trigger")
_ENCODER = json.JSONEncoder(sort_keys=True)


def _dump(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        k: _ENCODER.encode(v) if k in _JSON_COLUMNS and v is not None else v
        for k, v in fields.items()
    }


def insert_execution(tx: Tx, **fields: Any) -> None:
    cols = ", ".join(fields)
    vals = ", ".join(f":{k}" for k in fields)
    tx.execute(f"INSERT INTO executions ({cols}) VALUES ({vals})", _dump(fields))


def insert_executions(tx: Tx, rows: list[dict[str, Any]]) -> None:
    """Insert executions that all set the same columns, in one statement."""
    if not rows:
        return
    cols = ", ".join(rows[0])
    vals = ", ".join(f":{k}" for k in rows[0])
    tx.many(f"INSERT INTO executions ({cols}) VALUES ({vals})", [_dump(r) for r in rows])


def update_execution(tx: Tx, execution_id: str, **fields: Any) -> None:
    sets = ", ".join(f"{k} = :{k}" for k in fields)
    tx.execute(
        f"UPDATE executions SET {sets} WHERE id = :_id", {**_dump(fields), "_id": execution_id}
    )


def get_execution(tx: Tx, execution_id: str) -> Any:
    return tx.one("SELECT * FROM executions WHERE id = :id", {"id": execution_id})


def list_executions(
    tx: Tx,
    *,
    workflow: str | None = None,
    launch_plan: str | None = None,
    status: str | None = None,
    project: str | None = None,
    domain: str | None = None,
    limit: int = 100,
) -> list[Any]:
    where: list[str] = []
    params: dict[str, Any] = {"limit": limit}
    for col, value in (
        ("workflow", workflow),
        ("launch_plan", launch_plan),
        ("status", status),
        ("project", project),
        ("domain", domain),
    ):
        if value is not None:
            where.append(f"{col} = :{col}")
            params[col] = value
    sql = "SELECT * FROM executions" + (" WHERE " + " AND ".join(where) if where else "")
    return tx.all(f"{sql} ORDER BY created_at DESC, id DESC LIMIT :limit", params)


def insert_node(tx: Tx, **fields: Any) -> int:
    cols = ", ".join(fields)
    vals = ", ".join(f":{k}" for k in fields)
    return int(
        tx.scalar(
            f"INSERT INTO node_executions ({cols}) VALUES ({vals}) RETURNING id", _dump(fields)
        )
    )


def update_node(tx: Tx, node_row_id: int, **fields: Any) -> None:
    sets = ", ".join(f"{k} = :{k}" for k in fields)
    tx.execute(
        f"UPDATE node_executions SET {sets} WHERE id = :_id", {**_dump(fields), "_id": node_row_id}
    )


def list_nodes(tx: Tx, execution_id: str) -> list[Any]:
    return tx.all(
        "SELECT * FROM node_executions WHERE execution_id = :id ORDER BY id", {"id": execution_id}
    )


def find_cached(tx: Tx, cache_key: str) -> Any:
    """The newest successful node execution with this cache key."""
    return tx.one(
        "SELECT * FROM node_executions WHERE cache_key = :k AND status = 'succeeded' "
        "ORDER BY id DESC LIMIT 1",
        {"k": cache_key},
    )


def still_leased(tx: Tx, execution_id: str, worker: str) -> bool:
    """True while ``worker`` holds the running execution (locks the row on PostgreSQL)."""
    lock = " FOR UPDATE" if tx.dialect == "postgresql" else ""
    return (
        tx.one(
            "SELECT 1 FROM executions WHERE id = :id AND worker = :w AND status = 'running'" + lock,
            {"id": execution_id, "w": worker},
        )
        is not None
    )


# -- for the reactor and metrics


def count_busy(tx: Tx, launch_plan_id: int) -> int:
    """How many executions of the launch plan version are queued or running."""
    return int(
        tx.scalar(
            "SELECT COUNT(*) FROM executions WHERE launch_plan_id = :lp AND "
            "status IN ('queued', 'running')",
            {"lp": launch_plan_id},
        )
    )


def count_by_status(tx: Tx) -> dict[str, int]:
    """How many executions have each status (statuses without any are left out)."""
    return {
        r["status"]: int(r["n"])
        for r in tx.all("SELECT status, COUNT(*) AS n FROM executions GROUP BY status")
    }


def count_live_workers(tx: Tx, now: float) -> int:
    """How many workers hold a lease on a running execution that has not expired at ``now``."""
    return int(
        tx.scalar(
            "SELECT COUNT(DISTINCT worker) FROM executions WHERE status = 'running' "
            "AND lease_expires_at > :now",
            {"now": now},
        )
    )
