"""``get_artifact(A.query(region=v))`` with 1,000,000 versions of A across 1,000 regions.

Target: < 5 ms median over random lookups, on SQLite and on PostgreSQL. The same target is
held against the unpartitioned "latest" query ``get_artifact(A.query())``; an exact-version
URI lookup is printed without one.

Setup: an ``Instance`` creates the schema (migrations) and publishes version 1 through the
engine (``create_artifact``), which gives the real ``artifacts`` row and a template row. The
other 999,999 versions are the rows the engine would write for ``create_artifact(A, i,
region=...)`` (``artifact_versions`` with partition_key/partitions/value literal, and
``artifact_partitions``), bulk-loaded (SQLite executemany in one transaction, PostgreSQL COPY;
secondary indexes dropped during the load and recreated from their own definitions), then
ANALYZE. Not loaded: the ``artifact.created`` events (nothing here reads them) and the value
blobs (a lookup does not read the value). Every timed lookup is checked against the expected
answer (the highest version id of that region).

Then 99 other small artifacts are published through the engine and ANALYZE runs again, and the
lookups are measured once more: with a single artifact in the table the planner's statistics
are different (a realistic catalogue has many). A kind of lookup stops early (after 12 s, 4 s
for latest, at least 3 samples) if it is pathologically slow. ``--profile`` adds cProfile output.

Floor (SQLite): the SQL statements each measured lookup sent (captured with their values
bound), replayed on the same connection without the engine around them; ratio = lookup /
replay (how many times the bare SQL). ``--quick`` (``make bench``): 20,000 versions, 200
regions, 20 other artifacts, fewer lookups.
"""

from __future__ import annotations

import gc
import json
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c
from _bulk import int_literal

VERSIONS = 1_000_000
REGIONS = 1_000
LOOKUPS = 500
LATEST_LOOKUPS = 200
WARMUP = 30
BUDGET_S = 12.0  # per kind of lookup: a pathologically slow query gets fewer samples
OTHER_ARTIFACTS = 99
OTHER_VERSIONS = 3
TARGET_S = 0.005
SEED = 20261122
BATCH = 100_000
if c.QUICK:  # make bench: the same measurements on a smaller table
    VERSIONS, REGIONS, LOOKUPS, LATEST_LOOKUPS, WARMUP = 20_000, 200, 100, 50, 10
    BUDGET_S, OTHER_ARTIFACTS = 3.0, 20


def region_name(i: int) -> str:
    return f"site-{i:04d}"


def populate(url: str, assign: list[int], literals: list[str]) -> tuple[Any, float]:
    """Schema + version 1 via the engine, the rest bulk-loaded. Returns (Artifact, seconds)."""
    from _bulk import BulkLoader, RowShape, same_as_engine

    import headwater
    from headwater import Artifact
    from headwater.definitions.names import partition_key_text
    from headwater.instance import Instance
    from headwater.settings import Settings

    A = Artifact(name="sales_by_region", partition_keys=["region"])
    t0 = time.perf_counter()
    with c.temp_dir("hw-bench-aq-home-") as home:
        inst = Instance(Settings.from_env({}, home=home, database_url=url))
        try:
            with inst.use():
                first = headwater.create_artifact(A, 1, region=region_name(assign[1]))
            with inst.db.read() as tx:
                v_template = dict(
                    tx.one("SELECT * FROM artifact_versions WHERE id = :i", {"i": first.id})
                )
                p_template = dict(
                    tx.one(
                        "SELECT * FROM artifact_partitions WHERE version_id = :i", {"i": first.id}
                    )
                )
        finally:
            inst.close()
    c.check(first.id == 1 and first.version == "1", f"first version is {first!r}")

    names = [region_name(r) for r in range(REGIONS)]
    pkeys = [partition_key_text({"region": name}) for name in names]
    parts = [json.dumps({"region": name}, sort_keys=True) for name in names]
    base_time = v_template["created_at"] - VERSIONS * 0.001
    vshape = RowShape(
        v_template, ("id", "version", "partition_key", "partitions", "value", "created_at")
    )
    pshape = RowShape(p_template, ("version_id", "value"))

    def versions(lo: int, hi: int) -> Iterator[tuple[Any, ...]]:
        for i in range(lo, hi):
            r = assign[i]
            yield vshape.row(i, str(i), pkeys[r], parts[r], literals[i], base_time + i * 0.001)

    def partitions(lo: int, hi: int) -> Iterator[tuple[Any, ...]]:
        for i in range(lo, hi):
            yield pshape.row(i, names[assign[i]])

    # The generated rows must be exactly what the engine wrote for version 1.
    same_as_engine(
        "artifact_versions",
        v_template,
        vshape.as_dict(next(versions(1, 2))),
        ignore=("created_at",),
    )
    same_as_engine("artifact_partitions", p_template, pshape.as_dict(next(partitions(1, 2))))

    loader = BulkLoader(url)
    try:
        # Version 1 is the engine's; move it to the end of time so ids follow creation order.
        loader.execute(
            "UPDATE artifact_versions SET created_at = ? WHERE id = 1", (base_time + 0.001,)
        )
        loader.drop_indexes(("artifact_versions", "artifact_partitions"))
        for lo in range(2, VERSIONS + 1, BATCH):
            hi = min(lo + BATCH, VERSIONS + 1)
            loader.load("artifact_versions", vshape.columns, versions(lo, hi))
            loader.load("artifact_partitions", pshape.columns, partitions(lo, hi))
        loader.execute(
            "UPDATE artifacts SET latest_seq = ? WHERE id = ?",
            (VERSIONS, v_template["artifact_id"]),
        )
        loader.finish(serial_tables=("artifact_versions",))
    finally:
        loader.close()
    return A, time.perf_counter() - t0


