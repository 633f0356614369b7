"""Single-event POSTs commit on the server's event loop; the SQLite write-ahead log they fill
is still copied into the database file (checkpointed), by a thread instead of the loop."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from headwater.api import checkpoints
from headwater.instance import Instance

from .._procs import wait_for
from .conftest import serve


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Instance]:  # SQLite only: its write-ahead log
    inst = Instance.ephemeral(tmp_path)
    yield inst
    inst.close()


def test_events_posted_on_the_loop_reach_the_database_file(
    instance: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoints, "EVERY", 10)
    file = instance.db.path
    with serve(instance) as api:
        r = api.post("/api/v1/events", json={"name": "a.b", "id": "first"})
        assert r.status_code == 202, r.text
        # SQLite itself would checkpoint only past 1,000 WAL pages; these few commits stay
        # in the log unless the server's own checkpoint copies them.
        size = file.stat().st_size
        for i in range(25):
            r = api.post("/api/v1/events", json={"name": "a.b", "id": f"e{i}"})
            assert r.status_code == 202, r.text
        wait_for(lambda: file.stat().st_size > size, "a checkpoint into the database file")
    with instance.db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM events") == 26


@pytest.mark.parametrize("held", [0.0005, 0.2])  # shorter and longer than the loop retries
def test_an_event_posted_while_another_writer_holds_the_lock_is_stored_before_its_202(
    instance: Instance, held: float
) -> None:
    with serve(instance) as api:
        assert api.post("/api/v1/events", json={"name": "a.b", "id": "warm"}).status_code == 202
        other = sqlite3.connect(instance.db.path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(api.post, "/api/v1/events", json={"name": "a.b", "id": "x"})
            time.sleep(held)
            other.execute("ROLLBACK")
            r = answer.result(timeout=30)
        other.close()
        assert r.status_code == 202 and r.json()["ids"] == ["x"], r.text
    with instance.db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM events WHERE id = 'x'") == 1
