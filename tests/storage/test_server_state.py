"""storage/server_state.py on both backends: a flag is set once, read back, and lifted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from headwater.storage import server_state
from headwater.storage.db import Database
from headwater.storage.migrate import ensure_schema
from headwater.storage.server_state import ServerStateRow
from tests import _schema


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(_schema.at_head(database_url))  # tests/_schema.py
    ensure_schema(database)
    yield database
    database.close()


def test_the_first_value_stays_until_the_key_is_deleted(db: Database) -> None:
    with db.transaction() as tx:
        assert server_state.get(tx, key="flag") is None
        assert server_state.put_if_absent(tx, key="flag", value='{"a": 1}', now=5.5)
        assert not server_state.put_if_absent(tx, key="flag", value="later", now=9.0)
        assert server_state.put_if_absent(tx, key="other", value="x", now=1.0)
    with db.read() as tx:
        row = server_state.get(tx, key="flag")
    assert row == ServerStateRow(key="flag", value='{"a": 1}', updated_at=5.5)
    with db.transaction() as tx:
        assert server_state.delete(tx, key="flag")
        assert not server_state.delete(tx, key="flag")
        assert server_state.get(tx, key="flag") is None
        other = server_state.get(tx, key="other")
    assert other is not None and other.value == "x"
    with db.transaction() as tx:  # set again after a delete: the new value
        assert server_state.put_if_absent(tx, key="flag", value="again", now=7.0)
        again = server_state.get(tx, key="flag")
    assert again is not None and (again.value, again.updated_at) == ("again", 7.0)