def timed(fn: Any, check: Any, n: int, budget_s: float) -> list[float]:
    """Time ``fn(i)`` up to ``n`` times (fewer, at least 3, if ``budget_s`` runs out);
    ``check(i, result)`` runs outside the timing."""
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    for i in range(n):
        t0 = time.perf_counter()
        result = fn(i)
        times.append(time.perf_counter() - t0)
        check(i, result)
        if len(times) >= 3 and time.perf_counter() > deadline:
            break
    return times


def explain(inst: Any, call: Any) -> list[str]:
    """The query plan of the version lookup ``call()`` makes (SQLite only: its SQL is captured
    with the values bound, then EXPLAIN QUERY PLAN)."""
    if inst.db.dialect != "sqlite":
        return []
    conn = inst.db.connection()
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        call()
    finally:
        conn.set_trace_callback(None)
    lines = []
    for sql in seen:
        if sql.lstrip().upper().startswith("SELECT") and "artifact_versions v" in sql:
            lines += [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
    return lines


def measure(
    backend: str, scenario: str, url: str, A: Any, expected: dict[int, int], rng: random.Random
) -> None:
    """Random region lookups, latest, exact URIs: timed and each result checked."""
    import headwater
    from headwater.instance import Instance
    from headwater.settings import Settings

    tag = f"{backend} [{scenario}]"
    with c.temp_dir("hw-bench-aq-q-") as home:
        inst = Instance(Settings.from_env({}, home=home, database_url=url))
        try:
            with inst.use():
                for _ in range(WARMUP):
                    headwater.get_artifact(A.query(region=region_name(rng.randrange(REGIONS))))
                gc.collect()

                picks = [rng.randrange(REGIONS) for _ in range(LOOKUPS)]

                def check_region(i: int, v: Any) -> None:
                    r = picks[i]
                    c.check(
                        v.id == expected[r]
                        and v.version == str(expected[r])
                        and v.partitions == {"region": region_name(r)},
                        f"{tag}: region {region_name(r)} gave {v!r}, expected "
                        f"version {expected[r]}",
                    )

                times = timed(
                    lambda i: headwater.get_artifact(A.query(region=region_name(picks[i]))),
                    check_region,
                    LOOKUPS,
                    BUDGET_S,
                )
                c.figure(f"{tag} get_artifact(A.query(region=v))", c.spread(times))
                floor = c.sql_floor(
                    inst,
                    [
                        lambda r=r: headwater.get_artifact(A.query(region=region_name(r)))
                        for r in picks[: len(times)]
                    ],
                )
                c.record_with_floor(f"{tag} get_artifact(A.query(region=v)) median", times, floor)
                c.target(
                    f"{tag} get_artifact(A.query(region=v)), {VERSIONS:,} versions "
                    f"(median of {len(times)})",
                    c.median(times),
                    TARGET_S,
                    f"p90 {c.fmt_time(c.percentile(times, 90))}",
                )
                print(
                    f"{tag} verified: all {len(times)} lookups returned the newest version "
                    "of their region (max id, version text and partitions checked)"
                )
                plan = explain(inst, lambda: headwater.get_artifact(A.query(region="site-0001")))
                if plan:
                    print(f"{tag}   query plan: {' / '.join(plan)}")

                def check_latest(_i: int, v: Any) -> None:
                    c.check(v.id == VERSIONS, f"{tag}: latest is {v!r}, expected {VERSIONS}")

                latest = timed(
                    lambda _i: headwater.get_artifact(A.query()),
                    check_latest,
                    LATEST_LOOKUPS,
                    BUDGET_S / 3,
                )
                c.figure(f"{tag} get_artifact(A.query())  latest", c.spread(latest))
                floor = c.sql_floor(
                    inst, [lambda: headwater.get_artifact(A.query()) for _ in latest]
                )
                c.record_with_floor(f"{tag} get_artifact(A.query()) latest median", latest, floor)
                c.target(
                    f"{tag} get_artifact(A.query()) latest, unpartitioned "
                    f"(median of {len(latest)})",
                    c.median(latest),
                    TARGET_S,
                    f"p90 {c.fmt_time(c.percentile(latest, 90))}; verified",
                )
                plan = explain(inst, lambda: headwater.get_artifact(A.query()))
                if plan:
                    print(f"{tag}   query plan: {' / '.join(plan)}")

                numbers = [rng.randrange(1, VERSIONS + 1) for _ in range(LATEST_LOOKUPS)]

                def check_exact(i: int, v: Any) -> None:
                    c.check(v.id == numbers[i], f"{tag}: @{numbers[i]} gave {v!r}")

                exact = timed(
                    lambda i: headwater.get_artifact(
                        f"hw://default/development/{A.name}@{numbers[i]}"
                    ),
                    check_exact,
                    LATEST_LOOKUPS,
                    BUDGET_S / 4,
                )
                c.figure(
                    f"{tag} get_artifact('hw://.../{A.name}@N')  exact, no target",
                    c.spread(exact) + "; verified",
                )
                c.record(f"{tag} get_artifact(uri@N) exact median", c.median(exact), "s")
                if c.want_profile():
                    c.profile(
                        f"{tag} get_artifact(A.query(region=v))",
                        lambda: headwater.get_artifact(
                            A.query(region=region_name(rng.randrange(REGIONS)))
                        ),
                        50,
                    )
                    c.profile(
                        f"{tag} get_artifact(A.query()) latest",
                        lambda: headwater.get_artifact(A.query()),
                        3,
                    )
        finally:
            inst.close()


def add_catalogue(url: str) -> float:
    """Publish OTHER_ARTIFACTS small artifacts through the engine, then ANALYZE again."""
    from _bulk import BulkLoader

    import headwater
    from headwater import Artifact
    from headwater.instance import Instance
    from headwater.settings import Settings

    t0 = time.perf_counter()
    with c.temp_dir("hw-bench-aq-cat-") as home:
        inst = Instance(Settings.from_env({}, home=home, database_url=url))
        try:
            with inst.use():
                for k in range(OTHER_ARTIFACTS):
                    other = Artifact(name=f"metric_{k:03d}", partition_keys=["region"])
                    for j in range(OTHER_VERSIONS):
                        headwater.create_artifact(other, j, region=region_name(j))
        finally:
            inst.close()
    loader = BulkLoader(url)
    try:
        loader.finish()
    finally:
        loader.close()
    return time.perf_counter() - t0


def run_backend(
    backend: str, url: str, assign: list[int], literals: list[str], size: Any = None
) -> None:
    A, took = populate(url, assign, literals)
    how = "executemany" if backend == "sqlite" else "COPY"
    c.figure(
        f"{backend}: populate (schema + {VERSIONS:,} versions via {how} + ANALYZE)",
        c.fmt_time(took) + (f", database file {size():.0f} MB" if size else ""),
    )
    expected: dict[int, int] = {}
    for i in range(1, VERSIONS + 1):
        expected[assign[i]] = i  # ids ascend: the last one seen is each region's newest
    measure(backend, "1 artifact", url, A, expected, random.Random(SEED + 1))
    took = add_catalogue(url)
    c.figure(
        f"{backend}: + {OTHER_ARTIFACTS} other artifacts x {OTHER_VERSIONS} versions "
        "through the engine, ANALYZE again",
        c.fmt_time(took),
    )
    measure(backend, f"{OTHER_ARTIFACTS + 1} artifacts", url, A, expected, random.Random(SEED + 2))


def main() -> None:
    c.install_signal_handlers()
    c.header(
        "bench_artifact_query",
        f"get_artifact over {VERSIONS:,} versions of one artifact "
        f"across {REGIONS:,} partition values; SQLite and PostgreSQL. Measured twice: with "
        f"A the only artifact (as specified), then with {OTHER_ARTIFACTS} other small "
        "artifacts published too (a typical catalogue; changes the planner's statistics).",
    )
    rng = random.Random(SEED)
    t0 = time.perf_counter()
    assign = [0] + [rng.randrange(REGIONS) for _ in range(VERSIONS)]  # region of version id
    literals = [""] + [int_literal(i) for i in range(1, VERSIONS + 1)]  # value of version id
    c.figure(
        "generate regions and value literals (once, for both backends)",
        c.fmt_time(time.perf_counter() - t0),
    )
    with c.temp_dir("hw-bench-aq-") as tmp:
        db = tmp / "headwater.db"
        run_backend("sqlite", f"sqlite:///{db}", assign, literals, lambda: db.stat().st_size / 1e6)
    print()
    with c.postgres() as pg:
        if pg is not None:
            url = pg.database()
            print(f"PostgreSQL {pg.version(url)} (throwaway cluster, fsync off)")
            run_backend("postgresql", url, assign, literals)
    c.summary()


if __name__ == "__main__":
    main()
