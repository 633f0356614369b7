"""The benchmarks' results file: one JSON line per figure, with the fields compare.py reads."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ._load import BENCHMARKS, bench_module

FIELDS = {"benchmark", "figure", "value", "unit", "floor", "ratio", "commit", "load", "date"}


def test_a_quick_benchmark_appends_its_figures(tmp_path: Path) -> None:
    results = tmp_path / "results.jsonl"
    results.write_text('{"earlier": "line"}\n')  # appended to, never overwritten
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env["HEADWATER_BENCH_RESULTS"] = str(results)
    src = Path(bench_module("_common").headwater_src() or "")
    env["PYTHONPATH"] = str(src)
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_types.py"), "--quick"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = results.read_text().splitlines()
    assert lines[0] == '{"earlier": "line"}'
    rows = [json.loads(line) for line in lines[1:]]
    assert [r["figure"] for r in rows] == [
        "encode(42, int) per call, best round",
        "check(list[int] of 100) per call, best round",
    ]
    for row in rows:
        assert set(row) >= FIELDS
        assert row["benchmark"] == "bench_types"
        assert row["unit"] == "s"
        assert isinstance(row["value"], float) and row["value"] > 0
        assert row["floor"] is None and row["ratio"] is None
        assert row["quick"] is True
        assert row["commit"] and row["commit"] != "unknown"
        assert row["load"] is None or isinstance(row["load"], float)
        assert dt.datetime.fromisoformat(row["date"]).tzinfo is not None


def test_a_figure_with_a_floor_records_the_ratio(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = bench_module("_common")
    results = tmp_path / "sub" / "results.jsonl"
    monkeypatch.setenv(c.RESULTS_ENV, str(results))
    c.record("events accepted", 1500.0, "events/s", 6000.0, benchmark="bench_x")
    c.record("latency p50", 0.004, "s", 0.0005, benchmark="bench_x")
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert [(r["benchmark"], r["figure"], r["floor"]) for r in rows] == [
        ("bench_x", "events accepted", 6000.0),
        ("bench_x", "latency p50", 0.0005),
    ]
    assert rows[0]["ratio"] == pytest.approx(0.25)
    assert rows[1]["ratio"] == pytest.approx(8.0)


def test_without_the_variable_results_go_to_benchmarks_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    c = bench_module("_common")
    monkeypatch.delenv(c.RESULTS_ENV, raising=False)
    assert c.results_path() == BENCHMARKS / ".out" / "results.jsonl"


def test_child_processes_import_the_same_headwater(monkeypatch: pytest.MonkeyPatch) -> None:
    c = bench_module("_common")
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = c.clean_env(PYTHONPATH="/some/code")
    paths = env["PYTHONPATH"].split(os.pathsep)
    assert paths[0] == "/some/code"
    assert paths[-1] == str(c.headwater_src())
    assert "PYTHONDONTWRITEBYTECODE" not in env
