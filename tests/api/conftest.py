"""The API under test: an app over the `instance` fixture (SQLite and PostgreSQL), called
in-process through httpx's ASGI transport, and CloudEvents built by the official SDK."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from cloudevents.core.bindings import http as ce_http
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from headwater.api import ApiConfig, create_app
from headwater.instance import Instance

from ..engine.conftest import count, instance, stored  # noqa: F401  (fixtures and helpers)

SECRETS = {"https://signed.example": "s3cret"}


class Api:
    """A synchronous client of an app, in this process (what TestClient does, minus its
    deprecation warning)."""

    def __init__(self, portal: BlockingPortal, client: httpx.AsyncClient) -> None:
        self.portal, self.client = portal, client

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.portal.call(lambda: self.client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)


@contextmanager
def serve(inst: Instance, config: ApiConfig | None = None) -> Iterator[Api]:
    app = create_app(inst, config=config or ApiConfig(webhook_secrets=dict(SECRETS)))
    with start_blocking_portal() as portal:
        transport = httpx.ASGITransport(app=app)
        client = httpx.AsyncClient(transport=transport, base_url="http://headwater.test")
        try:
            yield Api(portal, client)
        finally:
            portal.call(client.aclose)
            # A token's last use is written by a background thread: let it finish before
            # the caller closes the instance under it.
            app.state.gate.last_used.flush()


@pytest.fixture
def api(instance: Instance) -> Iterator[Api]:  # noqa: F811
    with serve(instance) as client:
        yield client


# -- CloudEvents, built by the official SDK ---------------------------------------------
def cloud_event(type_: str, data: dict | None, **attrs: Any) -> CloudEvent:
    return CloudEvent({"type": type_, "source": attrs.pop("source", "/tests"), **attrs}, data)


def structured(event: CloudEvent) -> dict[str, Any]:
    msg = ce_http.to_structured(event, JSONFormat())
    return {"headers": msg.headers, "content": msg.body}


def binary(event: CloudEvent) -> dict[str, Any]:
    msg = ce_http.to_binary(event, JSONFormat())
    headers = dict(msg.headers)
    headers.setdefault("content-type", "application/json")
    return {"headers": headers, "content": msg.body}


def batch(events: list[CloudEvent]) -> dict[str, Any]:
    """A CloudEvents JSON batch (the SDK 2.x has no batch helper: an array of the JSON
    event format, as the spec defines it)."""
    fmt = JSONFormat()
    body = "[" + ",".join(fmt.write(e).decode() for e in events) + "]"
    return {
        "headers": {"content-type": "application/cloudevents-batch+json"},
        "content": body.encode(),
    }


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert the status and the error body shape; return the error."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["type"], str) and body["error"]["message"], body
    return dict(body["error"])


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def registration(module: str, **options: Any) -> dict[str, Any]:
    """The body of ``POST /api/v1/registrations`` for a module of this checkout: its code
    snapshot, uploaded (what ``headwater register`` sends in client mode)."""
    import importlib

    from headwater.engine.register.uploads import prepare_upload

    # The server imports it in a child process only; the in-process workers of these tests
    # reuse the test process's own import of the same files (as before uploads).
    importlib.import_module(module)
    return {**prepare_upload(module), **options}
