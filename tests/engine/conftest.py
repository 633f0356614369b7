"""Every engine test runs against an ephemeral instance on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater.instance import Instance
from headwater.settings import Settings
from tests import _schema


@pytest.fixture
def instance(database_url: str, tmp_path: Path) -> Iterator[Instance]:
    _schema.at_head(database_url)  # a copy of a migrated database (tests/_schema.py)
    settings = Settings.from_env({}, home=tmp_path / "home", database_url=database_url)
    inst = Instance(settings)
    with inst.use():
        yield inst
    inst.close()


def count(inst: Instance, table: str) -> int:
    with inst.db.read() as tx:
        return int(tx.scalar(f"SELECT COUNT(*) FROM {table}"))


def stored(inst: Instance) -> dict[str, int]:
    """Row counts of every table a user action could change."""
    return {
        t: count(inst, t)
        for t in (
            "executions",
            "node_executions",
            "events",
            "artifacts",
            "artifact_versions",
            "cards",
            "lineage_edges",
        )
    }
