"""The ``cards`` table: the model and data cards attached to an artifact version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headwater.storage.db import Tx


@dataclass(frozen=True, slots=True)
class CardRow:
    """A card as it is read: the ``kind`` and ``text`` columns of a ``cards`` row (the
    others, ``id``, ``version_id`` and ``position``, are what it is found and ordered by)."""

    kind: str
    text: str

    @classmethod
    def from_db(cls, r: Any) -> CardRow:
        return cls(kind=r["kind"], text=r["text"])


def insert_cards(
    tx: Tx,
    *,
    version_id: int,
    artifact_id: int,
    partition_key: str,
    time_partition: str | None,
    cards: list[dict[str, str]],
) -> None:
    """The cards of a new version (each ``{"kind": ..., "text": ...}``), in this order, with
    the version's series (its artifact, partition key text and time partition)."""
    tx.many(
        "INSERT INTO cards (version_id, position, kind, text, artifact_id, partition_key, "
        "time_key) VALUES (:vid, :p, :k, :t, :a, :pk, :tk)",
        [
            {
                "vid": version_id,
                "p": i,
                "k": c["kind"],
                "t": c["text"],
                "a": artifact_id,
                "pk": partition_key,
                "tk": time_partition or "",
            }
            for i, c in enumerate(cards)
        ],
    )


def list_cards(tx: Tx, version_id: int) -> list[CardRow]:
    """A version's cards in the order they were given ([] for none or no such version)."""
    found = tx.all(
        "SELECT kind, text FROM cards WHERE version_id = :v ORDER BY position", {"v": version_id}
    )
    return [CardRow.from_db(r) for r in found]
