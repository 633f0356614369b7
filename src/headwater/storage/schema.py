"""The metadata database's tables, declared with SQLAlchemy Core.

This is the schema that applying every migration in ``migrations/versions/`` produces, stated
in one place: Alembic's autogenerate compares against it (``target_metadata``), and
``tests/storage/test_schema.py`` fails when a migration and this module disagree. A new column
or index is a new migration *and* the same change here.

Only Alembic, migration checks and tests import this module. The runtime never does: it talks
to ``sqlite3``/``psycopg`` directly (``storage/db.py``), and importing SQLAlchemy would cost a
``headwater run`` process about 0.35 s.
"""

from __future__ import annotations

import sqlalchemy as sa

from headwater.storage.executions import LP_STATUS_WHERE

# SQLite only aliases the rowid for INTEGER PRIMARY KEY, so big ids are INTEGER there.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Text = sa.Text
Time = sa.Float(precision=53)  # epoch seconds, UTC

metadata = sa.MetaData()


def _id() -> sa.Column[int]:
    return sa.Column("id", BigId, primary_key=True, autoincrement=True)


# -- the engine core (0001) ----------------------------------------------------------------

code_snapshots = sa.Table(
    "code_snapshots",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("blob_key", Text, nullable=False),
    sa.Column("root", Text, nullable=False),
    sa.Column("files", sa.Integer, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("created_at", Time, nullable=False),
)

entities = sa.Table(
    "entities",
    metadata,
    _id(),
    sa.Column("project", Text, nullable=False),
    sa.Column("domain", Text, nullable=False),
    sa.Column("name", Text, nullable=False),
    sa.Column("version", Text, nullable=False),
    sa.Column("kind", Text, nullable=False),
    sa.Column("snapshot", sa.String(64), sa.ForeignKey("code_snapshots.digest"), nullable=False),
    sa.Column("spec", Text, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.UniqueConstraint("project", "domain", "name", "version", name="uq_entity_version"),
    sa.Index("ix_entities_name", "project", "domain", "name", "id"),
)

# An event is identified by (id, source), as in CloudEvents (0006); the id comes first so
# the same index serves lookups by id.
events = sa.Table(
    "events",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("id", Text, nullable=False),
    sa.Column("name", Text, nullable=False),
    sa.Column("source", Text, nullable=False),
    sa.Column("subject", Text),
    sa.Column("project", Text, nullable=False),
    sa.Column("domain", Text, nullable=False),
    sa.Column("time", Time, nullable=False),
    sa.Column("payload", Text, nullable=False),
    sa.Column("attributes", Text, nullable=False),
    sa.UniqueConstraint("id", "source", name="uq_events_id_source"),
    sa.Index("ix_events_name_seq", "name", "seq"),
    sa.Index("ix_events_time", "time"),
)

executions = sa.Table(
    "executions",
    metadata,
    sa.Column("id", Text, primary_key=True),
    sa.Column("project", Text, nullable=False),
    sa.Column("domain", Text, nullable=False),
    sa.Column("workflow", Text, nullable=False),
    sa.Column("workflow_version", Text, nullable=False),
    sa.Column("launch_plan", Text),
    sa.Column("status", Text, nullable=False),
    sa.Column("inputs", Text, nullable=False),
    sa.Column("resolved", Text, nullable=False),
    sa.Column("outputs", Text),
    sa.Column("error", Text),
    sa.Column("trigger", Text),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("started_at", Time),
    sa.Column("finished_at", Time),
    # the queue (0002)
    sa.Column("launch_plan_id", BigId),
    sa.Column("worker", Text),
    sa.Column("lease_expires_at", Time),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("max_attempts", sa.Integer, nullable=False, server_default="1"),
    sa.Column("event_seq", sa.BigInteger),
    sa.Column("concurrency_limit", sa.Integer),
    # the queue a worker must serve to claim it (0009)
    sa.Column("queue", Text, nullable=False, server_default="default"),
    sa.Index("ix_executions_created", "created_at"),
    sa.Index("ix_executions_workflow", "workflow", "created_at"),
    sa.Index("ix_executions_status", "status", "created_at"),
    # only what the concurrency checks count (0016; the same predicate as count_busy's)
    sa.Index(
        "ix_executions_lp_status",
        "launch_plan_id",
        "status",
        sqlite_where=sa.text(LP_STATUS_WHERE),
        postgresql_where=sa.text(LP_STATUS_WHERE),
    ),
    sa.Index("ix_executions_lease", "status", "lease_expires_at"),
    sa.Index("ix_executions_queue", "queue", "status", "created_at"),
)

# Each launch plan's executions newest first (0019, storage/plan_runs.py): new ones appended
# to plan_runs_new, moved in bulk into plan_runs, which is clustered by plan.
plan_runs = sa.Table(
    "plan_runs",
    metadata,
    sa.Column("launch_plan", Text, primary_key=True),
    sa.Column("created_at", Time, primary_key=True),
    sa.Column("id", Text, primary_key=True),
    sqlite_with_rowid=False,
)

plan_runs_new = sa.Table(
    "plan_runs_new",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("launch_plan", Text, nullable=False),
    sa.Column("project", Text, nullable=False),
    sa.Column("domain", Text, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("id", Text, nullable=False),
)

node_executions = sa.Table(
    "node_executions",
    metadata,
    _id(),
    sa.Column("execution_id", Text, sa.ForeignKey("executions.id"), nullable=False),
    sa.Column("node_id", Text, nullable=False),
    sa.Column("name", Text, nullable=False),
    sa.Column("kind", Text, nullable=False),
    sa.Column("status", Text, nullable=False),
    sa.Column("inputs", Text, nullable=False),
    sa.Column("outputs", Text),
    sa.Column("error", Text),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("cache_key", Text),
    sa.Column("cached_from", Text),
    sa.Column("started_at", Time, nullable=False),
    sa.Column("finished_at", Time),
    sa.Column("retry_log", Text),  # JSON: the retries of the node and the wait before each
    sa.UniqueConstraint("execution_id", "node_id", name="uq_node"),
    sa.Index("ix_nodes_cache", "cache_key", "status"),
)

artifacts = sa.Table(
    "artifacts",
    metadata,
    _id(),
    sa.Column("project", Text, nullable=False),
    sa.Column("domain", Text, nullable=False),
    sa.Column("name", Text, nullable=False),
    sa.Column("spec", Text, nullable=False),
    sa.Column("latest_seq", sa.BigInteger, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.UniqueConstraint("project", "domain", "name", name="uq_artifact"),
    sa.Index("ix_artifacts_name", "name"),
)

artifact_versions = sa.Table(
    "artifact_versions",
    metadata,
    _id(),
    sa.Column("artifact_id", BigId, sa.ForeignKey("artifacts.id"), nullable=False),
    sa.Column("version", Text, nullable=False),
    sa.Column("partition_key", Text, nullable=False),
    sa.Column("partitions", Text, nullable=False),
    sa.Column("time_partition", Text),
    sa.Column("value", Text, nullable=False),
    sa.Column("execution_id", Text),
    sa.Column("node_id", Text),
    sa.Column("output_name", Text),
    sa.Column("created_at", Time, nullable=False),
    # a tombstone: when and by which retention policy the version was purged (0011)
    sa.Column("purged_at", Time),
    sa.Column("purged_by", Text),
    sa.UniqueConstraint("artifact_id", "version", name="uq_artifact_version"),
    sa.Index("ix_av_latest", "artifact_id", "id"),
    sa.Index("ix_av_pkey", "artifact_id", "partition_key", "id"),
    sa.Index("ix_av_pkey_time", "artifact_id", "partition_key", "time_partition", "id"),
    sa.Index("ix_av_time", "artifact_id", "time_partition", "id"),
    sa.Index("ix_av_created", "created_at"),
    sa.Index("ix_av_execution", "execution_id"),
)

artifact_partitions = sa.Table(
    "artifact_partitions",
    metadata,
    sa.Column("version_id", BigId, sa.ForeignKey("artifact_versions.id"), nullable=False),
    sa.Column("artifact_id", BigId, nullable=False),
    sa.Column("key", Text, nullable=False),
    sa.Column("value", Text, nullable=False),
    sa.PrimaryKeyConstraint("version_id", "key"),
    sa.Index("ix_ap_lookup", "artifact_id", "key", "value", "version_id"),
    # versions with a partition value in any artifact, newest first (0008)
    sa.Index("ix_artifact_partitions_key_value_version_id", "key", "value", "version_id"),
)

# The newest version of each series (artifact, partitions, time partition; "" for none),
# kept by storage/artifact_versions.insert_version: the search page pages series by it (0007).
artifact_series = sa.Table(
    "artifact_series",
    metadata,
    sa.Column("artifact_id", BigId, sa.ForeignKey("artifacts.id"), nullable=False),
    sa.Column("partition_key", Text, nullable=False),
    sa.Column("time_key", Text, nullable=False),
    sa.Column("latest_id", BigId, sa.ForeignKey("artifact_versions.id"), nullable=False),
    sa.PrimaryKeyConstraint("artifact_id", "partition_key", "time_key"),
    sa.Index("ix_artifact_series_latest_id", "latest_id"),
)

cards = sa.Table(
    "cards",
    metadata,
    _id(),
    sa.Column("version_id", BigId, sa.ForeignKey("artifact_versions.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("kind", Text, nullable=False),
    sa.Column("text", Text, nullable=False),
    # the version's series (as artifact_series keys it), so card-word search groups cards
    sa.Column("artifact_id", BigId, nullable=False),
    sa.Column("partition_key", Text, nullable=False),
    sa.Column("time_key", Text, nullable=False),
    sa.Index("ix_cards_version", "version_id", "position"),
)

lineage_edges = sa.Table(
    "lineage_edges",
    metadata,
    _id(),
    sa.Column("execution_id", Text, sa.ForeignKey("executions.id"), nullable=False),
    sa.Column("version_id", BigId, sa.ForeignKey("artifact_versions.id"), nullable=False),
    sa.Column("direction", Text, nullable=False),
    sa.Column("name", Text, nullable=False),
    sa.Column("node_id", Text),
    sa.UniqueConstraint("execution_id", "version_id", "direction", "name", name="uq_edge"),
    sa.Index("ix_edges_version", "version_id", "direction"),
    sa.Index("ix_edges_execution", "execution_id", "direction"),
)

# -- reactive workflows (0002, 0004, 0006) -------------------------------------------------

launch_plans = sa.Table(
    "launch_plans",
    metadata,
    _id(),
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

# One row per launch plan name: which version is active (NULL: none).
launch_plan_state = sa.Table(
    "launch_plan_state",
    metadata,
    sa.Column("project", Text, nullable=False),
    sa.Column("domain", Text, nullable=False),
    sa.Column("name", Text, nullable=False),
    sa.Column("active_id", BigId, sa.ForeignKey("launch_plans.id")),
    sa.Column("changed_at", Time, nullable=False),
    sa.PrimaryKeyConstraint("project", "domain", "name"),
    # MAX(changed_at), read by the reactor every cycle (migration 0017)
    sa.Index("ix_launch_plan_state_changed", "changed_at"),
)

# Idle worker processes offering to take a new execution from the reactor (migration 0018):
# ``queues`` comma-separated (NULL: every queue); ``execution_id`` once one was handed over.
worker_slots = sa.Table(
    "worker_slots",
    metadata,
    sa.Column("slot", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("worker", Text, nullable=False),
    sa.Column("queues", Text),
    sa.Column("lease", Time, nullable=False),
    sa.Column("since", Time, nullable=False),
    sa.Column("execution_id", Text),
)

# Events not yet decided by the reactor (see migration 0002 for why not a cursor).
reactor_inbox = sa.Table(
    "reactor_inbox",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=False),
)

trigger_decisions = sa.Table(
    "trigger_decisions",
    metadata,
    _id(),
    sa.Column("event_seq", sa.BigInteger, nullable=False),
    sa.Column("event_id", Text, nullable=False),
    # No foreign key (0015): checked per row it cost more than the row; the reactor writes
    # only ids of stored launch plan versions, which are never deleted.
    sa.Column("launch_plan_id", BigId, nullable=False),
    sa.Column("trigger_path", Text, nullable=False),
    sa.Column("outcome", Text, nullable=False),
    sa.Column("reason", Text, nullable=False),
    sa.Column("execution_id", Text),
    sa.Column("created_at", Time, nullable=False),
    sa.Index("ix_decisions_seq", "event_seq"),
)

# firing_key: the event's seq, or the sorted seqs of an AllOf joined with "+" (0006).
firings = sa.Table(
    "firings",
    metadata,
    _id(),
    sa.Column("launch_plan_id", BigId, nullable=False),  # no foreign key (0015)
    sa.Column("trigger_path", Text, nullable=False),
    sa.Column("firing_key", Text, nullable=False),
    sa.Column("execution_id", Text),
    sa.Column("created_at", Time, nullable=False),
    # the firing key (an event seq) first: new firings go at the end of the index (0016)
    sa.UniqueConstraint("firing_key", "launch_plan_id", "trigger_path", name="uq_firing"),
)

trigger_state = sa.Table(
    "trigger_state",
    metadata,
    _id(),
    sa.Column("launch_plan_id", BigId, sa.ForeignKey("launch_plans.id"), nullable=False),
    sa.Column("trigger_path", Text, nullable=False),
    sa.Column("correlation", Text, nullable=False),
    sa.Column("part", sa.Integer, nullable=False),
    sa.Column("event_id", Text, nullable=False),
    sa.Column("event_seq", sa.BigInteger, nullable=False),
    sa.Column("event_time", Time, nullable=False),
    sa.Index("ix_trigger_state", "launch_plan_id", "trigger_path", "correlation", "part"),
)

schedule_state = sa.Table(
    "schedule_state",
    metadata,
    sa.Column("launch_plan_id", BigId, sa.ForeignKey("launch_plans.id"), primary_key=True),
    sa.Column("next_fire_at", Time, nullable=False),
    sa.Column("last_fired_at", Time),
)

# -- run-to-run lineage and API tokens (0003) ----------------------------------------------

execution_links = sa.Table(
    "execution_links",
    metadata,
    sa.Column("execution_id", Text, sa.ForeignKey("executions.id"), nullable=False),
    sa.Column("upstream_id", Text, nullable=False),
    sa.Column("kind", Text, nullable=False),
    sa.PrimaryKeyConstraint("execution_id", "upstream_id", "kind"),
    sa.Index("ix_links_upstream", "upstream_id"),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    _id(),
    sa.Column("name", Text, nullable=False),
    sa.Column("token_hash", Text, nullable=False, unique=True),
    sa.Column("prefix", Text, nullable=False),
    sa.Column("project", Text, nullable=False),
    sa.Column("role", Text, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("revoked_at", Time),
    sa.Column("last_used_at", Time),
)

# -- server-wide flags (0005) and webhook replay protection (0006) -------------------------

server_state = sa.Table(
    "server_state",
    metadata,
    sa.Column("key", Text, primary_key=True),
    sa.Column("value", Text, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("sender", Text, nullable=False),
    sa.Column("id", Text, nullable=False),
    sa.Column("timestamp", Time, nullable=False),
    sa.Column("received_at", Time, nullable=False),
    sa.PrimaryKeyConstraint("sender", "id"),
    sa.Index("ix_webhook_deliveries_time", "timestamp"),
)

# -- the OpenLineage outbox (0011) ---------------------------------------------------------

# A run state change (START, COMPLETE, FAIL, ABORT, RUNNING) waiting to be sent as a RunEvent;
# the event is built from the stored execution when it is sent (integrations/openlineage).
openlineage_outbox = sa.Table(
    "openlineage_outbox",
    metadata,
    _id(),
    sa.Column("execution_id", Text, nullable=False),
    sa.Column("event_type", Text, nullable=False),
    sa.Column("event_time", Time, nullable=False),
    sa.Column("created_at", Time, nullable=False),
)
