"""``headwater.lineage(version, direction="upstream", depth=3)`` in a 100,000-version graph.

Target: < 20 ms median over random starting versions, on SQLite and on PostgreSQL.

The graph: 1,000 "raw_events" versions published from outside (no producer), then 99,000
"features" versions, each produced by its own execution of a workflow ``step(prev, other,
region)`` that consumed two earlier versions: ``prev``, the previous version of the same region
(1,000 chains of 100), and ``other``, a random earlier version. That is 99,000 executions and
297,000 lineage edges. Depth 3 upstream from a version reaches up to 7 executions and 15
versions.

The shapes come from the engine: in a scratch database of the same backend it publishes two
raw versions and runs ``step`` once; every bulk row is built from those rows and the generated
rows for that same case must equal the engine's column by column. Loaded (SQLite executemany,
PostgreSQL COPY; secondary indexes recreated after): artifacts, artifact_versions,
artifact_partitions, executions, lineage_edges; then ANALYZE. Not loaded (lineage does not read
them): node_executions, events, blobs. Every timed graph is checked against the expected one.
``--profile`` adds cProfile output.

Floor (SQLite): the SQL statements each measured ``lineage`` call sent, replayed on the same
connection without the engine (``_common.sql_floor``); ratio = call / replay. ``--quick``
(``make bench``): a 10,000-version graph, 50 starting versions.
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
from _bulk import BulkLoader, RowShape, int_literal, same_as_engine

VERSIONS = 100_000
CHAINS = 1_000  # versions 1..CHAINS are the raw (unproduced) ones
STARTS = 200
WARMUP = 20
DEPTH = 3
TARGET_S = 0.020
BUDGET_S = 20.0
SEED = 20261122
BATCH = 50_000
if c.QUICK:  # make bench: the same measurements on a smaller graph
    VERSIONS, CHAINS, STARTS, WARMUP, BUDGET_S = 10_000, 100, 50, 10, 5.0

FLOWS = """\
from typing import Annotated

from headwater import Artifact, Inputs, task, workflow

Raw = Artifact(name="raw_events", partition_keys=["region"])
Features = Artifact(name="features", partition_keys=["region"])


@task
def combine(prev: int, other: int, region: str) -> Annotated[int, Features(region=Inputs.region)]:
    return prev + other


@workflow
def step(prev: int, other: int, region: str) -> int:
    return combine(prev=prev, other=other, region=region)
