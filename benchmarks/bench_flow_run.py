"""Whole-process ``python flow.py run`` of a two-step FlowSpec flow. Target: < 0.6 s (median).

The embedded instance (SQLite + local blobs) lives in a fresh ``HEADWATER_HOME`` in a temp
dir. The first run creates and migrates the database and is reported apart (warm-up); the
figure held against the target is the median of the next runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

RUNS = 10
TARGET_S = 0.6
if c.QUICK:  # make bench
    RUNS = 5

FLOW = """\
from headwater.flows import FlowSpec, Parameter, step


class TwoStep(FlowSpec):
    x = Parameter("x", default=1)

    @step
    def start(self):
        self.y = self.x + 1
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TwoStep()
"""


def main() -> None:
    c.install_signal_handlers()
    c.header(
        "bench_flow_run",
        f"`python flow.py run`, two-step FlowSpec flow, embedded "
        f"instance, median of {RUNS} after 1 warm-up run",
    )
    with c.temp_dir("hw-bench-flow-") as tmp:
        code = tmp / "code"
        code.mkdir()
        (code / "two_step.py").write_text(FLOW)
        env = c.clean_env(HEADWATER_HOME=str(tmp / "home"))
        argv = [sys.executable, "two_step.py", "run"]

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
        c.figure("python flow.py run, wall", c.spread(walls))
        c.figure("python flow.py run, CPU (user+sys)", c.spread(cpus))
        c.target(f"python flow.py run (whole process, median of {RUNS})", c.median(walls), TARGET_S)
        c.record("python flow.py run, whole process", c.median(walls), "s")
    c.summary()


if __name__ == "__main__":
    main()
