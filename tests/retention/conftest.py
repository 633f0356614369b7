"""GC tests: the engine and API fixtures, on SQLite and PostgreSQL."""

from __future__ import annotations

from ..api.conftest import api, instance  # noqa: F401  (fixtures)
