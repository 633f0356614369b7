"""storage/artifact_partitions.py: one row per partition key, what lookups by key walk."""

from __future__ import annotations

import pytest

from headwater.storage import artifact_partitions, artifacts
from headwater.storage import artifact_versions as versions

from ._versions import INTEGRITY_ERRORS, add_version, count, migrated


@pytest.fixture
def db(database_url):
    yield from migrated(database_url)


def _search(db, partitions):
    with db.read() as tx:
        found = versions.search_versions(
            tx,
            name=None,
            partitions=partitions,
            since=None,
            until=None,
            project=None,
            domain=None,
            limit=10,
        )
    return [r.id for r in found]


def test_one_row_per_key_and_none_for_an_unpartitioned_version(db):
    with db.transaction() as tx:
        add_version(tx, "plain")
        vid = add_version(tx, partitions={"region": "eu", "kind": "a", "size": "xl"})
    assert count(db, "artifact_partitions") == 3
    assert _search(db, {"size": "xl"}) == [vid]
    assert _search(db, {"kind": "a", "size": "xl"}) == [vid]
    assert _search(db, {"kind": "b"}) == []


def test_lookups_see_only_the_partitions_written(db):
    with db.transaction() as tx:
        art = artifacts.ensure_artifact(tx, "proj", "dev", "model", {}, 1.0).id
        vid = versions.insert_version(
            tx,
            artifact_id=art,
            version=artifacts.next_version(tx, art),
            partitions={"region": "eu"},
            partition_key="region=eu",
            time_partition=None,
            value={},
            execution_id=None,
            node_id=None,
            output_name=None,
            now=1.0,
        )
    # the version exists, but without its partition rows no lookup by key finds it
    assert _search(db, {"region": "eu"}) == []
    with db.transaction() as tx:
        artifact_partitions.insert_partitions(
            tx, version_id=vid, artifact_id=art, partitions={"region": "eu"}
        )
    assert _search(db, {"region": "eu"}) == [vid]
    with db.read() as tx:
        latest = versions.find_latest(tx, art, {"region": "eu"}, None, False)
    assert latest is not None and latest.id == vid


def test_a_key_is_stored_once_per_version(db):
    with db.transaction() as tx:
        vid = add_version(tx, partitions={"region": "eu"})
        art = versions.get_versions_by_id(tx, [vid])[0].artifact_id
    with pytest.raises(INTEGRITY_ERRORS), db.transaction() as tx:
        artifact_partitions.insert_partitions(
            tx, version_id=vid, artifact_id=art, partitions={"region": "us"}
        )
    assert _search(db, {"region": "us"}) == []


def test_versions_with_a_partition_value_are_walked_newest_first_by_an_index(db):
    # The search page's partition filter across every artifact (benchmarks/bench_ui.py): a
    # value only old versions carry must not cost a walk of every newer version.
    with db.transaction() as tx:
        old = [add_version(tx, name, partitions={"region": "legacy"}) for name in ("a", "b")]
        for i in range(30):
            add_version(tx, ("a", "b", "c")[i % 3], partitions={"region": "eu"})
    sql = (
        "SELECT p.version_id FROM artifact_partitions p WHERE p.key = :k AND p.value = :v "
        "ORDER BY p.version_id DESC LIMIT 5"
    )
    with db.read() as tx:
        found = [r["version_id"] for r in tx.all(sql, {"k": "region", "v": "legacy"})]
        plan = ""
        if db.dialect == "sqlite":
            plan = " ".join(
                str(r[3]) for r in tx.all(f"EXPLAIN QUERY PLAN {sql}", {"k": 1, "v": 1})
            )
    assert found == sorted(old, reverse=True)
    if db.dialect == "sqlite":
        assert "ix_artifact_partitions_key_value_version_id" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
