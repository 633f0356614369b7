"""Helpers shared by the ``bench_*.py`` scripts (this file is not a benchmark itself).

Every script prints a header naming the machine, then one line per figure. A figure with a
target reads ``label: value   target < X   PASS|MISS``; benchmarks never assert on time, the
exit status only says whether the script itself worked.

Every script also appends its figures to one machine-readable file (``record``):
``benchmarks/.out/results.jsonl``, or ``$HEADWATER_BENCH_RESULTS``. ``--quick`` on any
script's command line (``QUICK``) selects its small sizes (``make bench``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import importlib.util
import json
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
VENV_BIN = Path(sys.executable).parent  # the virtualenv running the benchmark

_results: list[tuple[str, bool]] = []

QUICK = "--quick" in sys.argv[1:]
"""``--quick``: the script's small sizes (``make bench``; ``make bench-full`` runs without)."""

RESULTS_ENV = "HEADWATER_BENCH_RESULTS"
DEFAULT_RESULTS = ROOT / "benchmarks" / ".out" / "results.jsonl"


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
    print(
        f"code:    headwater @ {measured_commit()}, {_dt.datetime.now().isoformat(timespec='seconds')}"
    )
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
    """The environment for child processes: no inherited HEADWATER_* or PYTHON* settings,
    except that ``PYTHONPATH`` names the source tree this process imports ``headwater`` from,
    so that children measure the same code (``make bench-compare`` points it at another
    commit's worktree)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEADWATER_", "PYTHON"))}
    env.update(extra)
    src = headwater_src()
    if src is not None:
        paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        env["PYTHONPATH"] = os.pathsep.join([*paths, str(src)])
    return env


# -- results file ------------------------------------------------------------------------------
def headwater_src() -> Path | None:
    """The folder ``import headwater`` resolves from (``src/`` of a checkout), without
    importing it."""
    spec = importlib.util.find_spec("headwater")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).resolve().parent.parent


def measured_commit() -> str:
    """The commit of the ``headwater`` code being measured (its checkout's ``HEAD``, with
    ``+dirty`` if its ``src/`` has uncommitted changes); ``unknown`` outside git."""
    src = headwater_src()
    where = str(src) if src is not None else str(ROOT)
    try:
        rev = subprocess.run(
            ["git", "-C", where, "rev-parse", "--short=10", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", where, "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{rev}{'+dirty' if dirty else ''}" if rev else "unknown"


def results_path() -> Path:
    """Where ``record`` appends: ``$HEADWATER_BENCH_RESULTS`` or benchmarks/.out/results.jsonl."""
    env = os.environ.get(RESULTS_ENV)
    return Path(env) if env else DEFAULT_RESULTS


_commit_cache: list[str] = []


def record(
    figure: str,
    value: float,
    unit: str,
    floor: float | None = None,
    *,
    benchmark: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Append one figure to the results file as a JSON line and return it.

    ``floor``: the same quantity measured for the bare floor the figure chases, in the same
    run and the same unit; ``ratio`` is then ``value / floor`` (for a rate such as events/s
    the share of the floor reached, below 1; for a latency or a duration how many times the
    floor it takes, above 1). ``benchmark`` defaults to the script's name."""
    if not _commit_cache:
        _commit_cache.append(measured_commit())
    try:
        load1: float | None = round(os.getloadavg()[0], 2)
    except OSError:
        load1 = None
    row: dict[str, Any] = {
        "benchmark": benchmark or Path(sys.argv[0]).stem,
        "figure": figure,
        "value": value,
        "unit": unit,
        "floor": floor,
        "ratio": (value / floor) if floor else None,
        "commit": _commit_cache[0],
        "load": load1,
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "quick": QUICK,
    }
    row.update(extra)
    path = results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(row, sort_keys=False) + "\n")
    return row


def fmt_value(value: float, unit: str) -> str:
    """A duration in seconds through ``fmt_time``, anything else as ``1,234 unit``."""
    if unit == "s":
        return fmt_time(value)
    return f"{value:,.0f} {unit}" if abs(value) >= 100 else f"{value:.3g} {unit}"


def floor_line(label: str, value: float, floor: float, unit: str, higher_is_better: bool) -> None:
    """Print a figure beside its floor: ``label: 1,234 events/s   floor 5,678 events/s
    ratio 0.22 (share of the floor reached)``."""
    how = "share of the floor reached" if higher_is_better else "times the floor"
    print(
        f"{label}: {fmt_value(value, unit)}   floor {fmt_value(floor, unit)}   "
        f"ratio {value / floor:.2f} ({how})",
        flush=True,
    )


def sql_floor(inst: Any, calls: Sequence[Any]) -> list[float] | None:
    """The floor of a read API call (SQLite only): the very SQL statements ``call()`` sends
    (captured with their values bound), replayed on the same connection with nothing else
    around them; seconds per call. None on PostgreSQL."""
    if inst.db.dialect != "sqlite":
        return None
    conn = inst.db.connection()
    captured = []
    for call in calls:
        seen: list[str] = []
        conn.set_trace_callback(seen.append)
        try:
            call()
        finally:
            conn.set_trace_callback(None)
        captured.append(seen)
    times = []
    for statements in captured:
        # Once untimed: the captured text has the values inlined, so each call's statements
        # are new to the connection's statement cache; the engine's are prepared already.
        for sql in statements:
            conn.execute(sql).fetchall()
        t0 = time.perf_counter()
        for sql in statements:
            conn.execute(sql).fetchall()
        times.append(time.perf_counter() - t0)
    return times


def record_with_floor(figure: str, times: Sequence[float], floor: Sequence[float] | None) -> None:
    """Record the median of ``times`` with the median of ``floor`` (if any) as its floor."""
    base = median(floor) if floor else None
    if base:
        floor_line(figure, median(times), base, "s", False)
    record(figure, median(times), "s", base)


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
