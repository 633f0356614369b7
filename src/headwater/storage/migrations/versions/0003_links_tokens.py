"""Run-to-run lineage (a run triggered by another's completion) and API tokens.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Text = sa.Text
Time = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "execution_links",
        sa.Column("execution_id", Text, sa.ForeignKey("executions.id"), nullable=False),
        sa.Column("upstream_id", Text, nullable=False),
        sa.Column("kind", Text, nullable=False),
        sa.PrimaryKeyConstraint("execution_id", "upstream_id", "kind"),
    )
    op.create_index("ix_links_upstream", "execution_links", ["upstream_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("name", Text, nullable=False),
        sa.Column("token_hash", Text, nullable=False, unique=True),
        sa.Column("prefix", Text, nullable=False),
        sa.Column("project", Text, nullable=False),
        sa.Column("role", Text, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("revoked_at", Time),
        sa.Column("last_used_at", Time),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_index("ix_links_upstream", "execution_links")
    op.drop_table("execution_links")
