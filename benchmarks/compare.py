"""Compare two commits on the quick benchmarks, in one run: ``make bench-compare A=<c> B=<c>``.

``python benchmarks/compare.py A B [--rounds N] [--bench bench_x.py ...]`` checks both commits
out into temporary worktrees (``git worktree add --detach`` under the temp folder, removed
afterwards), then runs the quick benchmarks alternately, A B A B ... (N rounds, default 2), so
that a drift of the machine's speed during the run hits both sides alike. Each side's figures
go to its own results file; the table prints, per figure, the median of A's values, the median
of B's, and B / A (for a rate above 1 is faster, for a duration below 1 is faster), plus each
side's median ratio to its floor where the figure has one. Every row is also appended to
``benchmarks/.out/results.jsonl`` (or ``$HEADWATER_BENCH_RESULTS``).

The benchmark scripts are always the CURRENT checkout's: an old commit may have no
``--quick`` or results file. Only the measured code comes from the commit: each script runs
with ``PYTHONPATH=<worktree>/src``, which ``import headwater`` (and every child process the
scripts start, see ``_common.clean_env``) then resolves first. A script whose API use the old
commit lacks fails for that side and is reported; the others go on.

``python benchmarks/compare.py --table A.jsonl B.jsonl`` prints the table of two results files
made earlier.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS_ENV = "HEADWATER_BENCH_RESULTS"

Key = tuple[str, str]  # (benchmark, figure)


def read_results(path: Path) -> list[dict[str, Any]]:
    """The rows of a results file (JSON lines); blank lines skipped, a broken line named."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise SystemExit(f"{path}:{n}: not a JSON line ({exc}); fix or delete that line")
    return rows


def summarise(rows: Iterable[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    """Per (benchmark, figure): the median value, the unit, the median ratio to the floor
    (None without a floor) and how many values there were."""
    values: dict[Key, list[float]] = {}
    ratios: dict[Key, list[float]] = {}
    units: dict[Key, str] = {}
    for row in rows:
        key = (str(row["benchmark"]), str(row["figure"]))
        values.setdefault(key, []).append(float(row["value"]))
        units[key] = str(row.get("unit", ""))
        if row.get("ratio") is not None:
            ratios.setdefault(key, []).append(float(row["ratio"]))
    return {
        key: {
            "median": statistics.median(xs),
            "unit": units[key],
            "ratio": statistics.median(ratios[key]) if key in ratios else None,
            "n": len(xs),
        }
        for key, xs in values.items()
    }


def _num(x: float | None, unit: str = "") -> str:
    """``2,000``, ``0.5``; a duration in seconds as ``4.20 ms`` / ``310 us``."""
    if x is None:
        return "—"
    if unit == "s" and abs(x) < 1:
        ms = x * 1000
        return f"{ms:.3g} ms" if ms >= 1 else f"{ms * 1000:.3g} us"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def table(a_rows: Sequence[dict[str, Any]], b_rows: Sequence[dict[str, Any]]) -> str:
    """A Markdown table: benchmark, figure, unit, A median, B median, B/A, each side's median
    ratio to its floor. Figures present on one side only show "—" for the other."""
    a, b = summarise(a_rows), summarise(b_rows)
    lines = [
        "| benchmark | figure | unit | A (median) | B (median) | B/A | A/floor | B/floor |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key in sorted(set(a) | set(b)):
        sa, sb = a.get(key), b.get(key)
        unit = (sa or sb or {}).get("unit", "")
        va = sa["median"] if sa else None
        vb = sb["median"] if sb else None
        ba = f"{vb / va:.2f}" if va and vb is not None else "—"
        lines.append(
            f"| {key[0]} | {key[1]} | {unit} | {_num(va, unit)} | {_num(vb, unit)} | {ba} | "
            f"{_num(sa['ratio']) if sa else '—'} | {_num(sb['ratio']) if sb else '—'} |"
        )
    return "\n".join(lines)


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def scripts(picked: Sequence[str]) -> list[Path]:
    if not picked:
        return sorted(HERE.glob("bench_*.py"))
    out = []
    for name in picked:
        path = HERE / Path(name).name
        if not path.exists():
            raise SystemExit(f"BENCH={name}: no such script in {HERE}; pick one of bench_*.py")
        out.append(path)
    return out


def run_side(script: Path, src: Path, results: Path) -> bool:
    """One quick run of ``script`` against the code in ``src``; True if it worked."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env["PYTHONPATH"] = str(src)
    env[RESULTS_ENV] = str(results)
    proc = subprocess.run([sys.executable, str(script), "--quick"], env=env, cwd=str(ROOT))
    return proc.returncode == 0


def compare(a: str, b: str, rounds: int, picked: Sequence[str]) -> int:
    sha = {
        side: _git("rev-parse", "--verify", f"{ref}^{{commit}}")
        for side, ref in (("A", a), ("B", b))
    }
    todo = scripts(picked)
    tmp = Path(tempfile.mkdtemp(prefix="hw-bench-compare-"))
    trees: dict[str, Path] = {}
    failed: list[str] = []
    try:
        for side in ("A", "B"):
            trees[side] = tmp / side
            _git("worktree", "add", "--detach", "-q", str(trees[side]), sha[side])
        for rnd in range(1, rounds + 1):
            for script in todo:
                for side in ("A", "B"):
                    print(f"\n===== round {rnd}/{rounds}, {side} = {sha[side][:10]}: {script.name}")
                    if not run_side(script, trees[side] / "src", tmp / f"{side}.jsonl"):
                        failed.append(f"{script.name} on {side} (round {rnd})")
        rows = {
            side: read_results(tmp / f"{side}.jsonl") if (tmp / f"{side}.jsonl").exists() else []
            for side in ("A", "B")
        }
        keep = Path(os.environ.get(RESULTS_ENV) or HERE / ".out" / "results.jsonl")
        keep.parent.mkdir(parents=True, exist_ok=True)
        with keep.open("a", encoding="utf-8") as out:
            for side in ("A", "B"):
                for row in rows[side]:
                    out.write(json.dumps({**row, "compare": side}) + "\n")
        print(f"\nA = {a} ({sha['A'][:10]}), B = {b} ({sha['B'][:10]}), {rounds} round(s)")
        print(table(rows["A"], rows["B"]))
        if failed:
            print(f"\nFAILED runs (no figures from them): {'; '.join(failed)}")
        return 1 if failed else 0
    finally:
        for tree in trees.values():
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                capture_output=True,
            )
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("a", help="commit A (the baseline), or with --table a results file")
    parser.add_argument("b", help="commit B, or with --table a results file")
    parser.add_argument("--rounds", type=int, default=2, help="A B rounds (default 2)")
    parser.add_argument("--bench", action="append", default=[], help="only this script")
    parser.add_argument("--table", action="store_true", help="a and b are results files")
    args = parser.parse_args(argv)
    if args.table:
        print(table(read_results(Path(args.a)), read_results(Path(args.b))))
        return 0
    if args.rounds < 1:
        raise SystemExit(f"--rounds {args.rounds}: give 1 or more")
    return compare(args.a, args.b, args.rounds, args.bench)


if __name__ == "__main__":
    raise SystemExit(main())