"""


def region_name(chain: int) -> str:
    return f"c{chain:04d}"


def str_literal(text: str) -> dict[str, Any]:
    """The literal the type engine stores for a ``str`` input (small JSON: inline, no blob)."""
    body = json.dumps(text)
    return {
        "format": "json",
        "preview": repr(text),
        "size": len(body),
        "type": "str",
        "value": text,
    }


class Graph:
    """Which versions each execution consumed: version x > R was produced by execution x
    from ``x - R`` (prev) and ``other[x]``; versions 1..R were published."""

    def __init__(self, n: int, r: int, rng: random.Random) -> None:
        self.n, self.r = n, r
        self.other = [0] * (n + 1)
        for x in range(r + 1, n + 1):
            o = rng.randrange(1, x - 1) if x - 1 > 1 else 1
            self.other[x] = o if o != x - r else x - 1  # never the same version twice
        base_ms = 1_790_000_000_000
        self.exec_id = [""] * (n + 1)
        for x in range(r + 1, n + 1):
            self.exec_id[x] = f"{base_ms + 10 * x:011x}{rng.getrandbits(32):08x}"

    def chain(self, x: int) -> int:
        return (x - 1) % self.r

    def artifact_version(self, x: int) -> tuple[str, str]:
        """(artifact name, version text) of version id x."""
        return ("raw_events", str(x)) if x <= self.r else ("features", str(x - self.r))

    def upstream(self, x: int, depth: int) -> tuple[set[int], set[int]]:
        """Expected (version ids, producing version ids = executions) within ``depth``."""
        versions, producers, frontier = {x}, set(), [x]
        for _ in range(depth):
            made = [v for v in frontier if v > self.r and v not in producers]
            if not made:
                break
            producers.update(made)
            nxt = {u for v in made for u in (v - self.r, self.other[v])} - versions
            versions |= nxt
            frontier = sorted(nxt)
            if not frontier:
                break
        return versions, producers


def engine_templates(url: str, code: Path) -> dict[str, Any]:
    """Run the real thing once in the database at ``url``; return its rows."""
    import importlib

    import headwater
    from headwater.instance import Instance
    from headwater.settings import Settings

    if str(code) not in sys.path:
        sys.path.insert(0, str(code))
    flows = importlib.import_module("hwbench_lineage_flows")
    with c.temp_dir("hw-bench-lin-tpl-") as home:
        inst = Instance(Settings.from_env({}, home=home, database_url=url))
        try:
            with inst.use():
                v1 = headwater.create_artifact(flows.Raw, 1, region=region_name(0))
                v2 = headwater.create_artifact(flows.Raw, 2, region=region_name(1))
                ex = headwater.run(flows.step, prev=v1, other=v2, region=region_name(0))
                c.check(ex.status.value == "succeeded", f"template run: {ex.error}")
            with inst.db.read() as tx:
                return {
                    "artifacts": [dict(r) for r in tx.all("SELECT * FROM artifacts ORDER BY id")],
                    "versions": [
                        dict(r) for r in tx.all("SELECT * FROM artifact_versions ORDER BY id")
                    ],
                    "partitions": [
                        dict(r)
                        for r in tx.all("SELECT * FROM artifact_partitions ORDER BY version_id")
                    ],
                    "execution": dict(tx.one("SELECT * FROM executions")),
                    "edges": [dict(r) for r in tx.all("SELECT * FROM lineage_edges ORDER BY id")],
                }
        finally:
            inst.close()


class Rows:
    """Generators of every bulk row, shaped by the engine's template rows."""

    def __init__(self, g: Graph, tpl: dict[str, Any]) -> None:
        self.g = g
        self.raw_aid = tpl["artifacts"][0]["id"]
        self.feat_aid = tpl["artifacts"][1]["id"]
        self.vshape = RowShape(
            tpl["versions"][2],
            (
                "id",
                "artifact_id",
                "version",
                "partition_key",
                "partitions",
                "value",
                "execution_id",
                "node_id",
                "output_name",
                "created_at",
            ),
        )
        self.pshape = RowShape(tpl["partitions"][0], ("version_id", "artifact_id", "value"))
        self.eshape = RowShape(
            tpl["execution"],
            ("id", "inputs", "resolved", "outputs", "created_at", "started_at", "finished_at"),
        )
        self.edge_shape = RowShape(
            tpl["edges"][0], ("id", "execution_id", "version_id", "direction", "name", "node_id")
        )
        self.base_time = tpl["versions"][0]["created_at"] - 0.01 * g.n - 60
        names = [region_name(k) for k in range(g.r)]
        self.names = names
        self.pkeys = [f"region={n}" for n in names]
        self.parts = [json.dumps({"region": n}) for n in names]
        self.region_lits = [str_literal(n) for n in names]

    def uri(self, x: int) -> str:
        name, version = self.g.artifact_version(x)
        return f"hw://default/development/{name}@{version}"

    def versions(self, lo: int, hi: int) -> Iterator[tuple[Any, ...]]:
        g, row = self.g, self.vshape.row
        for x in range(lo, hi):
            k = g.chain(x)
            produced = x > g.r
            yield row(
                x,
                self.feat_aid if produced else self.raw_aid,
                str(x - g.r) if produced else str(x),
                self.pkeys[k],
                self.parts[k],
                int_literal(x),
                g.exec_id[x] or None,
                "n0" if produced else None,
                "o0" if produced else None,
                self.base_time + 0.01 * x,
            )

    def partitions(self, lo: int, hi: int) -> Iterator[tuple[Any, ...]]:
        g, row = self.g, self.pshape.row
        for x in range(lo, hi):
            yield row(x, self.feat_aid if x > g.r else self.raw_aid, self.names[g.chain(x)])

    def executions(self, lo: int, hi: int) -> Iterator[tuple[Any, ...]]:
        g, row = self.g, self.eshape.row
        for x in range(max(lo, g.r + 1), hi):
            prev, other, k = x - g.r, g.other[x], g.chain(x)
            lit = {v: json.loads(int_literal(v)) for v in (prev, other, x)}
            inputs = json.dumps(
                {"other": lit[other], "prev": lit[prev], "region": self.region_lits[k]},
                sort_keys=True,
            )
            resolved = json.dumps(
                {
                    "other": {"uri": self.uri(other), "via": "explicit"},
                    "prev": {"uri": self.uri(prev), "via": "explicit"},
                },
                sort_keys=True,
            )
            outputs = json.dumps({"o0": lit[x]}, sort_keys=True)
            t = self.base_time + 0.01 * x
            yield row(g.exec_id[x], inputs, resolved, outputs, t - 0.008, t - 0.008, t + 0.001)

    def edges(self, lo: int, hi: int) -> Iterator[tuple[Any, ...]]:
        g, row = self.g, self.edge_shape.row
        for x in range(max(lo, g.r + 1), hi):
            e, first = g.exec_id[x], 3 * (x - g.r) - 2
            yield row(first, e, x - g.r, "consumed", "prev", None)
            yield row(first + 1, e, g.other[x], "consumed", "other", None)
            yield row(first + 2, e, x, "produced", "o0", "n0")


