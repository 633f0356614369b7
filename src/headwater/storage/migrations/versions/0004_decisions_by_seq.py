"""Decisions are looked up by event sequence number, not by random event id.

The reactor writes about ten decisions per event; indexing them by the event's random id
and by launch plan put every batch's writes at random places of two ever-growing indexes,
which made deciding slower the longer the event log grew. Sequence numbers only grow, so
their index is appended to.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_decisions_event", table_name="trigger_decisions")
    op.drop_index("ix_decisions_lp", table_name="trigger_decisions")
    op.create_index("ix_decisions_seq", "trigger_decisions", ["event_seq"])


def downgrade() -> None:
    op.drop_index("ix_decisions_seq", table_name="trigger_decisions")
    op.create_index("ix_decisions_lp", "trigger_decisions", ["launch_plan_id", "id"])
    op.create_index("ix_decisions_event", "trigger_decisions", ["event_id"])
