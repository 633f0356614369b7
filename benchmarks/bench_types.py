"""The type engine's own cost: ``encode`` of a scalar and ``check`` of a 100-element list.

Targets (best per-call time over 5 rounds, a blob store that does nothing so only the engine is
measured): ``encode(42, int)`` < 50 us, ``check(list(range(100)), list[int])`` < 100 us.
These figures were asserted by tests/types/test_types_speed.py until timing left the tests.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

ROUNDS = 5
ENCODE_TARGET_S = 50e-6
CHECK_TARGET_S = 100e-6


class NullStore:
    """Stands in for the blob store so only the engine's own cost is measured."""

    url = "memory://"

    def put_bytes(self, data: bytes) -> str:
        return "sha256/00/" + "0" * 62


def per_call(fn: Callable[[], object], n: int, rounds: int = ROUNDS) -> list[float]:
    """Seconds per call of each round of ``n`` calls."""
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        out.append((time.perf_counter() - start) / n)
    return out


def main() -> None:
    c.install_signal_handlers()
    c.header("bench_types", f"type engine: encode a scalar, check a list; best of {ROUNDS} rounds")
    from headwater.types import check, encode

    store = NullStore()
    literal = encode(42, int, store)  # type: ignore[arg-type]
    c.check(literal.get("value") == 42, f"encode(42, int) gave {literal!r}")
    values = list(range(100))

    encode_times = per_call(lambda: encode(42, int, store), n=2000)  # type: ignore[arg-type]
    c.figure("encode(42, int) per call", c.spread(encode_times))
    c.target("encode(42, int) (best round)", min(encode_times), ENCODE_TARGET_S)
    c.record("encode(42, int) per call, best round", min(encode_times), "s")

    check_times = per_call(lambda: check(values, list[int], "input 'xs'"), n=500)
    c.figure("check(list[int] of 100) per call", c.spread(check_times))
    c.target("check(list[int] of 100) (best round)", min(check_times), CHECK_TARGET_S)
    c.record("check(list[int] of 100) per call, best round", min(check_times), "s")

    if c.want_profile():
        c.profile("encode(42, int)", lambda: encode(42, int, store), 2000)  # type: ignore[arg-type]
        c.profile("check(list[int] of 100)", lambda: check(values, list[int], "input 'xs'"), 500)
    c.summary()


if __name__ == "__main__":
    main()
