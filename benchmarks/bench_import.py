"""``import headwater`` in a fresh interpreter. Target: < 150 ms (median).

Measured two ways, N fresh interpreters each:
  * wall clock of ``python -c "import headwater"`` minus ``python -c pass`` (interleaved pairs,
    median of the per-pair differences) -- the figure held against the target;
  * ``python -X importtime``'s own cumulative time for the ``headwater`` package, and the
    modules that cost the most, as a hint of where the time goes.
"pyc" files are compiled by the warm-up runs, so this is a cold *interpreter*, warm disk cache.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

RUNS = 21
WARMUP = 2
if c.QUICK:  # make bench
    RUNS = 7
TARGET_S = 0.150
HEAVY = (
    "sqlalchemy",
    "alembic",
    "pyarrow",
    "pandas",
    "numpy",
    "pydantic",
    "rich",
    "click",
    "fsspec",
    "cloudpickle",
    "psycopg",
    "sqlite3",
    "headwater.engine.execute.runner",
    "headwater.storage.db",
    "headwater.types.engine",
)


def timed(code: str, cwd: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of a fresh ``python -c code``."""
    wall, cpu, _ = c.run_timed(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=c.clean_env(),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return wall, cpu


def importtime(module: str, cwd: Path) -> list[tuple[int, int, str]]:
    """(self us, cumulative us, name) for every module ``import module`` loads."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        cwd=cwd,
        env=c.clean_env(),
        check=True,
        capture_output=True,
        text=True,
    )
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cum_us, name = line[len("import time:") :].split("|")
        rows.append((int(self_us), int(cum_us), name.rstrip()))
    return rows


def installed(module: str, cwd: Path) -> bool:
    code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=c.clean_env()).returncode == 0


def measure(module: str, runs: int, cwd: Path) -> tuple[list[float], list[float], list[float]]:
    """Per-pair (import - pass) differences of wall and of CPU time, and bare ``pass`` walls."""
    for _ in range(WARMUP):
        timed(f"import {module}", cwd)
        timed("pass", cwd)
    diffs, cpu_diffs, bare = [], [], []
    for _ in range(runs):
        base, base_cpu = timed("pass", cwd)
        full, full_cpu = timed(f"import {module}", cwd)
        bare.append(base)
        diffs.append(full - base)
        cpu_diffs.append(full_cpu - base_cpu)
    return diffs, cpu_diffs, bare


def main() -> None:
    c.install_signal_handlers()
    c.header("bench_import", f"import headwater in a fresh interpreter, {RUNS} runs")
    with c.temp_dir("hw-bench-import-") as cwd:
        diffs, cpu_diffs, bare = measure("headwater", RUNS, cwd)
        c.figure("python -c pass (reference)", c.spread(bare))
        c.figure("import headwater, wall minus pass", c.spread(diffs))
        c.figure("import headwater, CPU (user+sys) minus pass", c.spread(cpu_diffs))
        c.target(f"import headwater (cold, median of {RUNS})", c.median(diffs), TARGET_S)
        # The figure is already net of the floor (`python -c pass`), recorded beside it.
        c.record(
            "import headwater, wall minus python -c pass", c.median(diffs), "s", c.median(bare)
        )

        cumulative = []
        last: list[tuple[int, int, str]] = []
        for _ in range(RUNS):
            last = importtime("headwater", cwd)
            cumulative.append(
                next(cum for _, cum, name in last if name.strip() == "headwater") / 1e6
            )
        c.figure("import headwater, -X importtime cumulative", c.spread(cumulative))

        startup = {name.strip() for _, _, name in importtime("sys", cwd)}
        own = [r for r in last if r[2].strip() not in startup]
        print("\nslowest modules that `import headwater` adds (self time, last -X importtime run):")
        for self_us, cum_us, name in sorted(own, reverse=True)[:10]:
            print(
                f"  {self_us / 1000:7.1f} ms self  {cum_us / 1000:7.1f} ms cumulative  "
                f"{name.strip()}"
            )
        loaded = subprocess.run(
            [sys.executable, "-c", "import sys, headwater; print(' '.join(sorted(sys.modules)))"],
            cwd=cwd,
            env=c.clean_env(),
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        heavy = [m for m in HEAVY if m in loaded]
        print(
            f"\nmodules loaded by `import headwater`: {len(loaded)} in sys.modules; heavy ones "
            f"loaded: {', '.join(heavy) if heavy else 'none'}"
        )

        print("\nfor comparison (only if already installed; this script installs nothing):")
        for other in ("prefect", "dagster"):
            if not installed(other, cwd):
                c.figure(f"  import {other}", "not installed, skipped")
                continue
            odiffs, _, _ = measure(other, 5, cwd)
            ratio = c.median(odiffs) / c.median(diffs)
            c.figure(
                f"  import {other} (median of 5)",
                f"{c.fmt_time(c.median(odiffs))} = {ratio:.1f}x headwater",
            )
    c.summary()


if __name__ == "__main__":
    main()
