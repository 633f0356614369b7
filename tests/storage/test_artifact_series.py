"""storage/artifact_series.py: the newest version of each series, kept as versions are
written, and filled from the stored versions by migration 0007."""

from __future__ import annotations

import pytest

from headwater.storage import artifact_series
from headwater.storage.db import Database
from headwater.storage.migrate import downgrade, upgrade

from ._versions import add_version, migrated


@pytest.fixture
def db(database_url):
    yield from migrated(database_url)


def _series(db: Database) -> set[tuple[str, str, str, int]]:
    with db.read() as tx:
        rows = tx.all(
            "SELECT a.name, s.partition_key, s.time_key, s.latest_id FROM artifact_series s "
            "JOIN artifacts a ON a.id = s.artifact_id"
        )
    return {(r["name"], r["partition_key"], r["time_key"], r["latest_id"]) for r in rows}


def test_each_new_version_becomes_its_series_newest(db):
    jan = "2026-01-01T00:00:00Z"
    with db.transaction() as tx:
        add_version(tx, partitions={"region": "eu"})
        eu = add_version(tx, partitions={"region": "eu"})
        us = add_version(tx, partitions={"region": "us"})
        eu_jan = add_version(tx, partitions={"region": "eu"}, time_partition=jan)
        other = add_version(tx, "other")
    assert _series(db) == {
        ("model", "region=eu", "", eu),
        ("model", "region=us", "", us),
        ("model", "region=eu", jan, eu_jan),
        ("other", "", "", other),
    }


def test_an_older_version_never_replaces_a_newer_one(db):
    with db.transaction() as tx:
        first = add_version(tx)
        second = add_version(tx)
        # a writer that committed late with the older version
        artifact_series.record_version(
            tx, artifact_id=1, partition_key="", time_partition=None, version_id=first
        )
    assert _series(db) == {("model", "", "", second)}


def test_migration_0007_fills_the_series_of_stored_versions(db):
    with db.transaction() as tx:
        add_version(tx, partitions={"region": "eu"})
        eu = add_version(tx, partitions={"region": "eu"}, time_partition="2026-01-01T00:00:00Z")
        add_version(tx, partitions={"region": "us"})
        us = add_version(tx, partitions={"region": "us"})
    before = _series(db)
    downgrade(db, "0006")
    upgrade(db)
    assert _series(db) == before
    assert {s[3] for s in before} == {eu, us, 1}
