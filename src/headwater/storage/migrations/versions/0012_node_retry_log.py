"""``node_executions.retry_log``: the retries of a node (attempt, the wait before it, the error
that caused it), as JSON; NULL for a node that was never retried (every node before this).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("node_executions") as batch:
        batch.add_column(sa.Column("retry_log", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("node_executions") as batch:
        batch.drop_column("retry_log")
