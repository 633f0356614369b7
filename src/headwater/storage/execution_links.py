"""The ``execution_links`` table: an execution was started by others (a trigger fired by
their completion, or a relaunch), for lineage between runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headwater.storage.db import Tx, in_list

TRIGGERED = "triggered"  # kind: started by a trigger on the upstream executions


@dataclass(frozen=True, slots=True)
class ExecutionLinkRow:
    """One ``execution_links`` row: ``execution_id`` was started by ``upstream_id``; ``kind``
    says why (``"triggered"``, ``"relaunch"``)."""

    execution_id: str
    upstream_id: str
    kind: str

    @classmethod
    def from_db(cls, r: Any) -> ExecutionLinkRow:
        return cls(execution_id=r["execution_id"], upstream_id=r["upstream_id"], kind=r["kind"])


def insert_links(tx: Tx, execution_id: str, upstream_ids: list[str], kind: str) -> None:
    """Execution ``execution_id`` was started by each of ``upstream_ids`` (``kind``: why);
    a link already stored is left as it is."""
    tx.many(
        "INSERT INTO execution_links (execution_id, upstream_id, kind) VALUES (:e, :u, :k) "
        "ON CONFLICT DO NOTHING",
        [{"e": execution_id, "u": u, "k": kind} for u in upstream_ids],
    )


def links_of(tx: Tx, execution_ids: list[str], upstream: bool) -> list[ExecutionLinkRow]:
    """Links whose triggered side (``upstream``) or triggering side is in ``execution_ids``."""
    if not execution_ids:
        return []
    marks, params = in_list("x", execution_ids)
    column = "execution_id" if upstream else "upstream_id"
    found = tx.all(
        f"SELECT execution_id, upstream_id, kind FROM execution_links WHERE {column} IN {marks}",
        params,
    )
    return [ExecutionLinkRow.from_db(r) for r in found]
