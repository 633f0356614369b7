"""The ``artifact_series`` table: the newest version of each series of an artifact — its
partitions (``partition_key``) and time partition (``time_key``, ``""`` for none).

Written with every new version (storage/artifact_versions.insert_version calls
:func:`record_version`), read by the ``latest`` search in storage/artifact_versions.py,
which joins it. A row is only ever moved to a newer version.
"""

from __future__ import annotations

from headwater.storage.db import Tx


def record_version(
    tx: Tx, *, artifact_id: int, partition_key: str, time_partition: str | None, version_id: int
) -> None:
    """Make ``version_id`` its series' newest version, unless a newer one is already there
    (two writers of one series may commit in either order)."""
    newest = "GREATEST" if tx.dialect == "postgresql" else "MAX"
    tx.execute(
        "INSERT INTO artifact_series (artifact_id, partition_key, time_key, latest_id) "
        "VALUES (:a, :pk, :tk, :v) ON CONFLICT (artifact_id, partition_key, time_key) "
        f"DO UPDATE SET latest_id = {newest}(artifact_series.latest_id, excluded.latest_id)",
        {"a": artifact_id, "pk": partition_key, "tk": time_partition or "", "v": version_id},
    )
