"""The type engine stays cheap: lazy heavy imports, fast scalar encoding."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from headwater.types import check, encode

HEAVY = ("pandas", "pyarrow", "numpy", "cloudpickle", "pydantic", "fsspec")
SRC = Path(__file__).resolve().parents[2] / "src"


def test_import_loads_no_heavy_library() -> None:
    code = f"import sys, headwater.types\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(SRC), "PATH": ""},
    )
    assert out.stdout.strip() == ""


def test_scalar_json_does_not_import_heavy_libraries_either() -> None:
    code = (
        "import sys, tempfile, datetime\n"
        "from headwater.storage.blobs import BlobStore\n"
        "from headwater.types import encode, decode\n"
        "b = BlobStore(tempfile.mkdtemp())\n"
        "for v, t in [(1, int), ([1.5], list[float]), (datetime.date(2024, 1, 1), None)]:\n"
        "    lit = encode(v, t, b)\n"
        "    decode(lit, t, b)\n"
        f"print(','.join(m for m in {HEAVY[:3] + HEAVY[4:]!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(SRC), "PATH": ""},
    )
    assert out.stdout.strip() == ""


class _NullStore:
    """Stands in for the blob store so only the engine's own cost is measured."""

    url = "memory://"

    def put_bytes(self, data: bytes) -> str:
        return "sha256/00/" + "0" * 62


def _best_per_call(fn: object, n: int = 2000, rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            fn()  # type: ignore[operator]
        best = min(best, (time.perf_counter() - start) / n)
    return best


def test_encoding_an_int_is_fast() -> None:
    store = _NullStore()
    per_call = _best_per_call(lambda: encode(42, int, store))  # type: ignore[arg-type]
    assert per_call < 50e-6, f"encode(int) took {per_call * 1e6:.1f} us"


def test_checking_is_fast() -> None:
    values = list(range(100))
    per_call = _best_per_call(lambda: check(values, list[int], "input 'xs'"), n=500)
    assert per_call < 100e-6, f"check(list[int] of 100) took {per_call * 1e6:.1f} us"
