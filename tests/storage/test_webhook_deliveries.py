"""Contract of storage/webhook_deliveries.py: a delivery id is accepted once per sender."""

from __future__ import annotations

import time

import pytest

from headwater.storage.webhook_deliveries import remember_delivery

from ._reactive_db import migrated

KEEP = 600.0


@pytest.fixture
def db(database_url):
    yield from migrated(database_url)


def test_a_delivery_is_remembered_once_per_sender(db):
    now = time.time()
    with db.transaction() as tx:
        assert remember_delivery(tx, "sender-a", "msg-1", now, KEEP) is True
    with db.transaction() as tx:
        assert remember_delivery(tx, "sender-a", "msg-1", now, KEEP) is False
        assert remember_delivery(tx, "sender-b", "msg-1", now, KEEP) is True
        assert remember_delivery(tx, "sender-a", "msg-2", now, KEEP) is True


def test_old_deliveries_are_forgotten(db):
    old = time.time() - 2 * KEEP
    with db.transaction() as tx:
        assert remember_delivery(tx, "s", "msg-1", old, KEEP) is True
    with db.transaction() as tx:
        # forgotten before the insert: a replay this old is refused by its timestamp instead
        assert remember_delivery(tx, "s", "msg-1", old, KEEP) is True


def test_a_rolled_back_delivery_is_not_remembered(db):
    now = time.time()
    with pytest.raises(RuntimeError), db.transaction() as tx:
        remember_delivery(tx, "s", "msg-1", now, KEEP)
        raise RuntimeError("storing the events failed")
    with db.transaction() as tx:
        assert remember_delivery(tx, "s", "msg-1", now, KEEP) is True
