"""storage/entities.py and storage/code_snapshots.py on both backends: what registration and
workers rely on (one row per version, newest-per-name listings, specs as stored text)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import psycopg
import pytest

from headwater.storage import code_snapshots, entities
from headwater.storage.code_snapshots import CodeSnapshotRow
from headwater.storage.db import Database
from headwater.storage.entities import EntityRow
from headwater.storage.migrate import ensure_schema
from tests import _schema


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(_schema.at_head(database_url))  # tests/_schema.py
    ensure_schema(database)
    yield database
    database.close()


def snapshot(db: Database, digest: str = "a" * 64, **kw: object) -> None:
    fields = {"blob_key": f"blob-{digest[:4]}", "root": "/src", "files": 2, "size": 10, "now": 1.5}
    fields.update(kw)
    with db.transaction() as tx:
        code_snapshots.insert_snapshot(tx, digest=digest, **fields)  # type: ignore[arg-type]


def entity(
    db: Database,
    name: str,
    version: str,
    *,
    project: str = "p",
    domain: str = "d",
    kind: str = "workflow",
    spec: dict[str, object] | None = None,
    snap: str = "a" * 64,
    now: float = 2.5,
) -> None:
    with db.transaction() as tx:
        entities.insert_entity(
            tx,
            project=project,
            domain=domain,
            name=name,
            version=version,
            kind=kind,
            snapshot=snap,
            spec=spec if spec is not None else {"name": name, "version": version},
            now=now,
        )


def test_a_snapshot_is_stored_once_per_digest_and_read_back_typed(db: Database) -> None:
    snapshot(db, blob_key="first", files=3, size=1234)
    snapshot(db, blob_key="second", files=9, size=1)  # same digest: the first row stays
    with db.read() as tx:
        row = code_snapshots.get_snapshot(tx, digest="a" * 64)
        missing = code_snapshots.get_snapshot(tx, digest="b" * 64)
        count = tx.scalar("SELECT COUNT(*) FROM code_snapshots")
    assert row == CodeSnapshotRow(
        digest="a" * 64, blob_key="first", root="/src", files=3, size=1234, created_at=1.5
    )
    assert isinstance(row.files, int) and isinstance(row.created_at, float)
    assert missing is None and count == 1
    with pytest.raises(AttributeError):
        row.root = "x"  # type: ignore[misc]


def test_an_entity_version_is_stored_once_with_its_spec_as_json_text(db: Database) -> None:
    snapshot(db)
    entity(db, "wf", "v1", spec={"b": 1, "a": [1, 2]}, now=3.25)
    entity(db, "wf", "v1", spec={"other": True}, kind="task")  # same version: ignored
    with db.read() as tx:
        row = entities.get_entity(tx, project="p", domain="d", name="wf", version="v1")
        spec = entities.get_spec(tx, project="p", domain="d", name="wf", version="v1")
        assert entities.get_entity(tx, project="p", domain="d", name="wf", version="v2") is None
        assert entities.get_entity(tx, project="q", domain="d", name="wf", version="v1") is None
        assert entities.get_spec(tx, project="p", domain="x", name="wf", version="v1") is None
    assert isinstance(row, EntityRow)
    assert (row.project, row.domain, row.name, row.version, row.kind) == (
        "p",
        "d",
        "wf",
        "v1",
        "workflow",
    )
    assert row.snapshot == "a" * 64 and row.created_at == 3.25 and isinstance(row.id, int)
    assert row.spec == spec == '{"a": [1, 2], "b": 1}'  # sorted keys, stored as text


def test_an_entity_needs_a_registered_snapshot(db: Database) -> None:
    with (
        pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError), match=r"(?i)foreign key"),
        db.transaction() as tx,
    ):
        entities.insert_entity(
            tx,
            project="p",
            domain="d",
            name="wf",
            version="v1",
            kind="task",
            snapshot="f" * 64,
            spec={},
            now=1.0,
        )


def test_latest_and_list_give_the_newest_version_of_each_name(db: Database) -> None:
    snapshot(db)
    entity(db, "b_wf", "v1")
    entity(db, "a_task", "v1", kind="task")
    entity(db, "b_wf", "v2")
    entity(db, "b_wf", "v3", domain="other")
    entity(db, "c_wf", "v1", project="q")
    with db.read() as tx:
        latest = entities.latest_entity(tx, project="p", domain="d", name="b_wf")
        none = entities.latest_entity(tx, project="p", domain="d", name="nope")
        everything = entities.list_entities(tx)
        in_p_d = entities.list_entities(tx, project="p", domain="d")
        tasks = entities.list_entities(tx, kind="task")
        in_q = entities.list_entities(tx, project="q")
    assert latest is not None and latest.version == "v2" and none is None
    assert [(r.name, r.domain, r.version) for r in everything] == [
        ("a_task", "d", "v1"),
        ("b_wf", "d", "v2"),
        ("b_wf", "other", "v3"),
        ("c_wf", "d", "v1"),
    ]
    assert all(isinstance(r, EntityRow) for r in everything)
    assert [(r.name, r.version) for r in in_p_d] == [("a_task", "v1"), ("b_wf", "v2")]
    assert [r.name for r in tasks] == ["a_task"]
    assert [r.name for r in in_q] == ["c_wf"]


def test_all_specs_and_name_exists_cover_every_project_and_domain(db: Database) -> None:
    snapshot(db)
    with db.read() as tx:
        assert entities.all_specs(tx) == []
        assert not entities.name_exists(tx, project="p", domain="d", name="wf")
    entity(db, "wf", "v1", spec={"outputs": {"o0": {"artifact": "x"}}})
    entity(db, "wf", "v2", domain="e", spec={"outputs": {}})
    with db.read() as tx:
        specs = sorted(json.loads(s)["outputs"] != {} for s in entities.all_specs(tx))
        assert entities.name_exists(tx, project="p", domain="d", name="wf")
        assert entities.name_exists(tx, project="p", domain="e", name="wf")
        assert not entities.name_exists(tx, project="q", domain="d", name="wf")
        assert not entities.name_exists(tx, project="p", domain="d", name="w")
    assert specs == [False, True]
