"""``worker_slots``: idle worker processes offering to take an execution handed to them.

On PostgreSQL a worker process that waits for work (LISTENing) offers itself here; the
reactor hands a new execution straight to the oldest offer whose queues take it, in the
transaction that fires it (the row claimed for that worker, its started event, and a NOTIFY
to that process carrying the row), instead of every idle worker waking up to race for it with
a claim of its own: one round trip less from an event to the user's code.

A slot is live while its process holds the advisory lock ``(SLOT_LOCKS, slot)`` on its
listening connection; ``execution_id`` is set when an execution was handed to it.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_slots",
        sa.Column("slot", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("worker", sa.Text, nullable=False),
        sa.Column("queues", sa.Text),
        sa.Column("lease", sa.Float(precision=53), nullable=False),
        sa.Column("since", sa.Float(precision=53), nullable=False),
        sa.Column("execution_id", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("worker_slots")
