"""FlowSpec tests run against an ephemeral instance on SQLite and on PostgreSQL."""

from __future__ import annotations

from tests.engine.conftest import instance

__all__ = ["instance"]
