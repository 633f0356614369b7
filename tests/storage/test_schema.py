"""The declared schema (storage/schema.py) is what the migrations build, on both backends."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from headwater.storage import schema
from headwater.storage.db import Database
from headwater.storage.migrate import ensure_schema


@pytest.fixture
def migrated(database_url):
    """A database brought from empty to head by the migrations, as Headwater does it."""
    db = Database(database_url)
    try:
        ensure_schema(db)
        engine = sa.create_engine(db.sqlalchemy_url)
    finally:
        db.close()
    yield engine
    engine.dispose()


def _diff(engine: sa.Engine, metadata: sa.MetaData) -> list[Any]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(ctx, metadata))


def test_migrations_build_the_declared_schema(migrated):
    assert _diff(migrated, schema.metadata) == []


def _copy() -> sa.MetaData:
    drifted = sa.MetaData()
    for table in schema.metadata.sorted_tables:
        table.to_metadata(drifted)
    return drifted


def test_a_column_and_a_table_missing_from_the_migrations_are_reported(migrated):
    drifted = _copy()
    sa.Table("executions", drifted, sa.Column("priority", sa.Integer), extend_existing=True)
    sa.Table("retention_marks", drifted, sa.Column("id", sa.Integer, primary_key=True))

    diff = _diff(migrated, drifted)

    added_columns = [(d[2], d[3].name) for d in diff if d[0] == "add_column"]
    added_tables = [d[1].name for d in diff if d[0] == "add_table"]
    assert added_columns == [("executions", "priority")]
    assert added_tables == ["retention_marks"]
    assert len(diff) == 2, diff


def _flatten(diff: list[Any]) -> list[tuple[Any, ...]]:
    # Column changes come grouped in a list per column; everything else is one tuple.
    return [change for d in diff for change in (d if isinstance(d, list) else [d])]


def _describe(change: tuple[Any, ...]) -> tuple[str, str, str]:
    kind = change[0]
    if kind.startswith("modify"):  # (kind, schema, table, column, ...)
        return kind, change[2], change[3]
    if kind == "remove_fk":  # the reflected key: its name depends on the backend
        fk = change[1]
        return kind, fk.table.name, ",".join(c.name for c in fk.columns)
    return kind, change[1].name, ""


def test_changed_types_nullability_defaults_indexes_and_constraints_are_reported(migrated):
    drifted = _copy()
    events = drifted.tables["events"]
    events.c.time.type = sa.Integer()
    events.c.subject.nullable = False
    drifted.tables["executions"].c.attempts.server_default = sa.DefaultClause("5")
    events.indexes.remove(next(ix for ix in events.indexes if ix.name == "ix_events_time"))
    events.constraints.remove(
        next(c for c in events.constraints if c.name == "uq_events_id_source")
    )
    cards = drifted.tables["cards"]
    cards.constraints.remove(
        next(c for c in cards.constraints if isinstance(c, sa.ForeignKeyConstraint))
    )

    found = {_describe(change) for change in _flatten(_diff(migrated, drifted))}

    assert found == {
        ("modify_type", "events", "time"),
        ("modify_nullable", "events", "subject"),
        ("modify_default", "executions", "attempts"),
        ("remove_index", "ix_events_time", ""),
        ("remove_constraint", "uq_events_id_source", ""),
        ("remove_fk", "cards", "version_id"),
    }
