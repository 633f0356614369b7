"""Tasks that fail a given number of times before succeeding (counted in a file)."""

from __future__ import annotations

from pathlib import Path

import headwater
from headwater import task, workflow


def _bump(counter: str) -> int:
    path = Path(counter)
    n = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(n))
    return n


@task(retries=3, retry_delay=0.05, retry_backoff=2.0)
def flaky(counter: str, failures: int) -> int:
    n = _bump(counter)
    if n <= failures:
        raise ValueError(f"boom {n}")
    return n


@workflow
def flaky_wf(counter: str, failures: int = 2) -> int:
    return flaky(counter=counter, failures=failures)


@workflow
def flaky_map_wf(counter: str, failures: int = 2) -> list[int]:
    return headwater.map(flaky, [{"counter": counter, "failures": failures}])
