"""Contract of storage/launch_plans.py: registered launch plan versions."""

from __future__ import annotations

import json

import pytest

from headwater.storage import launch_plans as lp_rows
from headwater.storage.launch_plan_state import set_active
from headwater.storage.launch_plans import LaunchPlanRow

from ._reactive_db import add_plan, migrated


@pytest.fixture
def db(database_url):
    yield from migrated(database_url)


def test_a_version_is_inserted_once(db):
    with db.transaction() as tx:
        first = add_plan(tx, "nightly", "v1", spec={"b": 1, "a": [2]}, now=5.0)
        again = add_plan(tx, "nightly", "v1", spec={"ignored": True}, now=6.0)
        other = add_plan(tx, "nightly", "v2")
        row = lp_rows.get_launch_plan(tx, first)
    assert first == again
    assert other != first
    assert row == LaunchPlanRow(
        id=first,
        project="p",
        domain="d",
        name="nightly",
        version="v1",
        workflow="mod.wf",
        workflow_version="w1",
        spec='{"a": [2], "b": 1}',
        created_at=5.0,
    )
    assert json.loads(row.spec) == {"a": [2], "b": 1}


def test_missing_versions_are_none(db):
    with db.read() as tx:
        assert lp_rows.get_launch_plan(tx, 12345) is None
        assert lp_rows.find_version(tx, "p", "d", "nope", None) is None
        assert lp_rows.find_version(tx, "p", "d", "nope", "v1") is None
        assert lp_rows.max_id(tx) is None
        assert lp_rows.active_launch_plans(tx) == []
        assert lp_rows.current_versions(tx) == []
        assert lp_rows.list_launch_plans(tx) == []


def test_find_version_by_name_newest_or_exact(db):
    with db.transaction() as tx:
        v1 = add_plan(tx, "a", "v1")
        v2 = add_plan(tx, "a", "v2")
        add_plan(tx, "a", "v3", project="elsewhere")
    with db.read() as tx:
        newest = lp_rows.find_version(tx, "p", "d", "a", None)
        exact = lp_rows.find_version(tx, "p", "d", "a", "v1")
        assert newest is not None and newest.id == v2
        assert exact is not None and exact.id == v1
        assert lp_rows.max_id(tx) == max(v1, v2) + 1


def test_active_and_current_versions(db):
    with db.transaction() as tx:
        a1 = add_plan(tx, "a", "v1")
        add_plan(tx, "a", "v2")  # newer, but v1 is the active one
        b1 = add_plan(tx, "b", "v1")
        b2 = add_plan(tx, "b", "v2")  # b: deactivated, so its newest version
        c1 = add_plan(tx, "c", "v1")  # c: never (de)activated
        set_active(tx, "p", "d", "a", a1, 1.0)
        set_active(tx, "p", "d", "b", b1, 1.0)
        set_active(tx, "p", "d", "b", None, 2.0)
    with db.read() as tx:
        assert [r.id for r in lp_rows.active_launch_plans(tx)] == [a1]
        current = lp_rows.current_versions(tx)
    assert sorted(r.id for r in current) == sorted([a1, b2, c1])
    assert current[-1].id == c1  # names never (de)activated come last
    assert all(isinstance(r, LaunchPlanRow) for r in current)


def test_list_marks_the_active_version_and_filters(db):
    with db.transaction() as tx:
        a1 = add_plan(tx, "a", "v1")
        a2 = add_plan(tx, "a", "v2")
        b1 = add_plan(tx, "b", "v1", domain="other")
        set_active(tx, "p", "d", "a", a1, 1.0)
    with db.read() as tx:
        listed = lp_rows.list_launch_plans(tx)
        only_d = lp_rows.list_launch_plans(tx, domain="d")
        none = lp_rows.list_launch_plans(tx, project="x")
    assert [(r.plan.id, r.active) for r in listed] == [(a2, False), (a1, True), (b1, False)]
    assert [r.plan.id for r in only_d] == [a2, a1]
    assert none == []


def test_plan_names_page_with_counts_and_the_active_version(db):
    with db.transaction() as tx:
        a1 = add_plan(tx, "alpha", "v1")
        a2 = add_plan(tx, "alpha", "v2")
        b1 = add_plan(tx, "beta", "v1")
        q1 = add_plan(tx, "alpha", "v1", project="q")
        set_active(tx, "p", "d", "alpha", a1, 1.0)
        set_active(tx, "p", "d", "beta", None, 1.0)
    with db.read() as tx:
        every = lp_rows.plan_names(tx, projects=None, limit=10, offset=0)
        mine = lp_rows.plan_names(tx, projects=["p"], limit=10, offset=0)
        second = lp_rows.plan_names(tx, projects=["p"], limit=1, offset=1)
        nothing = lp_rows.plan_names(tx, projects=[], limit=10, offset=0)
        shown = lp_rows.get_launch_plans(tx, [b1, a2, 999_999])
        empty = lp_rows.get_launch_plans(tx, [])
    assert [(r.project, r.name, r.versions, r.newest_id, r.active_id) for r in every] == [
        ("p", "alpha", 2, a2, a1),
        ("p", "beta", 1, b1, None),
        ("q", "alpha", 1, q1, None),
    ]
    assert [r.name for r in mine] == ["alpha", "beta"]
    assert [r.name for r in second] == ["beta"]
    assert nothing == []
    assert [r.id for r in shown] == [a2, b1]
    assert empty == []


def test_versions_of_one_name_newest_first_with_the_active_one(db):
    with db.transaction() as tx:
        v1 = add_plan(tx, "alpha", "v1")
        v2 = add_plan(tx, "alpha", "v2")
        add_plan(tx, "alpha", "v3", project="q")
        set_active(tx, "p", "d", "alpha", v1, 1.0)
    with db.read() as tx:
        found = lp_rows.versions_of(tx, "p", "d", "alpha")
        none = lp_rows.versions_of(tx, "p", "d", "missing")
    assert [(r.plan.id, r.plan.version, r.active) for r in found] == [
        (v2, "v2", False),
        (v1, "v1", True),
    ]
    assert none == []


def test_registry_stamp_changes_with_each_registration_and_activation(db):
    with db.read() as tx:
        assert lp_rows.registry_stamp(tx) == (None, None)
    with db.transaction() as tx:
        v1 = add_plan(tx, "a", "v1")
        added = lp_rows.registry_stamp(tx)
        set_active(tx, "p", "d", "a", v1, 42.0)
        activated = lp_rows.registry_stamp(tx)
    assert added == (None, v1)
    assert activated == (42.0, v1)
