"""Launch plan specs in words, as the list and detail pages show them."""

from __future__ import annotations

from typing import Any

from headwater.engine.kinds import summary


def trigger_in_words(trigger: dict[str, Any]) -> str:
    """One trigger spec in a few words, with its filter (``event x where env = prod``)."""
    words = summary(trigger)
    if isinstance(trigger.get("filter"), dict) and trigger["filter"]:
        words += " where " + ", ".join(f"{k} = {v}" for k, v in trigger["filter"].items())
    return words


def in_words(spec: dict[str, Any]) -> str:
    """What starts a launch plan version: its triggers and schedule in words."""
    parts = [trigger_in_words(t) for t in spec.get("triggers", [])]
    if spec.get("schedule"):
        parts.append(summary(spec["schedule"]))
    return ", ".join(parts) or "no trigger (runs when launched)"


_in_words = in_words  # the name other UI modules imported from ui/routes.py
