"""The engine's own processes (workers, their execution processes, the reactor) plan each
prepared statement once per PostgreSQL connection: their claim and batch statements are the
same few lookups by key, run over and over, and planning them anew each time cost ~0.45 ms
of a claim's ~0.65 ms on the server. Other processes keep PostgreSQL's default."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from headwater.storage import db as db_module
from headwater.storage.db import Database

pytestmark = pytest.mark.postgres


def _setting(url: str, name: str) -> str:
    db = Database(url)
    try:
        with db.read() as tx:
            return str(tx.scalar(f"SHOW {name}"))
    finally:
        db.close()


def test_engine_processes_reuse_one_plan_per_statement(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "_generic_plans", False)
    assert _setting(postgres_url, "plan_cache_mode") == "auto"
    db_module.prefer_generic_plans()
    assert _setting(postgres_url, "plan_cache_mode") == "force_generic_plan"


def test_server_options_in_the_url_are_kept(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "_generic_plans", True)
    sep = "&" if "?" in postgres_url else "?"
    url = f"{postgres_url}{sep}options={quote('-c statement_timeout=12345')}"
    assert _setting(url, "statement_timeout") == "12345ms"
    assert _setting(url, "plan_cache_mode") == "force_generic_plan"
