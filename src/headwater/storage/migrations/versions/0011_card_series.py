"""``cards`` keep the series of their version (``artifact_id``, ``partition_key``,
``time_key`` as ``artifact_series`` spells them), so "the newest version of each series with
a card holding this word" groups the matching cards themselves instead of looking up every
matching version (7,501 primary-key lookups for a word every card holds). Filled from the
versions already stored; a version's series never changes, so the copy cannot go stale.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("cards") as batch:
        batch.add_column(sa.Column("artifact_id", BigId, nullable=True))
        batch.add_column(sa.Column("partition_key", sa.Text, nullable=True))
        batch.add_column(sa.Column("time_key", sa.Text, nullable=True))
    op.execute(
        "UPDATE cards SET "
        "artifact_id = (SELECT v.artifact_id FROM artifact_versions v WHERE v.id = cards.version_id), "
        "partition_key = (SELECT v.partition_key FROM artifact_versions v "
        "WHERE v.id = cards.version_id), "
        "time_key = (SELECT COALESCE(v.time_partition, '') FROM artifact_versions v "
        "WHERE v.id = cards.version_id)"
    )
    with op.batch_alter_table("cards") as batch:
        batch.alter_column("artifact_id", existing_type=BigId, nullable=False)
        batch.alter_column("partition_key", existing_type=sa.Text, nullable=False)
        batch.alter_column("time_key", existing_type=sa.Text, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("cards") as batch:
        batch.drop_column("time_key")
        batch.drop_column("partition_key")
        batch.drop_column("artifact_id")
