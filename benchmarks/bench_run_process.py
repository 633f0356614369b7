"""Whole-process ``headwater run FILE NAME`` of a one-task workflow. Target: < 0.5 s (median).

The embedded instance (SQLite + local blobs) lives in a fresh ``HEADWATER_HOME`` in a temp
dir. The first run creates and migrates the database and is reported apart (warm-up); the
figure held against the target is the median of the next runs. For reference, the same number
of fresh interpreters running ``pass``, ``import headwater`` and ``import headwater.cli``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

RUNS = 10
TARGET_S = 0.5
if c.QUICK:  # make bench
    RUNS = 5

WORKFLOW = """\
from headwater import task, workflow


@task
def inc(x: int) -> int:
    return x + 1


@workflow
def one(x: int = 1) -> int:
    return inc(x=x)
"""


def cli_command(code: Path) -> tuple[list[str], str]:
    """The command to time, and how it was run (the console script, or the fallback)."""
    script = c.VENV_BIN / "headwater"
    if script.exists():
        probe = subprocess.run(
            [str(script), "run", "--help"], capture_output=True, text=True, env=c.clean_env()
        )
        if probe.returncode == 0:
            return [str(script), "run", "one.py", "one"], f"{script} run one.py one"
    fallback = "import headwater, one; ex = headwater.run(one.one); print(ex.status.value)"
    return (
        [sys.executable, "-c", fallback],
        f"FALLBACK (no working `headwater` console script): python -c {fallback!r}",
    )


def main() -> None:
    c.install_signal_handlers()
    c.header(
        "bench_run_process",
        f"`headwater run FILE NAME`, one-task workflow, embedded "
        f"instance, median of {RUNS} after 1 warm-up run",
    )
    with c.temp_dir("hw-bench-proc-") as tmp:
        code = tmp / "code"
        code.mkdir()
        (code / "one.py").write_text(WORKFLOW)
        env = c.clean_env(HEADWATER_HOME=str(tmp / "home"), PYTHONPATH=str(code))
        argv, how = cli_command(code)
        print(f"command: {how}\n")

        def once() -> tuple[float, float]:
            wall, cpu, proc = c.run_timed(argv, cwd=code, env=env, capture_output=True, text=True)
            if proc.returncode != 0 or "succeeded" not in proc.stdout:
                raise RuntimeError(
                    f"run failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
                )
            return wall, cpu

        first, _ = once()
        c.figure("first run (creates + migrates the database, excluded)", c.fmt_time(first))
        walls, cpus = zip(*(once() for _ in range(RUNS)), strict=True)
        c.figure("headwater run, wall", c.spread(walls))
        c.figure("headwater run, CPU (user+sys)", c.spread(cpus))
        kind = "python -c fallback" if how.startswith("FALLBACK") else "whole process"
        c.target(f"headwater run ({kind}, median of {RUNS})", c.median(walls), TARGET_S)

        print("\nreference (fresh interpreters, same environment):")
        for label, snippet in (
            ("python -c pass", "pass"),
            ("python -c 'import headwater'", "import headwater"),
            ("python -c 'import headwater.cli'", "import headwater.cli"),
        ):
            c.run_timed([sys.executable, "-c", snippet], cwd=code, env=env, check=True)
            ref = [
                c.run_timed([sys.executable, "-c", snippet], cwd=code, env=env, check=True)[0]
                for _ in range(RUNS)
            ]
            c.figure(
                f"  {label}",
                f"{c.spread(ref)}; headwater run = {c.median(walls) / c.median(ref):.1f}x this",
            )
            if snippet == "pass":  # the floor: a fresh interpreter doing nothing
                c.record(
                    "headwater run one.py one, whole process", c.median(walls), "s", c.median(ref)
                )
    c.summary()


if __name__ == "__main__":
    main()
