"""The engine core: definitions, code snapshots, events, executions, artifacts, lineage.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# SQLite only aliases the rowid for INTEGER PRIMARY KEY, so big ids are INTEGER there.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Text = sa.Text
Time = sa.Float(precision=53)  # epoch seconds, UTC


def upgrade() -> None:
    op.create_table(
        "code_snapshots",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("blob_key", Text, nullable=False),
        sa.Column("root", Text, nullable=False),
        sa.Column("files", sa.Integer, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("created_at", Time, nullable=False),
    )
    op.create_table(
        "entities",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("project", Text, nullable=False),
        sa.Column("domain", Text, nullable=False),
        sa.Column("name", Text, nullable=False),
        sa.Column("version", Text, nullable=False),
        sa.Column("kind", Text, nullable=False),
        sa.Column(
            "snapshot", sa.String(64), sa.ForeignKey("code_snapshots.digest"), nullable=False
        ),
        sa.Column("spec", Text, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.UniqueConstraint("project", "domain", "name", "version", name="uq_entity_version"),
    )
    op.create_index("ix_entities_name", "entities", ["project", "domain", "name", "id"])

    op.create_table(
        "events",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("id", Text, nullable=False, unique=True),
        sa.Column("name", Text, nullable=False),
        sa.Column("source", Text, nullable=False),
        sa.Column("subject", Text),
        sa.Column("project", Text, nullable=False),
        sa.Column("domain", Text, nullable=False),
        sa.Column("time", Time, nullable=False),
        sa.Column("payload", Text, nullable=False),
        sa.Column("attributes", Text, nullable=False),
    )
    op.create_index("ix_events_name_seq", "events", ["name", "seq"])
    op.create_index("ix_events_time", "events", ["time"])

    op.create_table(
        "executions",
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
    )
    op.create_index("ix_executions_created", "executions", ["created_at"])
    op.create_index("ix_executions_workflow", "executions", ["workflow", "created_at"])
    op.create_index("ix_executions_status", "executions", ["status", "created_at"])

    op.create_table(
        "node_executions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
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
        sa.UniqueConstraint("execution_id", "node_id", name="uq_node"),
    )
    op.create_index("ix_nodes_cache", "node_executions", ["cache_key", "status"])

    op.create_table(
        "artifacts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("project", Text, nullable=False),
        sa.Column("domain", Text, nullable=False),
        sa.Column("name", Text, nullable=False),
        sa.Column("spec", Text, nullable=False),
        sa.Column("latest_seq", sa.BigInteger, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.UniqueConstraint("project", "domain", "name", name="uq_artifact"),
    )
    op.create_index("ix_artifacts_name", "artifacts", ["name"])

    op.create_table(
        "artifact_versions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
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
        sa.UniqueConstraint("artifact_id", "version", name="uq_artifact_version"),
    )
    op.create_index("ix_av_latest", "artifact_versions", ["artifact_id", "id"])
    op.create_index("ix_av_pkey", "artifact_versions", ["artifact_id", "partition_key", "id"])
    op.create_index(
        "ix_av_pkey_time",
        "artifact_versions",
        ["artifact_id", "partition_key", "time_partition", "id"],
    )
    op.create_index("ix_av_time", "artifact_versions", ["artifact_id", "time_partition", "id"])
    op.create_index("ix_av_created", "artifact_versions", ["created_at"])
    op.create_index("ix_av_execution", "artifact_versions", ["execution_id"])

    op.create_table(
        "artifact_partitions",
        sa.Column("version_id", BigId, sa.ForeignKey("artifact_versions.id"), nullable=False),
        sa.Column("artifact_id", BigId, nullable=False),
        sa.Column("key", Text, nullable=False),
        sa.Column("value", Text, nullable=False),
        sa.PrimaryKeyConstraint("version_id", "key"),
    )
    op.create_index(
        "ix_ap_lookup", "artifact_partitions", ["artifact_id", "key", "value", "version_id"]
    )

    op.create_table(
        "cards",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("version_id", BigId, sa.ForeignKey("artifact_versions.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("kind", Text, nullable=False),
        sa.Column("text", Text, nullable=False),
    )
    op.create_index("ix_cards_version", "cards", ["version_id", "position"])

    op.create_table(
        "lineage_edges",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("execution_id", Text, sa.ForeignKey("executions.id"), nullable=False),
        sa.Column("version_id", BigId, sa.ForeignKey("artifact_versions.id"), nullable=False),
        sa.Column("direction", Text, nullable=False),
        sa.Column("name", Text, nullable=False),
        sa.Column("node_id", Text),
        sa.UniqueConstraint("execution_id", "version_id", "direction", "name", name="uq_edge"),
    )
    op.create_index("ix_edges_version", "lineage_edges", ["version_id", "direction"])
    op.create_index("ix_edges_execution", "lineage_edges", ["execution_id", "direction"])


def downgrade() -> None:
    for table in (
        "lineage_edges",
        "cards",
        "artifact_partitions",
        "artifact_versions",
        "artifacts",
        "node_executions",
        "executions",
        "events",
        "entities",
        "code_snapshots",
    ):
        op.drop_table(table)
