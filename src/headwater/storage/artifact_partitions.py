"""The ``artifact_partitions`` table: one row per partition key of a version, for lookups.

A version's partitions are also kept whole in ``artifact_versions.partitions``; these rows
exist so that a query by some of the keys walks an index (``ix_ap_lookup``). They are read by
the version queries in storage/artifact_versions.py, which join them.
"""

from __future__ import annotations

from headwater.storage.db import Tx


def insert_partitions(
    tx: Tx, *, version_id: int, artifact_id: int, partitions: dict[str, str]
) -> None:
    """One row per ``key: value`` of a new version (nothing for an unpartitioned one)."""
    tx.many(
        "INSERT INTO artifact_partitions (version_id, artifact_id, key, value) "
        "VALUES (:vid, :a, :k, :v)",
        [{"vid": version_id, "a": artifact_id, "k": k, "v": v} for k, v in partitions.items()],
    )
