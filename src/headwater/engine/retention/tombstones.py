"""What a purged version's URI answers (no imports beyond the standard library: artifact
resolution and lineage reads use it)."""

from __future__ import annotations

import time


def describe(uri: str, purged_at: float, purged_by: str) -> str:
    """``hw://p/d/name@3 was purged on 2026-12-03 08:00:00Z by policy <p>; ...``"""
    when = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(purged_at))
    return (
        f"{uri} was purged on {when} by policy {purged_by}; its lineage is still recorded, "
        "its value is gone (query the artifact for a version that is kept)"
    )
