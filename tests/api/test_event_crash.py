"""An unexpected failure while answering ``POST /api/v1/events`` (answered in front of the
router, ``api/fastpath.py``) gets the server-error handler's 500, logged, as any route's."""

from __future__ import annotations

import logging

import httpx
import pytest
from anyio.from_thread import start_blocking_portal

from headwater.api import create_app
from headwater.api.routes import events
from headwater.instance import Instance

from .conftest import count, instance  # noqa: F401


def test_a_crash_is_answered_500_and_logged(
    instance: Instance,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def crash(request: object, who: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(events, "accept", crash)

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(instance), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://hw.test") as client:
            return await client.post("/api/v1/events", json={"name": "x", "id": "e1"})

    with caplog.at_level(logging.ERROR, logger="headwater.api"):
        with start_blocking_portal() as portal:
            r = portal.call(post)
    assert r.status_code == 500
    assert r.json()["error"]["type"] == "InternalError"
    assert "RuntimeError" in r.json()["error"]["message"]
    assert any("POST /api/v1/events crashed" in m for m in caplog.messages)
    assert count(instance, "events") == 0
