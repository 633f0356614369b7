"""Reactive workflows: launch plans, the execution queue, reactor cursors, decisions, firings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Text = sa.Text
Time = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "launch_plans",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("project", Text, nullable=False),
        sa.Column("domain", Text, nullable=False),
        sa.Column("name", Text, nullable=False),
        sa.Column("version", Text, nullable=False),
        sa.Column("workflow", Text, nullable=False),
        sa.Column("workflow_version", Text, nullable=False),
        sa.Column("spec", Text, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.UniqueConstraint("project", "domain", "name", "version", name="uq_lp_version"),
    )
    # One row per launch plan name: which version is active (NULL: none). A single row makes
    # "at most one active version" structural rather than a rule to remember.
    op.create_table(
        "launch_plan_state",
        sa.Column("project", Text, nullable=False),
        sa.Column("domain", Text, nullable=False),
        sa.Column("name", Text, nullable=False),
        sa.Column("active_id", BigId, sa.ForeignKey("launch_plans.id")),
        sa.Column("changed_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("project", "domain", "name"),
    )
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("launch_plan_id", BigId))
        batch.add_column(sa.Column("worker", Text))
        batch.add_column(sa.Column("lease_expires_at", Time))
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("max_attempts", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("event_seq", sa.BigInteger))
        batch.add_column(sa.Column("concurrency_limit", sa.Integer))
    op.create_index("ix_executions_lp_status", "executions", ["launch_plan_id", "status"])
    op.create_index("ix_executions_lease", "executions", ["status", "lease_expires_at"])

    # Events not yet decided by the reactor. Each event row is written with its inbox row, and
    # the reactor deletes inbox rows in the transaction that records its decisions. (A "last
    # seq" cursor is not enough on PostgreSQL: sequence values are taken at insert but become
    # visible at commit, so a slow transaction can commit a lower seq after a higher one.)
    op.create_table(
        "reactor_inbox",
        sa.Column("seq", BigId, primary_key=True, autoincrement=False),
    )
    op.create_table(
        "trigger_decisions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_seq", sa.BigInteger, nullable=False),
        sa.Column("event_id", Text, nullable=False),
        sa.Column("launch_plan_id", BigId, sa.ForeignKey("launch_plans.id"), nullable=False),
        sa.Column("trigger_path", Text, nullable=False),
        sa.Column("outcome", Text, nullable=False),
        sa.Column("reason", Text, nullable=False),
        sa.Column("execution_id", Text),
        sa.Column("created_at", Time, nullable=False),
    )
    op.create_index("ix_decisions_event", "trigger_decisions", ["event_id"])
    op.create_index("ix_decisions_lp", "trigger_decisions", ["launch_plan_id", "id"])
    op.create_table(
        "firings",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("launch_plan_id", BigId, sa.ForeignKey("launch_plans.id"), nullable=False),
        sa.Column("trigger_path", Text, nullable=False),
        sa.Column("firing_key", Text, nullable=False),
        sa.Column("execution_id", Text),
        sa.Column("created_at", Time, nullable=False),
        sa.UniqueConstraint("launch_plan_id", "trigger_path", "firing_key", name="uq_firing"),
    )
    op.create_table(
        "trigger_state",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("launch_plan_id", BigId, sa.ForeignKey("launch_plans.id"), nullable=False),
        sa.Column("trigger_path", Text, nullable=False),
        sa.Column("correlation", Text, nullable=False),
        sa.Column("part", sa.Integer, nullable=False),
        sa.Column("event_id", Text, nullable=False),
        sa.Column("event_seq", sa.BigInteger, nullable=False),
        sa.Column("event_time", Time, nullable=False),
    )
    op.create_index(
        "ix_trigger_state",
        "trigger_state",
        ["launch_plan_id", "trigger_path", "correlation", "part"],
    )
    op.create_table(
        "schedule_state",
        sa.Column("launch_plan_id", BigId, sa.ForeignKey("launch_plans.id"), primary_key=True),
        sa.Column("next_fire_at", Time, nullable=False),
        sa.Column("last_fired_at", Time),
    )


def downgrade() -> None:
    for table in (
        "schedule_state",
        "trigger_state",
        "firings",
        "trigger_decisions",
        "reactor_inbox",
    ):
        op.drop_table(table)
    op.drop_index("ix_executions_lease", "executions")
    op.drop_index("ix_executions_lp_status", "executions")
    with op.batch_alter_table("executions") as batch:
        for col in (
            "concurrency_limit",
            "event_seq",
            "max_attempts",
            "attempts",
            "lease_expires_at",
            "worker",
            "launch_plan_id",
        ):
            batch.drop_column(col)
    op.drop_table("launch_plan_state")
    op.drop_table("launch_plans")
