"""Versions are found by a partition value, newest first, without naming the artifact.

The search page filters by ``key=value`` across every artifact. Without this index the only
way to find matching versions newest first was to walk every version newest first and test
each one's partitions: fast while matches are recent, a scan of the whole table (~0.5 s at a
million versions) for a value only old versions carry. With it, a query that starts from
``artifact_partitions`` walks just the matching rows in version order
(``benchmarks/bench_ui.py``; see benchmarks/README.md, "Issue 11").

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_artifact_partitions_key_value_version_id",
        "artifact_partitions",
        ["key", "value", "version_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_artifact_partitions_key_value_version_id", table_name="artifact_partitions")
