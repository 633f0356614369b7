"""An index on ``executions (launch_plan, created_at, id)``: a launch plan's executions
newest first (the launch plan page) read from the index alone. Without it the database
walked every execution newest first looking for the plan's, all of them for a plan that
never fired.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_executions_launch_plan", "executions", ["launch_plan", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_executions_launch_plan", table_name="executions")
