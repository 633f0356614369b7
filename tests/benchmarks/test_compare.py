"""compare.py's table: medians per figure of two results files and their ratio B / A."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ._load import bench_module


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n")
    return path


def row(figure: str, value: float, unit: str = "events/s", **more: Any) -> dict[str, Any]:
    return {"benchmark": "bench_r", "figure": figure, "value": value, "unit": unit, **more}


def cells(table: str, figure: str) -> list[str]:
    line = next(ln for ln in table.splitlines() if f"| {figure} |" in ln)
    return [c.strip() for c in line.strip("|").split("|")]


def test_medians_and_ratio_per_figure(tmp_path: Path) -> None:
    compare = bench_module("compare")
    a = write(
        tmp_path / "a.jsonl",
        [
            row("rate", 1000, floor=4000, ratio=0.25),
            row("rate", 3000, floor=4000, ratio=0.75),
            row("rate", 2000, floor=4000, ratio=0.5),
            row("p50", 0.004, "s"),
            row("only in A", 1.0),
        ],
    )
    b = write(
        tmp_path / "b.jsonl",
        [row("rate", 5000, floor=5000, ratio=1.0), row("p50", 0.002, "s"), row("only in B", 7)],
    )
    table = compare.table(compare.read_results(a), compare.read_results(b))
    assert cells(table, "rate") == [
        "bench_r",
        "rate",
        "events/s",
        "2,000",
        "5,000",
        "2.50",
        "0.5",
        "1",
    ]
    assert cells(table, "p50") == ["bench_r", "p50", "s", "4 ms", "2 ms", "0.50", "—", "—"]
    assert cells(table, "only in A")[3:6] == ["1", "—", "—"]
    assert cells(table, "only in B")[3:6] == ["—", "7", "—"]


def test_table_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    compare = bench_module("compare")
    a = write(tmp_path / "a.jsonl", [row("rate", 100)])
    b = write(tmp_path / "b.jsonl", [row("rate", 150)])
    assert compare.main(["--table", str(a), str(b)]) == 0
    assert cells(capsys.readouterr().out, "rate")[5] == "1.50"


def test_a_broken_line_is_named(tmp_path: Path) -> None:
    compare = bench_module("compare")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(row("rate", 1)) + "\n{not json\n")
    with pytest.raises(SystemExit, match=r"bad.jsonl:2: not a JSON line"):
        compare.read_results(bad)


def test_an_unknown_script_is_refused() -> None:
    compare = bench_module("compare")
    with pytest.raises(SystemExit, match=r"BENCH=bench_nope\.py: no such script"):
        compare.scripts(["bench_nope.py"])
