"""The reactor's rows carry no foreign key to ``launch_plans``.

``trigger_decisions.launch_plan_id`` and ``firings.launch_plan_id`` lose their FOREIGN KEY.
Every reactor batch writes ~10 decisions and 1 firing per event, and on PostgreSQL each row
ran the key's check (a ``SELECT ... FOR KEY SHARE`` on ``launch_plans``), which cost more than
the row itself. The ids are always those of stored launch plan versions (the reactor reads
them from ``launch_plans``), and launch plan versions are immutable and never deleted, so
the check could never fail. On SQLite the tables are rebuilt (one copy of each).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_TABLES = ("trigger_decisions", "firings")
# SQLite's keys from 0002 are unnamed; this names them so that they can be dropped.
_NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in _TABLES:
        if sqlite:
            with op.batch_alter_table(table, naming_convention=_NAMING) as batch:
                batch.drop_constraint(f"fk_{table}_launch_plan_id", type_="foreignkey")
        else:
            op.drop_constraint(f"{table}_launch_plan_id_fkey", table, type_="foreignkey")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in _TABLES:
        if sqlite:
            with op.batch_alter_table(table) as batch:
                batch.create_foreign_key(
                    f"fk_{table}_launch_plan_id", "launch_plans", ["launch_plan_id"], ["id"]
                )
        else:
            op.create_foreign_key(
                f"{table}_launch_plan_id_fkey",
                table,
                "launch_plans",
                ["launch_plan_id"],
                ["id"],
            )
