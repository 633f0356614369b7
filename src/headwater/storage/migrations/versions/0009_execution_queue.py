"""Named queues: each execution records the queue it waits on; workers claim only theirs.

``executions.queue`` is ``'default'`` for every execution that exists before the upgrade (and
for every launch plan that names no queue). The index serves a worker's claim: the oldest
queued execution of its queues.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("queue", sa.Text, nullable=False, server_default="default"))
    op.create_index("ix_executions_queue", "executions", ["queue", "status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_executions_queue", table_name="executions")
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("queue")
