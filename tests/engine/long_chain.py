"""A lineage chain of many generations, fast: the engine runs two generations, then each
further one is a copy of the second's rows (its execution, the version it produced and its
two lineage edges) consuming the previous copy."""

from __future__ import annotations

from typing import Any

import headwater

from . import pipelines as p


def _insert(tx: Any, table: str, row: dict[str, Any], returning: str | None = None) -> Any:
    cols = ", ".join(row)
    sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(f':{k}' for k in row)})"
    if returning is None:
        return tx.execute(sql, row)
    return tx.scalar(f"{sql} RETURNING {returning}", row)


def build(inst: Any, generations: int) -> list[str]:
    """plain@1 .. plain@<generations>, each produced by an execution that consumed the one
    before; returns their URIs, oldest first."""
    headwater.run(p.plain_wf, x=1)
    second = headwater.run(p.chain_wf)
    with inst.db.transaction() as tx:
        ex = dict(tx.one("SELECT * FROM executions WHERE id = :id", {"id": second.id}))
        version = dict(
            tx.one("SELECT * FROM artifact_versions WHERE execution_id = :id", {"id": second.id})
        )
        edges = [
            dict(e)
            for e in tx.all(
                "SELECT * FROM lineage_edges WHERE execution_id = :id", {"id": ex["id"]}
            )
        ]
        previous = version["id"]
        for n in range(3, generations + 1):
            ex_id = f"{second.id}g{n:05d}"
            _insert(tx, "executions", {**ex, "id": ex_id})
            row = {k: v for k, v in version.items() if k != "id"}
            row.update(version=str(n), execution_id=ex_id)
            made = _insert(tx, "artifact_versions", row, returning="id")
            for edge in edges:
                copy = {k: v for k, v in edge.items() if k != "id"}
                copy["execution_id"] = ex_id
                copy["version_id"] = previous if edge["direction"] == "consumed" else made
                _insert(tx, "lineage_edges", copy)
            previous = made
    return [f"hw://default/development/plain@{n}" for n in range(1, generations + 1)]
