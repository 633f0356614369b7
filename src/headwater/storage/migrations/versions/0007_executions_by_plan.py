"""Executions are looked up by launch plan name, newest first.

The launch plan pages show each plan's last executions; without this index finding them
walked every execution newest first until enough matched (all of them, for a plan that
never ran).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_executions_lp_created", "executions", ["launch_plan", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_executions_lp_created", table_name="executions")
