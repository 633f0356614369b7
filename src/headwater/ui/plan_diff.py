"""What changed between two versions of a launch plan, in words: triggers, schedule, inputs
(default, fixed and queried), the workflow version, concurrency and the rest of the spec,
plus the spec's unified diff for anything the words leave out."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any

from headwater.engine.kinds import summary
from headwater.ui.words import trigger_in_words

NONE = "(none)"


@dataclass(frozen=True)
class Change:
    """One difference: what changed, its value before and after (``NONE`` when absent)."""

    what: str
    before: str
    after: str


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _literal(value: Any) -> str:
    """A stored input literal as the user wrote it (its preview), else its JSON."""
    if isinstance(value, dict) and "preview" in value:
        return str(value["preview"])
    return _compact(value)


def _trigger(t: dict[str, Any]) -> str:
    words = trigger_in_words(t)
    bound = t.get("parameters") or {}
    if bound:
        words += " (inputs: " + ", ".join(f"{k} <- {v}" for k, v in sorted(bound.items())) + ")"
    return words


def _triggers(old: list[Any], new: list[Any]) -> list[Change]:
    out = []
    for i in range(max(len(old), len(new))):
        a = _trigger(old[i]) if i < len(old) else NONE
        b = _trigger(new[i]) if i < len(new) else NONE
        if a == b and i < len(old) and i < len(new) and old[i] != new[i]:
            a, b = _compact(old[i]), _compact(new[i])  # a difference the words do not show
        if a != b:
            out.append(Change(f"trigger {i + 1}", a, b))
    return out


def _inputs(label: str, old: dict[str, Any], new: dict[str, Any], show: Any) -> list[Change]:
    out = []
    for name in sorted(set(old) | set(new)):
        a = show(old[name]) if name in old else NONE
        b = show(new[name]) if name in new else NONE
        if a == b and old.get(name) != new.get(name):
            a, b = _compact(old.get(name)), _compact(new.get(name))
        if a != b:
            out.append(Change(f"{label} {name}", a, b))
    return out


_COVERED = {
    "triggers",
    "schedule",
    "default_inputs",
    "fixed_inputs",
    "query_inputs",
    "concurrency",
}


def changes(
    old_spec: dict[str, Any],
    new_spec: dict[str, Any],
    old_workflow_version: str = "",
    new_workflow_version: str = "",
) -> list[Change]:
    """The differences from ``old_spec`` to ``new_spec`` (empty: none), most telling first."""
    out = _triggers(old_spec.get("triggers") or [], new_spec.get("triggers") or [])
    old_s, new_s = old_spec.get("schedule"), new_spec.get("schedule")
    if old_s != new_s:
        out.append(
            Change(
                "schedule",
                summary(old_s) if old_s else NONE,
                summary(new_s) if new_s else NONE,
            )
        )
    for key, label, show in (
        ("default_inputs", "default input", _literal),
        ("fixed_inputs", "fixed input", _literal),
        ("query_inputs", "query input", _compact),
    ):
        out += _inputs(label, old_spec.get(key) or {}, new_spec.get(key) or {}, show)
    if old_workflow_version != new_workflow_version:
        out.append(Change("workflow version", old_workflow_version[:12], new_workflow_version[:12]))
    if old_spec.get("concurrency") != new_spec.get("concurrency"):
        out.append(
            Change(
                "concurrency",
                _compact(old_spec.get("concurrency")),
                _compact(new_spec.get("concurrency")),
            )
        )
    for key in sorted((set(old_spec) | set(new_spec)) - _COVERED):
        if old_spec.get(key) != new_spec.get(key):
            a = _compact(old_spec[key]) if key in old_spec else NONE
            b = _compact(new_spec[key]) if key in new_spec else NONE
            out.append(Change(key.replace("_", " "), a, b))
    return out


def unified(old_spec: dict[str, Any], new_spec: dict[str, Any], old: str, new: str) -> str:
    """The unified diff of the two specs as indented JSON (empty when they are equal)."""
    a = json.dumps(old_spec, indent=2, sort_keys=True, default=str).splitlines()
    b = json.dumps(new_spec, indent=2, sort_keys=True, default=str).splitlines()
    return "\n".join(difflib.unified_diff(a, b, old, new, lineterm=""))
