"""Fixtures of the OpenLineage export tests: an instance with export on, a local HTTP
receiver, and offline validation against the OpenLineage JSON schemas."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from headwater.instance import Instance
from headwater.settings import Settings
from tests import _schema

SCHEMAS = Path(__file__).with_name("schemas")  # copied from the OpenLineage spec (2-0-2)
PACKAGE_SCHEMAS = (
    Path(__file__).resolve().parents[2] / "src/headwater/integrations/openlineage/schemas"
)
RUN_EVENT = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


def _registry() -> Registry:
    resources = []
    for path in sorted(SCHEMAS.glob("*.json")) + sorted(PACKAGE_SCHEMAS.glob("*.json")):
        contents = json.loads(path.read_text())
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)


REGISTRY = _registry()


def _check(instance: Any, ref: str) -> None:
    validator = Draft202012Validator(
        {"$ref": ref}, registry=REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, f"{ref}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def validate_event(event: dict[str, Any]) -> None:
    """The event is a valid RunEvent and each facet valid against its own ``_schemaURL``
    (resolved offline: an unknown schema fails)."""
    _check(event, RUN_EVENT)
    facet_maps = [event["run"].get("facets", {}), event["job"].get("facets", {})]
    for ds in event.get("inputs", []) + event.get("outputs", []):
        facet_maps += [ds.get("facets", {}), ds.get("inputFacets", {}), ds.get("outputFacets", {})]
    for facets in facet_maps:
        for facet in facets.values():
            _check(facet, facet["_schemaURL"])


class Receiver:
    """A local OpenLineage endpoint: POST /api/v1/lineage bodies are kept in ``events``.
    ``stop()`` then ``start()`` brings it back on the same port."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.port = 0
        self._server: HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        events = self.events

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path.rstrip("/") == "/api/v1/lineage":
                    events.append(json.loads(body))
                    self.send_response(201)
                else:
                    self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = HTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join()
            self._server = None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.start()
    yield r
    r.stop()


@pytest.fixture
def exporting(
    database_url: str, tmp_path: Path, receiver: Receiver, monkeypatch
) -> Iterator[Instance]:
    """An instance whose runs are recorded for export to ``receiver``."""
    monkeypatch.setenv("HEADWATER_OPENLINEAGE_URL", receiver.url)
    for name in ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG", "HEADWATER_OPENLINEAGE"):
        monkeypatch.delenv(name, raising=False)
    _schema.at_head(database_url)  # a copy of a migrated database (tests/_schema.py)
    settings = Settings.from_env({}, home=tmp_path / "home", database_url=database_url)
    inst = Instance(settings)
    with inst.use():
        yield inst
    inst.close()
