"""Alembic migrations bring an empty database to head on both backends, and back down."""

from __future__ import annotations

import pytest

from headwater.errors import StorageError
from headwater.storage.db import Database
from headwater.storage.migrate import HEAD, current_revision, downgrade, ensure_schema, upgrade

TABLES = {
    "code_snapshots",
    "entities",
    "events",
    "executions",
    "plan_runs",
    "plan_runs_new",
    "node_executions",
    "artifacts",
    "artifact_versions",
    "artifact_partitions",
    "artifact_series",
    "cards",
    "lineage_edges",
    "launch_plans",
    "launch_plan_state",
    "reactor_inbox",
    "trigger_decisions",
    "firings",
    "trigger_state",
    "schedule_state",
    "execution_links",
    "worker_slots",
    "api_tokens",
    "server_state",
    "webhook_deliveries",
    "openlineage_outbox",
}


def _tables(db: Database) -> set[str]:
    with db.read() as tx:
        if db.dialect == "sqlite":
            rows = tx.all("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            rows = tx.all("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'")
    return {r["name"] for r in rows} - {"alembic_version", "sqlite_sequence"}


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.close()


def test_empty_database_is_migrated_to_head_once(db):
    assert current_revision(db) is None
    ensure_schema(db)
    assert current_revision(db) == HEAD
    assert _tables(db) == TABLES
    ensure_schema(db)  # a current schema is left alone
    assert current_revision(db) == HEAD


def test_downgrade_to_base_and_up_again(db):
    ensure_schema(db)
    downgrade(db, "base")
    assert _tables(db) == set()
    upgrade(db)
    assert _tables(db) == TABLES


def test_database_from_newer_code_is_refused(db):
    ensure_schema(db)
    with db.transaction() as tx:
        tx.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StorageError, match="newer than this Headwater"):
        ensure_schema(db)
