"""``plan_runs`` and ``plan_runs_new`` instead of the index ``ix_executions_launch_plan``.

That index (0010) listed a launch plan's executions newest first, but each firing inserted
its entry at one place per launch plan: once it outgrew the plans, a reactor batch firing
hundreds of plans wrote a scattered page for each, and a 100,000-event burst on SQLite slowed
down by a fifth from its first tenth to its last. New executions of a launch plan are now
appended to ``plan_runs_new`` and moved in bulk, sorted, into ``plan_runs`` (clustered by
plan) every few thousand (``storage/plan_runs.py``). The executions already stored are
copied into ``plan_runs``.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_Time = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "plan_runs",
        sa.Column("launch_plan", sa.Text, primary_key=True),
        sa.Column("created_at", _Time, primary_key=True),
        sa.Column("id", sa.Text, primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "plan_runs_new",
        sa.Column("seq", _BigId, primary_key=True, autoincrement=True),
        sa.Column("launch_plan", sa.Text, nullable=False),
        sa.Column("project", sa.Text, nullable=False),
        sa.Column("domain", sa.Text, nullable=False),
        sa.Column("created_at", _Time, nullable=False),
        sa.Column("id", sa.Text, nullable=False),
    )
    op.execute(
        "INSERT INTO plan_runs (launch_plan, created_at, id) SELECT launch_plan, created_at, id "
        "FROM executions WHERE launch_plan IS NOT NULL ORDER BY launch_plan, created_at, id"
    )
    op.drop_index("ix_executions_launch_plan", table_name="executions")


def downgrade() -> None:
    op.create_index("ix_executions_launch_plan", "executions", ["launch_plan", "created_at", "id"])
    op.drop_table("plan_runs_new")
    op.drop_table("plan_runs")
