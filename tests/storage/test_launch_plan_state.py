"""Contract of storage/launch_plan_state.py: which version of a name is active."""

from __future__ import annotations

import pytest

from headwater.storage import launch_plan_state as state
from headwater.storage.launch_plan_state import LaunchPlanStateRow

from ._reactive_db import add_plan, migrated


@pytest.fixture
def db(database_url):
    yield from migrated(database_url)


def test_nothing_is_active_at_first(db):
    with db.read() as tx:
        assert state.active_id(tx, "p", "d", "a") is None
        assert state.get_state(tx, "p", "d", "a") is None
        assert state.is_active(tx, 1) is False
        assert state.state_version(tx) is None


def test_activating_one_version_deactivates_the_other(db):
    with db.transaction() as tx:
        v1 = add_plan(tx, "a", "v1")
        v2 = add_plan(tx, "a", "v2")
        state.set_active(tx, "p", "d", "a", v1, 10.0)
    with db.transaction() as tx:
        assert state.active_id(tx, "p", "d", "a") == v1
        assert state.is_active(tx, v1) and not state.is_active(tx, v2)
        state.set_active(tx, "p", "d", "a", v2, 20.0)
    with db.read() as tx:
        assert state.active_id(tx, "p", "d", "a") == v2
        assert state.is_active(tx, v2) and not state.is_active(tx, v1)
        assert state.get_state(tx, "p", "d", "a") == LaunchPlanStateRow("p", "d", "a", v2, 20.0)
        assert state.state_version(tx) == 20.0


def test_deactivating_keeps_the_row_without_a_version(db):
    with db.transaction() as tx:
        v1 = add_plan(tx, "a", "v1")
        state.set_active(tx, "p", "d", "a", v1, 10.0)
        state.set_active(tx, "p", "d", "a", None, 30.0)
    with db.read() as tx:
        assert state.active_id(tx, "p", "d", "a") is None
        assert state.is_active(tx, v1) is False
        assert state.get_state(tx, "p", "d", "a") == LaunchPlanStateRow("p", "d", "a", None, 30.0)
        assert state.state_version(tx) == 30.0


def test_names_are_scoped_by_project_and_domain(db):
    with db.transaction() as tx:
        here = add_plan(tx, "a", "v1")
        there = add_plan(tx, "a", "v1", domain="other")
        state.set_active(tx, "p", "d", "a", here, 1.0)
        state.set_active(tx, "p", "other", "a", there, 1.0)
    with db.read() as tx:
        assert state.active_id(tx, "p", "d", "a") == here
        assert state.active_id(tx, "p", "other", "a") == there