def check_shapes(tpl: dict[str, Any]) -> None:
    """Rows generated for the template's own case (2 raw versions, 1 run) == the engine's."""
    g = Graph(3, 2, random.Random(0))
    g.other[3] = 2
    g.exec_id[3] = tpl["execution"]["id"]
    rows = Rows(g, tpl)
    times = ("created_at", "started_at", "finished_at")
    for x, (engine, ours) in enumerate(zip(tpl["versions"], rows.versions(1, 4), strict=True)):
        same_as_engine(f"artifact_versions #{x + 1}", engine, rows.vshape.as_dict(ours), times)
    for engine, ours in zip(tpl["partitions"], rows.partitions(1, 4), strict=True):
        same_as_engine("artifact_partitions", engine, rows.pshape.as_dict(ours))
    same_as_engine(
        "executions", tpl["execution"], rows.eshape.as_dict(next(rows.executions(3, 4))), times
    )
    for engine, ours in zip(tpl["edges"], rows.edges(3, 4), strict=True):
        same_as_engine("lineage_edges", engine, rows.edge_shape.as_dict(ours))


def populate(url: str, scratch_url: str, code: Path, g: Graph) -> tuple[Rows, float]:
    from headwater.instance import Instance
    from headwater.settings import Settings

    t0 = time.perf_counter()
    tpl = engine_templates(scratch_url, code)
    check_shapes(tpl)
    rows = Rows(g, tpl)
    with c.temp_dir("hw-bench-lin-home-") as home:  # creates the schema
        Instance(Settings.from_env({}, home=home, database_url=url)).close()
    loader = BulkLoader(url)
    try:
        ashape = RowShape(tpl["artifacts"][0], ("id", "name", "spec", "latest_seq"))
        loader.load(
            "artifacts",
            ashape.columns,
            [
                ashape.row(a["id"], a["name"], a["spec"], g.r if i == 0 else g.n - g.r)
                for i, a in enumerate(tpl["artifacts"])
            ],
        )
        loader.drop_indexes(
            ("artifact_versions", "artifact_partitions", "executions", "lineage_edges")
        )
        for lo in range(1, g.n + 1, BATCH):
            hi = min(lo + BATCH, g.n + 1)
            loader.load("artifact_versions", rows.vshape.columns, rows.versions(lo, hi))
            loader.load("artifact_partitions", rows.pshape.columns, rows.partitions(lo, hi))
            loader.load("executions", rows.eshape.columns, rows.executions(lo, hi))
            loader.load("lineage_edges", rows.edge_shape.columns, rows.edges(lo, hi))
        loader.finish(serial_tables=("artifacts", "artifact_versions", "lineage_edges"))
    finally:
        loader.close()
    return rows, time.perf_counter() - t0


