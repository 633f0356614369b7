"""storage/cards.py: the cards of a version, read in the order they were given."""

from __future__ import annotations

import pytest

from headwater.storage import cards
from headwater.storage.cards import CardRow

from ._versions import add_cards, add_version, migrated


@pytest.fixture
def db(database_url):
    yield from migrated(database_url)


def test_cards_read_back_in_the_order_given(db):
    given = [
        {"kind": "model", "text": "# Model\nAUC 0.91"},
        {"kind": "data", "text": "rows: 10"},
        {"kind": "model", "text": "second model card"},
    ]
    with db.transaction() as tx:
        vid = add_version(tx)
        other = add_version(tx)
        add_cards(tx, vid, given)
        add_cards(tx, other, [{"kind": "data", "text": "other"}])
    with db.read() as tx:
        found = cards.list_cards(tx, vid)
        theirs = cards.list_cards(tx, other)
    assert all(isinstance(c, CardRow) for c in found)
    assert [(c.kind, c.text) for c in found] == [(g["kind"], g["text"]) for g in given]
    assert theirs == [CardRow(kind="data", text="other")]


def test_no_cards_and_a_missing_version_read_as_empty(db):
    with db.transaction() as tx:
        vid = add_version(tx)
        add_cards(tx, vid, [])
    with db.read() as tx:
        assert cards.list_cards(tx, vid) == []
        assert cards.list_cards(tx, vid + 1000) == []
