"""The ``lineage_edges`` table: an execution consumed or produced an artifact version."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from headwater.storage.db import Tx, in_list

CONSUMED = "consumed"  # direction: the version was an input of the execution
PRODUCED = "produced"  # direction: the execution's output is the version


@dataclass(frozen=True, slots=True)
class LineageEdgeRow:
    """A ``lineage_edges`` row as the lineage walk reads it: every column but the surrogate
    ``id``. ``name`` is the input or output name; ``node_id`` the node that used it."""

    execution_id: str
    version_id: int
    direction: str
    name: str
    node_id: str | None

    @classmethod
    def from_db(cls, r: Any) -> LineageEdgeRow:
        """From a row of ``SELECT {_COLUMNS}`` (sqlite3.Row or psycopg dict row)."""
        # By position (_COLUMNS is built from the fields): a lineage page reads many edges.
        return cls(*(r.values() if isinstance(r, dict) else r))


_COLUMNS = ", ".join(f.name for f in fields(LineageEdgeRow))


def insert_edges(tx: Tx, edges: list[dict[str, Any]]) -> None:
    """Each edge: execution_id, version_id, direction, name (input/output), node_id. An edge
    already stored (same execution, version, direction and name) is left as it is."""
    tx.many(
        "INSERT INTO lineage_edges (execution_id, version_id, direction, name, node_id) "
        "VALUES (:execution_id, :version_id, :direction, :name, :node_id) "
        "ON CONFLICT DO NOTHING",
        edges,
    )


def edges_of_versions(tx: Tx, version_ids: list[int], direction: str) -> list[LineageEdgeRow]:
    """The ``direction`` edges of these versions, in no particular order."""
    if not version_ids:
        return []
    marks, params = in_list("v", version_ids)
    found = tx.all(
        f"SELECT {_COLUMNS} FROM lineage_edges WHERE version_id IN {marks} AND direction = :d",
        {**params, "d": direction},
    )
    return [LineageEdgeRow.from_db(r) for r in found]


def edges_of_executions(tx: Tx, execution_ids: list[str], direction: str) -> list[LineageEdgeRow]:
    """The ``direction`` edges of these executions, in no particular order."""
    if not execution_ids:
        return []
    marks, params = in_list("e", execution_ids)
    found = tx.all(
        f"SELECT {_COLUMNS} FROM lineage_edges WHERE execution_id IN {marks} AND direction = :d",
        {**params, "d": direction},
    )
    return [LineageEdgeRow.from_db(r) for r in found]
