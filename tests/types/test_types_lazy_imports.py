"""The type engine stays cheap to import: heavy libraries load only when a value needs them.

How fast encoding and checking are is measured by benchmarks/bench_types.py, not asserted here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("pandas", "pyarrow", "numpy", "cloudpickle", "pydantic", "fsspec", "polars")
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
