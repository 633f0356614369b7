"""One limit for every request body (``HEADWATER_MAX_REQUEST_BYTES``): 413 before the app reads
a body declared too large, and while it streams in when no size was declared."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from headwater.api import ApiConfig
from headwater.api.server import ApiServer
from headwater.errors import UserInputError
from headwater.instance import Instance
from tests._procs import free_port

from .conftest import count, error_of, instance, serve  # noqa: F401

LIMIT = 10_000


def artifact(size: int) -> dict[str, object]:
    return {"name": "table", "value": {"rows": "x" * size}}


def test_every_route_refuses_a_body_over_the_limit(instance: Instance) -> None:  # noqa: F811
    with serve(instance, ApiConfig(max_request_bytes=LIMIT)) as api:
        err = error_of(api.post("/api/v1/artifacts", json=artifact(50_000)), 413)
        assert err["type"] == "PayloadTooLarge"
        assert "HEADWATER_MAX_REQUEST_BYTES" in err["message"] and str(LIMIT) in err["message"]
        error_of(api.post("/api/v1/executions/nope/relaunch", json=artifact(50_000)), 413)
        error_of(api.post("/api/v1/registrations", json={"path": "x" * 50_000}), 413)
        assert api.post("/api/v1/artifacts", json=artifact(100)).status_code == 201
    assert count(instance, "artifact_versions") == 1


def test_a_streamed_body_is_cut_off_at_the_limit(instance: Instance) -> None:  # noqa: F811
    sent = []

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked
        yield b'{"name": "table", "value": "'
        for _ in range(1000):
            sent.append(1)
            yield b"x" * 1000
        yield b'"}'

    with serve(instance, ApiConfig(max_request_bytes=LIMIT)) as api:
        r = api.post(
            "/api/v1/artifacts", content=chunks(), headers={"content-type": "application/json"}
        )
        assert "over 10000 bytes" in error_of(r, 413)["message"]
        # Events keep their own, smaller limits and messages.
        big = {"name": "big", "payload": {"blob": "x" * 2000}}
        small = ApiConfig(max_event_bytes=1000, max_batch_bytes=5000, max_request_bytes=LIMIT)
    with serve(instance, small) as api:
        err = error_of(api.post("/api/v1/events", json=big), 413)
        assert "HEADWATER_MAX_EVENT_BYTES" in err["message"]
    assert len(sent) < 1000  # the app stopped reading: the rest was never pulled
    assert count(instance, "artifact_versions") == 0 and count(instance, "events") == 0


@pytest.fixture
def server(instance: Instance) -> Iterator[ApiServer]:  # noqa: F811
    api = ApiServer(instance, "127.0.0.1", free_port())
    api.start()
    try:
        yield api
    finally:
        api.stop()


def test_a_real_server_refuses_a_large_upload(
    instance: Instance,  # noqa: F811
    server: ApiServer,
) -> None:
    body = b'{"name": "table", "value": "' + b"x" * (17 * 1024 * 1024) + b'"}'

    def chunked() -> Iterator[bytes]:
        for i in range(0, len(body), 64 * 1024):
            yield body[i : i + 64 * 1024]

    answers = []
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for content in (body, chunked()):
            try:
                r = http.post(
                    "/api/v1/artifacts",
                    content=content,
                    headers={"content-type": "application/json"},
                )
            except httpx.HTTPError as exc:  # the server may close while the client still sends
                answers.append(type(exc).__name__)
            else:
                answers.append(error_of(r, 413)["type"])
        assert http.get("/healthz").status_code == 200
    assert answers == ["PayloadTooLarge", "PayloadTooLarge"]
    assert count(instance, "artifact_versions") == 0


def test_settings_from_the_environment() -> None:
    cfg = ApiConfig.from_env({})
    assert cfg.request_limit == cfg.max_batch_bytes == 16 * 1024 * 1024
    assert cfg.metrics_public is False
    cfg = ApiConfig.from_env({"HEADWATER_MAX_BATCH_BYTES": "32000000"})
    assert cfg.request_limit == 32_000_000  # the default follows the batch limit
    cfg = ApiConfig.from_env(
        {"HEADWATER_MAX_REQUEST_BYTES": "4096", "HEADWATER_METRICS_PUBLIC": "1"}
    )
    assert cfg.request_limit == 4096 and cfg.metrics_public is True
    assert ApiConfig(max_batch_bytes=5000).request_limit == 5000
    with pytest.raises(UserInputError, match="HEADWATER_MAX_REQUEST_BYTES"):
        ApiConfig.from_env({"HEADWATER_MAX_REQUEST_BYTES": "lots"})
    with pytest.raises(UserInputError, match="HEADWATER_METRICS_PUBLIC"):
        ApiConfig.from_env({"HEADWATER_METRICS_PUBLIC": "maybe"})


def test_events_obey_a_request_limit_below_their_own(instance: Instance) -> None:  # noqa: F811
    """``POST /api/v1/events`` is answered in front of the app's middleware
    (``fastpath.App``): the request limit still applies to it, declared or streamed."""
    batch = [{"name": "big", "id": f"e{i}", "payload": {"blob": "x" * 500}} for i in range(40)]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked
        for i in range(0, 40_000, 1000):
            yield json.dumps(batch).encode()[i : i + 1000]

    cfg = ApiConfig(max_event_bytes=100_000, max_batch_bytes=1_000_000, max_request_bytes=LIMIT)
    with serve(instance, cfg) as api:
        declared = error_of(api.post("/api/v1/events", json=batch), 413)
        streamed = error_of(
            api.post(
                "/api/v1/events", content=chunks(), headers={"content-type": "application/json"}
            ),
            413,
        )
        for err in (declared, streamed):
            assert err["type"] == "PayloadTooLarge"
            assert "HEADWATER_MAX_REQUEST_BYTES" in err["message"] and str(LIMIT) in err["message"]
        assert api.post("/api/v1/events", json=batch[:5]).status_code == 202
    assert count(instance, "events") == 5
