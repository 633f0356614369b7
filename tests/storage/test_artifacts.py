"""storage/artifacts.py: one row per artifact name, its spec and its version counter."""

from __future__ import annotations

import dataclasses
import json

import pytest

from headwater.storage import artifacts
from headwater.storage.artifacts import ArtifactRow

from ._versions import migrated


@pytest.fixture
def db(database_url):
    yield from migrated(database_url)


def test_a_missing_artifact_reads_as_none(db):
    with db.read() as tx:
        assert artifacts.get_artifact(tx, "proj", "dev", "model") is None


def test_ensure_creates_the_row_once_and_follows_the_latest_spec(db):
    with db.transaction() as tx:
        first = artifacts.ensure_artifact(tx, "proj", "dev", "model", {"b": 1, "a": 2}, 100.0)
    assert isinstance(first, ArtifactRow)
    assert (first.project, first.domain, first.name) == ("proj", "dev", "model")
    assert first.spec == json.dumps({"a": 2, "b": 1}, sort_keys=True)
    assert (first.latest_seq, first.created_at) == (0, 100.0)
    assert isinstance(first.id, int)

    with db.transaction() as tx:
        same = artifacts.ensure_artifact(tx, "proj", "dev", "model", {"a": 2, "b": 1}, 200.0)
        changed = artifacts.ensure_artifact(tx, "proj", "dev", "model", {"a": 3}, 300.0)
    assert same == first
    assert changed.id == first.id and changed.created_at == 100.0
    assert json.loads(changed.spec) == {"a": 3}
    with db.read() as tx:
        assert artifacts.get_artifact(tx, "proj", "dev", "model") == changed


def test_the_same_name_in_another_project_or_domain_is_another_artifact(db):
    with db.transaction() as tx:
        ids = {
            artifacts.ensure_artifact(tx, p, d, "model", {}, 1.0).id
            for p, d in (("proj", "dev"), ("proj", "prod"), ("other", "dev"))
        }
    assert len(ids) == 3


def test_versions_count_up_per_artifact(db):
    with db.transaction() as tx:
        a = artifacts.ensure_artifact(tx, "proj", "dev", "a", {}, 1.0).id
        b = artifacts.ensure_artifact(tx, "proj", "dev", "b", {}, 1.0).id
        seen = [artifacts.next_version(tx, x) for x in (a, a, b, a, b)]
    assert seen == ["1", "2", "1", "3", "2"]
    with db.read() as tx:
        row = artifacts.get_artifact(tx, "proj", "dev", "a")
    assert row is not None and row.latest_seq == 3


def test_name_exists_looks_in_every_project_and_domain(db):
    with db.transaction() as tx:
        artifacts.ensure_artifact(tx, "elsewhere", "prod", "model", {}, 1.0)
    with db.read() as tx:
        assert artifacts.name_exists(tx, name="model")
        assert not artifacts.name_exists(tx, name="modelx")


def test_rows_are_frozen(db):
    with db.transaction() as tx:
        row = artifacts.ensure_artifact(tx, "proj", "dev", "model", {}, 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.name = "other"  # type: ignore[misc]
