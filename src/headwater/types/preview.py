"""Short human-readable text for values: used by literal previews and error messages."""

from __future__ import annotations

import reprlib
from typing import Any

PREVIEW_LIMIT = 200

_repr = reprlib.Repr()
_repr.maxstring = PREVIEW_LIMIT
_repr.maxother = PREVIEW_LIMIT
_repr.maxlist = _repr.maxtuple = _repr.maxset = _repr.maxfrozenset = _repr.maxdict = 12
_repr.maxlevel = 4


def clip(text: str, limit: int = PREVIEW_LIMIT) -> str:
    """``text`` cut to at most ``limit`` characters, marked with '...' when cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def short_repr(value: Any, limit: int = PREVIEW_LIMIT) -> str:
    """A repr of at most ``limit`` characters that never raises."""
    if type(value) in (int, bool) or value is None:
        return repr(value)
    try:
        text = _repr.repr(value)
    except Exception:
        text = f"<{type(value).__name__} object>"
    return clip(text, limit)


def human_size(n: int) -> str:
    """``12 B``, ``1.2 KB``, ``3.4 MB``."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def columns_text(names: list[str], head: str) -> str:
    """``head [a, b, c]``, the column list cut to keep the whole under the limit."""
    shown: list[str] = []
    room = PREVIEW_LIMIT - len(head) - 8
    for name in names:
        room -= len(name) + 2
        if room < 0:
            shown.append("...")
            break
        shown.append(name)
    return clip(f"{head} [{', '.join(shown)}]")
