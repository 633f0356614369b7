"""``artifact_series``: the newest version of each series of an artifact (its partitions and
time partition), so the search page can page "every artifact with its latest version" in
series order without reading the versions a series superseded. Filled from the versions
already stored.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "artifact_series",
        sa.Column("artifact_id", BigId, sa.ForeignKey("artifacts.id"), nullable=False),
        sa.Column("partition_key", sa.Text, nullable=False),
        sa.Column("time_key", sa.Text, nullable=False),
        sa.Column("latest_id", BigId, sa.ForeignKey("artifact_versions.id"), nullable=False),
        sa.PrimaryKeyConstraint("artifact_id", "partition_key", "time_key"),
    )
    op.execute(
        "INSERT INTO artifact_series (artifact_id, partition_key, time_key, latest_id) "
        "SELECT artifact_id, partition_key, COALESCE(time_partition, ''), MAX(id) "
        "FROM artifact_versions GROUP BY artifact_id, partition_key, COALESCE(time_partition, '')"
    )
    op.create_index("ix_artifact_series_latest_id", "artifact_series", ["latest_id"])


def downgrade() -> None:
    op.drop_index("ix_artifact_series_latest_id", table_name="artifact_series")
    op.drop_table("artifact_series")
