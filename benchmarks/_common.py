"""Helpers shared by the ``bench_*.py`` scripts (this file is not a benchmark itself).

Every script prints a header naming the machine, then one line per figure. A figure with a
target reads ``label: value   target < X   PASS|MISS``; benchmarks never assert on time, the
exit status only says whether the script itself worked.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
VENV_BIN = ROOT / ".venv" / "bin"

_results: list[tuple[str, bool]] = []


# -- output ------------------------------------------------------------------------------------
def fmt_time(seconds: float) -> str:
    """``92 ms``, ``1.42 ms``, ``310 us``, ``0.42 s`` (three significant figures or so)."""
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    ms = seconds * 1000
    if ms >= 100:
        return f"{ms:.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    if ms >= 1:
        return f"{ms:.2f} ms"
    return f"{ms * 1000:.0f} us"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_rev() -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{rev}{' + uncommitted changes in src/' if dirty else ''}" if rev else "unknown"


def header(title: str, about: str = "") -> None:
    """The script's name, what it measures, and the machine it runs on."""
    nproc = os.cpu_count()
    try:
        usable: int | None = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = nproc
    print(f"### {title}")
    if about:
        print(about)
    print(
        f"machine: nproc={usable} (cpu_count={nproc}), {_cpu_model()}, "
        f"{platform.system()} {platform.release()}"
    )
    print(
        f"python:  {platform.python_implementation()} {platform.python_version()} "
        f"({sys.executable})"
    )
    print(f"code:    headwater @ {_git_rev()}, {_dt.datetime.now().isoformat(timespec='seconds')}")
    print(
        f"load:    {load()} (1/5/15 min; above nproc means other work competes for the CPUs "
        "and the figures are inflated)"
    )
    print()


def load() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def target(label: str, seconds: float, limit: float, extra: str = "") -> bool:
    """Print a measured figure next to its target, with PASS or MISS."""
    ok = seconds < limit
    _results.append((label, ok))
    tail = f"   ({extra})" if extra else ""
    print(
        f"{label}: {fmt_time(seconds):>9}   target < {fmt_time(limit)}   "
        f"{'PASS' if ok else 'MISS'}{tail}",
        flush=True,
    )
    return ok


def figure(label: str, text: str) -> None:
    """Print a figure that has no target."""
    print(f"{label}: {text}", flush=True)


def summary() -> None:
    if not _results:
        return
    missed = [label for label, ok in _results if not ok]
    print()
    print(
        f"targets: {len(_results) - len(missed)} PASS, {len(missed)} MISS"
        + (f" ({'; '.join(missed)})" if missed else ""),
        flush=True,
    )


def run_timed(
    argv: list[str], **kwargs: Any
) -> tuple[float, float, subprocess.CompletedProcess[Any]]:
    """Run a child process to completion: (wall seconds, its user+sys CPU seconds, result)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, **kwargs)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc


def check(ok: bool, message: str) -> None:
    """A correctness check of the benchmark's own data (works under ``python -O`` too)."""
    if not ok:
        raise AssertionError(message)


# -- statistics --------------------------------------------------------------------------------
def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def percentile(xs: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    s = sorted(xs)
    k = max(0, min(len(s) - 1, -(-len(s) * p // 100) - 1))
    return s[int(k)]


def spread(xs: Sequence[float]) -> str:
    """``median 1.2 ms, p90 1.5 ms, min 1.0 ms, max 3.1 ms (n=200)``."""
    return (
        f"median {fmt_time(median(xs))}, p90 {fmt_time(percentile(xs, 90))}, "
        f"min {fmt_time(min(xs))}, max {fmt_time(max(xs))} (n={len(xs)})"
    )


# -- lifetime ----------------------------------------------------------------------------------
def install_signal_handlers() -> None:
    """SIGTERM/SIGHUP exit through the normal path, so ``finally`` blocks clean up."""

    def _exit(signum: int, _frame: Any) -> None:
        print(f"\ninterrupted by signal {signum}: cleaning up", file=sys.stderr, flush=True)
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):
            signal.signal(sig, _exit)


@contextlib.contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for child processes: no inherited HEADWATER_* or PYTHON* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEADWATER_", "PYTHON"))}
    env.update(extra)
    return env


# -- PostgreSQL --------------------------------------------------------------------------------
class Postgres:
    """A PostgreSQL server for one script: ``$HEADWATER_TEST_POSTGRES_URL`` if set, else a
    throwaway cluster started with tests/_pg.py. ``database()`` makes a fresh database."""

    def __init__(self) -> None:
        if str(TESTS) not in sys.path:
            sys.path.insert(0, str(TESTS))
        import _pg

        self._pg = _pg
        url = os.environ.get("HEADWATER_TEST_POSTGRES_URL")
        self.cluster = _pg.external_cluster(url) if url else _pg.start_cluster()
        self._created: list[str] = []

    def database(self, prefix: str = "hwbench") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        url = self._pg.create_database(self.cluster, name)
        self._created.append(name)
        return url

    def version(self, url: str) -> str:
        import psycopg

        with psycopg.connect(self._pg.libpq_url(url)) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"

    def libpq_url(self, url: str) -> str:
        return self._pg.libpq_url(url)

    def close(self) -> None:
        try:
            if self.cluster.external:
                for name in self._created:
                    with contextlib.suppress(Exception):
                        self._pg.drop_database(self.cluster, name)
        finally:
            self.cluster.stop()


@contextlib.contextmanager
def postgres() -> Iterator[Postgres | None]:
    """A server, or None (with the reason printed) when PostgreSQL is not available."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    import _pg

    try:
        server = Postgres()
    except _pg.PostgresUnavailable as exc:
        first = str(exc).splitlines()[0]
        print(f"PostgreSQL: SKIPPED, not available ({first})", flush=True)
        yield None
        return
    try:
        yield server
    finally:
        server.close()


# -- profiling ---------------------------------------------------------------------------------
def want_profile() -> bool:
    """``--profile`` on the command line: profile the measured loops after timing them."""
    return "--profile" in sys.argv[1:]


def profile(label: str, fn: Any, repeat: int, top: int = 18) -> None:
    """Run ``fn`` ``repeat`` times under cProfile; print the top functions by own time."""
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for _ in range(repeat):
        fn()
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).strip_dirs().sort_stats("tottime").print_stats(top)
    print(f"\n--- profile: {label}, {repeat} calls, sorted by own time (tottime) ---")
    lines = out.getvalue().splitlines()
    start = next((i for i, ln in enumerate(lines) if "ncalls" in ln), 0)
    print("\n".join(ln for ln in lines[start - 2 if start >= 2 else 0 :] if ln.strip()))
