"""Keys the reactor writes in order, so a burst's cost per event does not grow with the
tables.

A reactor batch fires for hundreds of launch plans at once. Every index whose first column
is the launch plan takes one write per plan at a scattered place, so the pages a batch
rewrites grew with the table (about 700 pages per 500 events at the start of a 100,000-event
burst, 3,100 at its end). Two of them change:

- ``firings``: the unique key becomes (firing_key, launch_plan_id, trigger_path). The firing
  key is the event's seq (or the joined seqs of an AllOf), so new firings go at the end of
  the index. Every read of the key names all three columns, so any order serves it.
- ``ix_executions_lp_status`` only holds the executions its readers count: running ones (a
  claim checks its plan's concurrency limit), those of plans with a concurrency limit (the
  reactor's ``skip`` check counts queued and running), and those not queued by the reactor
  (relaunches keep their plan's id but not its limit). The reactor's queued executions of
  plans without a limit, most of a burst, are left out.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# Also in storage/schema.py and storage/executions.py (count_busy): keep the three equal.
LP_STATUS_WHERE = "status = 'running' OR concurrency_limit IS NOT NULL OR event_seq IS NULL"


def _firing_key(columns: list[str]) -> None:
    with op.batch_alter_table("firings") as batch:
        batch.drop_constraint("uq_firing", type_="unique")
        batch.create_unique_constraint("uq_firing", columns)


def upgrade() -> None:
    _firing_key(["firing_key", "launch_plan_id", "trigger_path"])
    op.drop_index("ix_executions_lp_status", table_name="executions")
    op.create_index(
        "ix_executions_lp_status",
        "executions",
        ["launch_plan_id", "status"],
        sqlite_where=sa.text(LP_STATUS_WHERE),
        postgresql_where=sa.text(LP_STATUS_WHERE),
    )


def downgrade() -> None:
    op.drop_index("ix_executions_lp_status", table_name="executions")
    op.create_index("ix_executions_lp_status", "executions", ["launch_plan_id", "status"])
    _firing_key(["launch_plan_id", "trigger_path", "firing_key"])
