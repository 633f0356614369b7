"""Invariant 1: a change and its event commit together, or neither does."""

from __future__ import annotations

import threading

import pytest

import headwater
from headwater import Artifact
from headwater.engine.publish import artifacts

from . import pipelines as p
from .conftest import stored


def test_version_is_not_kept_when_its_event_cannot_be_written(instance, monkeypatch):
    headwater.run(p.plain_wf, x=1)
    before = stored(instance)

    def broken(*args, **kwargs):
        raise RuntimeError("event log unavailable")

    monkeypatch.setattr(artifacts, "insert_event", broken)
    with pytest.raises(RuntimeError, match="event log unavailable"):
        headwater.create_artifact(p.Plain, 5)
    assert stored(instance) == before
    assert headwater.get_artifact(p.Plain.query()).version == "1"


def test_concurrent_publishers_get_distinct_consecutive_versions(instance):
    Shared = Artifact(name="shared")
    errors: list[BaseException] = []

    def publish(n: int) -> None:
        try:
            with instance.use():
                for i in range(10):
                    headwater.create_artifact(Shared, n * 100 + i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    versions = sorted(int(v.version) for v in headwater.search_artifacts(name="shared"))
    assert versions == list(range(1, 41))
    events = headwater.list_events(name="headwater.artifact.created", limit=1000)
    assert len([e for e in events if e.payload["artifact"] == "shared"]) == 40
