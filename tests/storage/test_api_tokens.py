"""storage/api_tokens.py on both backends: lookups by hash, id and name, revocation."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import psycopg
import pytest

from headwater.storage import api_tokens
from headwater.storage.api_tokens import ApiTokenRow
from headwater.storage.db import Database
from headwater.storage.migrate import ensure_schema
from tests import _schema


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(_schema.at_head(database_url))  # tests/_schema.py
    ensure_schema(database)
    yield database
    database.close()


def add(db: Database, name: str, token_hash: str, now: float = 10.0) -> int:
    with db.transaction() as tx:
        return api_tokens.insert_token(
            tx,
            name=name,
            token_hash=token_hash,
            prefix="hw_abc",
            project="*",
            role="admin",
            now=now,
        )


def test_a_token_is_read_back_by_hash_and_id_as_a_typed_row(db: Database) -> None:
    token_id = add(db, "ci", "h1", now=10.5)
    assert add(db, "ci", "h2") > token_id
    with db.read() as tx:
        by_hash = api_tokens.by_hash(tx, token_hash="h1")
        by_id = api_tokens.by_id(tx, token_id=token_id)
        assert api_tokens.by_hash(tx, token_hash="nope") is None
        assert api_tokens.by_id(tx, token_id=token_id + 100) is None
    assert (
        by_hash
        == by_id
        == ApiTokenRow(
            id=token_id,
            name="ci",
            token_hash="h1",
            prefix="hw_abc",
            project="*",
            role="admin",
            created_at=10.5,
            revoked_at=None,
            last_used_at=None,
        )
    )


def test_a_hash_is_unique(db: Database) -> None:
    add(db, "a", "same")
    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        add(db, "b", "same")
    with db.read() as tx:
        assert [t.name for t in api_tokens.list_tokens(tx)] == ["a"]


def test_revoked_tokens_leave_active_listings_and_keep_their_first_revocation(
    db: Database,
) -> None:
    first, second, other = add(db, "ci", "h1"), add(db, "ci", "h2"), add(db, "dev", "h3")
    with db.transaction() as tx:
        assert api_tokens.count_active(tx) == 3
        api_tokens.revoke(tx, token_id=first, now=20.0)
        api_tokens.revoke(tx, token_id=first, now=30.0)  # already revoked: unchanged
        api_tokens.touch(tx, token_id=second, now=25.0)
    with db.read() as tx:
        assert api_tokens.count_active(tx) == 2
        assert [t.id for t in api_tokens.active_names(tx, name="ci")] == [second]
        assert api_tokens.active_names(tx, name="nobody") == []
        assert [t.id for t in api_tokens.list_tokens(tx)] == [first, second, other]
        live = api_tokens.list_tokens(tx, include_revoked=False)
        revoked = api_tokens.by_id(tx, token_id=first)
        touched = api_tokens.by_id(tx, token_id=second)
    assert [t.id for t in live] == [second, other]
    assert revoked is not None and revoked.revoked_at == 20.0 and revoked.last_used_at is None
    assert touched is not None and touched.last_used_at == 25.0 and touched.revoked_at is None
