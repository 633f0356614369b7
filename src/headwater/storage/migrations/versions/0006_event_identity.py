"""An event is identified by its source and id (CloudEvents), and webhook deliveries are
remembered so a signed request cannot be replayed.

- ``events``: the unique key becomes (id, source) instead of id alone. The id comes first so
  the same index also serves lookups by id (``GET /api/v1/events/{id}``).
- ``firings``: a firing's key is the event's sequence number (joined seqs for an AllOf)
  instead of its id, which no longer names one event. Existing keys are rewritten, so an
  event fired before the upgrade is still "already fired" when replayed after it.
- ``webhook_deliveries``: the ``webhook-id`` of every verified webhook request, per sender,
  kept for a while after its timestamp left the tolerance window.

Downgrading fails with a clear message when two stored events share an id.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Text = sa.Text
Time = sa.Float(precision=53)
# SQLite's table from 0001 carries an unnamed UNIQUE (id); this gives it a name to drop.
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    bind = op.get_bind()
    _drop_firing_key(bind)
    _rewrite_to_seqs(bind)
    _restore_firing_key()
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table("events", naming_convention=_NAMING) as batch:
            batch.drop_constraint("uq_events_id", type_="unique")
            batch.create_unique_constraint("uq_events_id_source", ["id", "source"])
    else:
        op.drop_constraint("events_id_key", "events", type_="unique")
        op.create_unique_constraint("uq_events_id_source", "events", ["id", "source"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("sender", Text, nullable=False),
        sa.Column("id", Text, nullable=False),
        sa.Column("timestamp", Time, nullable=False),
        sa.Column("received_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("sender", "id"),
    )
    op.create_index("ix_webhook_deliveries_time", "webhook_deliveries", ["timestamp"])


def downgrade() -> None:
    bind = op.get_bind()
    shared = bind.execute(
        sa.text("SELECT id FROM events GROUP BY id HAVING COUNT(*) > 1 LIMIT 5")
    ).fetchall()
    if shared:
        ids = ", ".join(repr(r[0]) for r in shared)
        raise RuntimeError(
            f"cannot go below schema 0006: several sources sent events with the same id "
            f"({ids}); before 0006 an id had to be unique — delete or rename those events first"
        )
    op.drop_index("ix_webhook_deliveries_time", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table("events") as batch:
            batch.drop_constraint("uq_events_id_source", type_="unique")
            batch.create_unique_constraint("uq_events_id", ["id"])
    else:
        op.drop_constraint("uq_events_id_source", "events", type_="unique")
        op.create_unique_constraint("events_id_key", "events", ["id"])
    _drop_firing_key(bind)
    _rewrite_to_ids(bind)
    _restore_firing_key()


# -- firing keys ---------------------------------------------------------------------------
# The unique key is dropped while keys are rewritten: an old key (an arbitrary event id) may
# equal a new one (a number) of another firing until every row is rewritten.
def _drop_firing_key(bind: Any) -> None:
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table("firings") as batch:
            batch.drop_constraint("uq_firing", type_="unique")
    else:
        op.drop_constraint("uq_firing", "firings", type_="unique")


def _restore_firing_key() -> None:
    with op.batch_alter_table("firings") as batch:
        batch.create_unique_constraint(
            "uq_firing", ["launch_plan_id", "trigger_path", "firing_key"]
        )


def _rewrite_to_seqs(bind: Any) -> None:
    """Id-based keys (an event id, or ids joined with '+') become the seqs of those events."""
    joined = bind.execute(
        sa.text(
            "SELECT f.id, f.firing_key, x.trigger FROM firings f "
            "LEFT JOIN executions x ON x.id = f.execution_id "
            "WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = f.firing_key)"
        )
    ).fetchall()
    updates = []
    for fid, key, trigger in joined:
        new = _joined_seqs(bind, key, trigger)
        if new is not None:
            updates.append({"id": fid, "key": new})
    bind.execute(
        sa.text(
            "UPDATE firings SET firing_key = (SELECT CAST(e.seq AS TEXT) FROM events e "
            "WHERE e.id = firings.firing_key) "
            "WHERE EXISTS (SELECT 1 FROM events e WHERE e.id = firings.firing_key)"
        )
    )
    if updates:
        bind.execute(sa.text("UPDATE firings SET firing_key = :key WHERE id = :id"), updates)


def _joined_seqs(bind: Any, key: str, trigger: str | None) -> str | None:
    # The firing's execution names its events (more reliable than splitting: an id may
    # itself hold a '+').
    ids = [e["id"] for e in json.loads(trigger).get("events", [])] if trigger else []
    seqs = []
    for event_id in ids or key.split("+"):
        seq = bind.execute(
            sa.text("SELECT seq FROM events WHERE id = :id"), {"id": event_id}
        ).scalar()
        if seq is None:
            return None  # its events are gone: nothing can deliver them again
        seqs.append(int(seq))
    return "+".join(str(s) for s in sorted(seqs))


def _rewrite_to_ids(bind: Any) -> None:
    updates = []
    for fid, key in bind.execute(sa.text("SELECT id, firing_key FROM firings")).fetchall():
        ids = []
        for part in key.split("+"):
            found = None
            if part.isdigit():
                found = bind.execute(
                    sa.text("SELECT id FROM events WHERE seq = :s"), {"s": int(part)}
                ).scalar()
            if found is None:
                break
            ids.append(found)
        else:
            updates.append({"id": fid, "key": "+".join(sorted(ids))})
    if updates:
        bind.execute(sa.text("UPDATE firings SET firing_key = :key WHERE id = :id"), updates)
