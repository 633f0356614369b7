"""``headwater.flows`` exports one sorted __all__, pinned here like the root's."""

from __future__ import annotations

import headwater.flows

EXPECTED = [
    "CaughtException",
    "DataArtifacts",
    "DeployContext",
    "Event",
    "Flow",
    "FlowSpec",
    "FlowTrigger",
    "Parameter",
    "Run",
    "Step",
    "catch",
    "current",
    "deploy",
    "namespaced_event_name",
    "project",
    "queue",
    "resume",
    "retry",
    "run",
    "schedule",
    "step",
    "timeout",
    "trigger",
    "trigger_on_finish",
]


def test_all_is_pinned_and_sorted():
    assert headwater.flows.__all__ == EXPECTED
    assert sorted(EXPECTED, key=lambda n: (n[0].islower(), n)) == EXPECTED


def test_every_public_name_resolves_and_has_a_docstring():
    for name in headwater.flows.__all__:
        obj = getattr(headwater.flows, name)
        assert obj is not None, name
        if callable(obj):
            assert (obj.__doc__ or "").strip(), f"{name} has no docstring"


def test_nothing_public_is_left_out():
    public = {
        n
        for n, v in vars(headwater.flows).items()
        if not n.startswith("_") and not isinstance(v, type(headwater.flows))
    }
    assert public == set(EXPECTED)