def measure(backend: str, url: str, rows: Rows, g: Graph, rng: random.Random) -> None:
    import headwater
    from headwater.instance import Instance
    from headwater.settings import Settings

    with c.temp_dir("hw-bench-lin-q-") as home:
        inst = Instance(Settings.from_env({}, home=home, database_url=url))
        try:
            with inst.use():
                with inst.db.read() as tx:
                    counts = {
                        t: tx.scalar(f"SELECT COUNT(*) FROM {t}")
                        for t in ("artifact_versions", "executions", "lineage_edges")
                    }
                c.figure(f"{backend}: graph", ", ".join(f"{n:,} {t}" for t, n in counts.items()))
                # Start anywhere in the upper half: the full 3 generations exist there.
                starts = [rng.randrange(g.n // 2, g.n + 1) for _ in range(STARTS + WARMUP)]
                handles = [headwater.get_artifact(rows.uri(x)) for x in starts]
                for h in handles[:WARMUP]:
                    headwater.lineage(h, direction="upstream", depth=DEPTH)
                gc.collect()

                times, sizes = [], []
                deadline = time.perf_counter() + BUDGET_S
                for x, h in zip(starts[WARMUP:], handles[WARMUP:], strict=True):
                    t0 = time.perf_counter()
                    graph = headwater.lineage(h, direction="upstream", depth=DEPTH)
                    times.append(time.perf_counter() - t0)
                    want_v, want_e = g.upstream(x, DEPTH)
                    got_v = {n.id for n in graph.nodes if n.kind == "artifact"}
                    got_e = {n.id for n in graph.nodes if n.kind == "execution"}
                    c.check(
                        got_v == {rows.uri(v) for v in want_v}
                        and got_e == {g.exec_id[v] for v in want_e}
                        and len(graph.edges) == 3 * len(want_e),
                        f"{backend}: lineage of {rows.uri(x)} has {len(got_v)} versions, "
                        f"{len(got_e)} executions; expected {len(want_v)}, {len(want_e)}",
                    )
                    sizes.append(len(graph.nodes))
                    if len(times) >= 5 and time.perf_counter() > deadline:
                        break
                c.figure(f"{backend}: lineage(upstream, depth={DEPTH})", c.spread(times))
                floor = c.sql_floor(
                    inst,
                    [
                        lambda h=h: headwater.lineage(h, direction="upstream", depth=DEPTH)
                        for h in handles[WARMUP : WARMUP + len(times)]
                    ],
                )
                c.record_with_floor(
                    f"{backend}: lineage(upstream, depth={DEPTH}) median", times, floor
                )
                c.target(
                    f"{backend}: lineage(version, upstream, depth={DEPTH}), "
                    f"{g.n:,}-version graph (median of {len(times)})",
                    c.median(times),
                    TARGET_S,
                    f"p90 {c.fmt_time(c.percentile(times, 90))}",
                )
                print(
                    f"{backend}: verified: all {len(times)} graphs have exactly the expected "
                    f"versions, executions and edges (median {c.median(sizes):.0f} nodes, "
                    f"max {max(sizes)})"
                )

                down = []
                for h in handles[WARMUP : WARMUP + 50]:
                    t0 = time.perf_counter()
                    graph = headwater.lineage(h, direction="both", depth=DEPTH)
                    down.append(time.perf_counter() - t0)
                c.figure(f"{backend}: lineage(both, depth={DEPTH})  no target", c.spread(down))
                c.record(f"{backend}: lineage(both, depth={DEPTH}) median", c.median(down), "s")
                if c.want_profile():
                    it = iter(handles * 3)
                    c.profile(
                        f"{backend} lineage(upstream, depth={DEPTH})",
                        lambda: headwater.lineage(next(it), direction="upstream", depth=DEPTH),
                        100,
                    )
        finally:
            inst.close()


def main() -> None:
    c.install_signal_handlers()
    c.header(
        "bench_lineage",
        f"headwater.lineage(version, direction='upstream', depth={DEPTH}) "
        f"in a {VERSIONS:,}-version graph; SQLite and PostgreSQL",
    )
    g = Graph(VERSIONS, CHAINS, random.Random(SEED))
    with c.temp_dir("hw-bench-lin-") as tmp:
        code = tmp / "code"
        code.mkdir()
        (code / "hwbench_lineage_flows.py").write_text(FLOWS)
        url = f"sqlite:///{tmp / 'headwater.db'}"
        rows, took = populate(url, f"sqlite:///{tmp / 'scratch.db'}", code, g)
        c.figure("sqlite: populate (template run + bulk load + ANALYZE)", c.fmt_time(took))
        measure("sqlite", url, rows, g, random.Random(SEED + 1))
        print()
        with c.postgres() as pg:
            if pg is not None:
                url = pg.database()
                print(f"PostgreSQL {pg.version(url)} (throwaway cluster, fsync off)")
                rows, took = populate(url, pg.database(), code, g)
                c.figure(
                    "postgresql: populate (template run + bulk load via COPY + ANALYZE)",
                    c.fmt_time(took),
                )
                measure("postgresql", url, rows, g, random.Random(SEED + 1))
    c.summary()


if __name__ == "__main__":
    main()
