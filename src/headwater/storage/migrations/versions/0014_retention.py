"""Retention: a purged artifact version keeps its row as a tombstone. ``purged_at`` (epoch
seconds) and ``purged_by`` (the retention policy that purged it) are NULL on a live version;
a purged one keeps its name, version, partitions and lineage edges, so its URI can say when and
why it went and lineage graphs still show it, while its value (and so its blob) is gone.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("artifact_versions", sa.Column("purged_at", sa.Float(precision=53)))
    op.add_column("artifact_versions", sa.Column("purged_by", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("artifact_versions") as batch:
        batch.drop_column("purged_by")
        batch.drop_column("purged_at")
