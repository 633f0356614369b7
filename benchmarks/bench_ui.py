"""The web UI at scale: server time of every page and the Lineage tab's first paint.

``python benchmarks/bench_ui.py [--quick] [--small] [--requests N] [--no-browser] [--rebuild]``
(``--quick``, for ``make bench``: ``--small``, 10 GETs per page, 3 browser page loads)

The instance (SQLite): 1,000,000 artifact versions (``--small``: 10,000) of 7 artifacts —
``blessed_model`` partitioned by ``blessed`` and ``region`` (a Model card on every 20th
version), five more partitioned by ``region``, and ``history``: one chain of 100,000 versions
(a tenth of the total), each produced by an execution of ``extend(prev)`` that consumed the
previous one, so 100,000 executions (one node execution and two lineage edges each) — plus
100,000 stored events and the launch plans, events and decisions the engine writes itself.
A ``legacy`` region holds only the oldest few hundred versions (a partition filter matching
nothing recent). Populating: the engine writes the first rows (registers the flows, publishes
one version of each artifact, runs ``extend`` once, emits two events and decides them); every
bulk row is built from those rows (``_bulk.RowShape``) and the rows for the engine's own case
must equal its rows, then loaded with ``executemany`` (secondary indexes dropped and rebuilt; ``artifact_series``
filled from the loaded versions as migration 0007 fills it, ``plan_runs`` from the executions
as 0019 does; then ``ANALYZE``). The populated ``HEADWATER_HOME`` is cached under
``$HEADWATER_BENCH_CACHE`` (default ``/tmp/headwater-bench-cache``) keyed by the size and a
hash of the schema (``storage/schema.py`` and the migrations) and of ``POPULATE_VERSION``, so
a rerun starts serving at once (``--rebuild`` rebuilds it).

Measured: a real ``headwater up --workers 0`` on that home; each page ``GET`` over one
keep-alive ``http.client`` connection on loopback (the response time, body read, status
checked), median and p95 over ``--requests`` (default 40) after 3 warm-ups (the first checked
for a text the page must show). Targets: every page < 50 ms median; the search page with a
partition filter < 100 ms. Then Chromium (Playwright, ``/usr/bin/chromium``) opens the Lineage
tab of a version in the middle of the history and reads ``document.body.dataset.lineageDrawnAt``
(``performance.now()`` when ``static/lineage.js`` has drawn the first graph, i.e. from
navigation start): target < 1 s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c
from _bulk import BulkLoader, RowShape, int_literal, same_as_engine

POPULATE_VERSION = "3"  # bump when the data below changes: the cache key includes it
SEED = 20261203
OTHER_NAMES = ("blessed_model", "features", "embeddings", "eval_report", "raw_events", "tokenizer")
REGIONS = tuple(f"r{k:02d}" for k in range(20))
LEGACY = 600  # the oldest "other" versions are in region "legacy"
CARD_EVERY = 20  # every 20th blessed_model version has a card
BATCH = 50_000
PAGE_TARGET_S = 0.050
FILTER_TARGET_S = 0.100
PAINT_TARGET_S = 1.0

FLOWS = """\
from typing import Annotated

from headwater import Artifact, LaunchPlan, OnEvent, task, workflow

History = Artifact(name="history")


@task
def grow(prev: int) -> Annotated[int, History]:
    return prev + 1


@workflow
def extend(prev: int = 0) -> int:
    return grow(prev=prev)


LaunchPlan.create("history_grow", extend, trigger=OnEvent("history.grow", parameters={"prev": "prev"}))
LaunchPlan.create(
    "history_prod",
    extend,
    trigger=OnEvent("history.grow", parameters={"prev": "prev"}, filter={"env": "prod"}),
)
"""

CARD = """# blessed_model {version}

| metric | value |
|---|---|
| accuracy | 0.{version:04d} |
| region | {region} |

```python
model = headwater.get_artifact("hw://default/development/blessed_model@{version}")
```
"""


# -- the plan of the data ------------------------------------------------------------------
class Plan:
    """Which row is what. Global position i (0-based, newest last): every tenth is the next
    history version, the others cycle through OTHER_NAMES."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.history = total // 10  # history versions, including the engine's @1 and @2
        self.events = total // 10

    def layout(self, lo: int, hi: int) -> Iterator[tuple[int, str, int]]:
        """(position, artifact name, n) for the bulk versions at positions [lo, hi): n is
        the history version number, or the index among the other versions."""
        for i in range(lo, hi):
            if i % 10 == 0:
                k = i // 10 + 1
                if k > 2:  # history@1 and @2 come from the engine
                    yield i, "history", k
                continue
            o = i - i // 10 - 1
            yield i, OTHER_NAMES[o % len(OTHER_NAMES)], o

    @staticmethod
    def partitions(name: str, o: int) -> dict[str, str]:
        region = "legacy" if o < LEGACY else REGIONS[(o // len(OTHER_NAMES)) % len(REGIONS)]
        if name == "blessed_model":
            return {"blessed": ("true", "false")[(o // 120) % 2], "region": region}
        return {"region": region}


def cache_root() -> Path:
    return Path(os.environ.get("HEADWATER_BENCH_CACHE", "/tmp/headwater-bench-cache"))


def code_src() -> Path:
    """The ``src`` folder of the headwater this script imports (``PYTHONPATH`` picks it):
    it populates the instance and ``headwater up`` serves it."""
    import headwater

    return Path(headwater.__file__).resolve().parents[1]


def schema_hash() -> str:
    """The schema (schema.py + every migration) of that headwater and this script's data,
    as 12 hex digits."""
    h = hashlib.sha256()
    storage = code_src() / "headwater" / "storage"
    files = [storage / "schema.py", *sorted((storage / "migrations" / "versions").glob("*.py"))]
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    h.update(POPULATE_VERSION.encode())
    return h.hexdigest()[:12]


# -- populating ----------------------------------------------------------------------------
def engine_rows(home: Path, code: Path) -> dict[str, Any]:
    """Let the engine write the first rows of every kind in ``home``; return them."""
    import importlib

    import headwater
    from headwater import Artifact, ModelCard
    from headwater.engine.react.reactor import Reactor
    from headwater.instance import Instance
    from headwater.settings import Settings

    if str(code) not in sys.path:
        sys.path.insert(0, str(code))
    flows = importlib.import_module("hwbench_ui_flows")
    inst = Instance(Settings.from_env({}, home=home))
    try:
        with inst.use():
            headwater.register(flows, activate=True)
            for name in OTHER_NAMES:
                keys = ["blessed", "region"] if name == "blessed_model" else ["region"]
                parts = Plan.partitions(name, 0)
                cards: list[Any] | None = None
                if name == "blessed_model":
                    cards = [ModelCard(CARD.format(version=1, region=parts["region"]))]
                art = Artifact(name=name, partition_keys=keys)
                headwater.create_artifact(art, 0, cards=cards, **parts)
            v1 = headwater.create_artifact(flows.History, 1)
            ex = headwater.run(flows.extend, prev=v1)
            c.check(ex.status.value == "succeeded", f"template run: {ex.error}")
            headwater.emit_event("history.grow", {"prev": 1, "env": "dev"}, id="grow-1")
            headwater.emit_event("data.arrived", {"n": 0, "table": "sales"}, id="arrived-0")
        while Reactor(inst).run_once():
            pass
        with inst.db.read() as tx:

            def rows(sql: str) -> list[dict[str, Any]]:
                return [dict(r) for r in tx.all(sql)]

            return {
                "artifacts": rows("SELECT * FROM artifacts ORDER BY id"),
                "versions": rows("SELECT * FROM artifact_versions ORDER BY id"),
                "partitions": rows("SELECT * FROM artifact_partitions ORDER BY version_id, key"),
                "cards": rows("SELECT * FROM cards ORDER BY id"),
                "execution": rows(f"SELECT * FROM executions WHERE id = '{ex.id}'")[0],
                "nodes": rows(f"SELECT * FROM node_executions WHERE execution_id = '{ex.id}'"),
                "edges": rows(f"SELECT * FROM lineage_edges WHERE execution_id = '{ex.id}'"),
                "event": rows("SELECT * FROM events WHERE id = 'arrived-0'")[0],
            }
    finally:
        inst.close()


def _without(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in keys}


class Rows:
    """Every bulk row, shaped by the engine's rows."""

    def __init__(self, plan: Plan, tpl: dict[str, Any]) -> None:
        self.plan = plan
        self.aid = {a["name"]: a["id"] for a in tpl["artifacts"]}
        by_artifact = {v["artifact_id"]: v for v in tpl["versions"]}
        self.vtpl = {name: by_artifact[aid] for name, aid in self.aid.items()}
        self.vtpl["history"] = tpl["versions"][-1]  # history@2, produced by the run
        self.vshape = {
            name: RowShape(
                v,
                (
                    "id",
                    "version",
                    "partition_key",
                    "partitions",
                    "value",
                    "execution_id",
                    "created_at",
                ),
            )
            for name, v in self.vtpl.items()
        }
        self.pshape = RowShape(tpl["partitions"][0], ("version_id", "artifact_id", "key", "value"))
        self.cshape = RowShape(
            _without(tpl["cards"][0], "id"), ("version_id", "text", "artifact_id", "partition_key")
        )
        ex = tpl["execution"]
        self.ex = ex
        self.eshape = RowShape(
            ex,
            (
                "id",
                "launch_plan",
                "inputs",
                "resolved",
                "outputs",
                "created_at",
                "started_at",
                "finished_at",
            ),
        )
        self.node_tpl = tpl["nodes"]
        self.nshape = [
            RowShape(_without(n, "id"), ("execution_id", "inputs", "outputs", "started_at"))
            for n in tpl["nodes"]
        ]
        self.edge_tpl = sorted(tpl["edges"], key=lambda e: e["direction"])  # consumed, produced
        self.edge_shape = RowShape(_without(self.edge_tpl[0], "id"), ("execution_id", "version_id"))
        self.edge_shape2 = RowShape(
            _without(self.edge_tpl[1], "id"), ("execution_id", "version_id")
        )
        self.evshape = RowShape(tpl["event"], ("seq", "id", "time", "payload"))
        self.event_tpl = tpl["event"]
        self.base_time = max(v["created_at"] for v in tpl["versions"]) + 1
        self.first_id = max(v["id"] for v in tpl["versions"]) + 1
        self.rng = random.Random(SEED)
        # history version k -> its row id; filled while versions are generated
        self.history_id: dict[int, int] = {2: tpl["versions"][-1]["id"]}
        self.history_id[1] = next(
            v["id"] for v in tpl["versions"] if v["artifact_id"] == self.aid["history"]
        )
        self.exec_id: dict[int, str] = {2: ex["id"]}
        self.counts = {name: 1 for name in OTHER_NAMES}
        self.counts["history"] = 2

    # the JSON of an execution of extend(prev=k-1) that produced history@k
    def _inputs(self, k: int) -> str:
        body = json.loads(self.ex["inputs"])
        body["prev"] = json.loads(int_literal(k - 1))
        return json.dumps(body, sort_keys=True)

    def _resolved(self, k: int) -> str:
        body = json.loads(self.ex["resolved"])
        body["prev"]["uri"] = f"hw://default/development/history@{k - 1}"
        return json.dumps(body, sort_keys=True)

    def _outputs(self, k: int) -> str:
        body = json.loads(self.ex["outputs"])
        (key,) = body
        body[key] = json.loads(int_literal(k))
        return json.dumps(body, sort_keys=True)

    def _node_json(self, text: str | None, k: int, which: str) -> str | None:
        if text is None:
            return None
        body = json.loads(text)
        for key in body:
            body[key] = json.loads(int_literal(k - 1 if which == "in" else k))
        return json.dumps(body, sort_keys=True)

    def check_shapes(self) -> None:
        """The rows generated for the engine's run (history@2) equal the engine's."""
        times = ("created_at", "started_at", "finished_at")
        ours = self.eshape.row(
            self.ex["id"],
            self.ex["launch_plan"],
            self._inputs(2),
            self._resolved(2),
            self._outputs(2),
            0,
            0,
            0,
        )
        same_as_engine("executions", self.ex, self.eshape.as_dict(ours), times)
        for n in self.node_tpl:
            for which, text in (("in", n["inputs"]), ("out", n["outputs"])):
                c.check(
                    self._node_json(text, 2, which) == text,
                    f"node {n['node_id']} {which}: {text} is not what bulk rows would hold",
                )
        v = self.vtpl["history"]
        same_as_engine(
            "artifact_versions",
            v,
            self.vshape["history"].as_dict(
                self.vshape["history"].row(
                    v["id"], "2", "", "{}", int_literal(2), self.ex["id"], v["created_at"]
                )
            ),
        )

    def versions(self, lo: int, hi: int, out: dict[str, list[Any]]) -> None:
        """Rows of positions [lo, hi) into ``out[table]`` (versions, partitions, cards,
        executions, nodes, edges)."""
        from headwater.definitions.names import partition_key_text

        plan = self.plan
        for i, name, n in plan.layout(lo, hi):
            vid = self.first_id + i
            t = self.base_time + 0.01 * i
            shape = self.vshape[name]
            if name == "history":
                k = n
                self.history_id[k] = vid
                eid = f"{int(t * 1000):011x}{self.rng.getrandbits(32):08x}"
                self.exec_id[k] = eid
                out["artifact_versions:history"].append(
                    shape.row(vid, str(k), "", "{}", int_literal(k), eid, t)
                )
                lp = "history_grow" if k % 2 else None
                out["executions"].append(
                    self.eshape.row(
                        eid,
                        lp,
                        self._inputs(k),
                        self._resolved(k),
                        self._outputs(k),
                        t - 0.008,
                        t - 0.008,
                        t - 0.001,
                    )
                )
                for ns, nt in zip(self.nshape, self.node_tpl, strict=True):
                    out["node_executions"].append(
                        ns.row(
                            eid,
                            self._node_json(nt["inputs"], k, "in"),
                            self._node_json(nt["outputs"], k, "out"),
                            t - 0.007,
                        )
                    )
                out["lineage_edges"].append(self.edge_shape.row(eid, self.history_id[k - 1]))
                out["lineage_edges"].append(self.edge_shape2.row(eid, vid))
                self.counts["history"] = k
                continue
            self.counts[name] += 1
            number = self.counts[name]
            parts = plan.partitions(name, n)
            out[f"artifact_versions:{name}"].append(
                shape.row(
                    vid,
                    str(number),
                    partition_key_text(parts),
                    json.dumps(parts, sort_keys=True),
                    int_literal(number),
                    None,
                    t,
                )
            )
            for key, value in sorted(parts.items()):
                out["artifact_partitions"].append(self.pshape.row(vid, self.aid[name], key, value))
            if name == "blessed_model" and number % CARD_EVERY == 0:
                out["cards"].append(
                    self.cshape.row(
                        vid,
                        CARD.format(version=number, region=parts["region"]),
                        self.aid[name],
                        partition_key_text(parts),
                    )
                )

    def events(self, lo: int, hi: int, first_seq: int) -> Iterator[tuple[Any, ...]]:
        payload = json.loads(self.event_tpl["payload"])
        for j in range(lo, hi):
            payload["n"] = j
            yield self.evshape.row(
                first_seq + j,
                f"arrived-b{j}",
                self.base_time + 0.01 * j * self.plan.total / max(self.plan.events, 1),
                json.dumps(payload, sort_keys=True),
            )


def populate(home: Path, plan: Plan) -> dict[str, Any]:
    """Build the instance in ``home``; returns what the measurements need."""
    code = home / "code"
    code.mkdir(parents=True)
    (code / "hwbench_ui_flows.py").write_text(FLOWS)
    t0 = time.perf_counter()
    print(f"populating {home}: the engine's own rows ...", flush=True)
    tpl = engine_rows(home, code)
    rows = Rows(plan, tpl)
    rows.check_shapes()
    url = f"sqlite:///{home / 'headwater.db'}"
    loader = BulkLoader(url)
    tables = (
        "artifact_versions",
        "artifact_partitions",
        "cards",
        "executions",
        "node_executions",
        "lineage_edges",
        "events",
    )
    try:
        loader.drop_indexes(tables)
        for lo in range(0, plan.total, BATCH):
            hi = min(lo + BATCH, plan.total)
            out: dict[str, list[Any]] = {
                k: []
                for k in (
                    *(f"artifact_versions:{n}" for n in (*OTHER_NAMES, "history")),
                    "artifact_partitions",
                    "cards",
                    "executions",
                    "node_executions",
                    "lineage_edges",
                )
            }
            rows.versions(lo, hi, out)
            for key, batch in out.items():
                if not batch:
                    continue
                table, _, name = key.partition(":")
                columns = {
                    "artifact_versions": rows.vshape.get(name),
                    "artifact_partitions": rows.pshape,
                    "cards": rows.cshape,
                    "executions": rows.eshape,
                    "node_executions": rows.nshape[0] if rows.nshape else None,
                    "lineage_edges": rows.edge_shape,
                }[table]
                assert columns is not None
                if table == "lineage_edges":
                    # consumed and produced edges have different fixed columns
                    loader.load(table, rows.edge_shape.columns, batch[0::2])
                    loader.load(table, rows.edge_shape2.columns, batch[1::2])
                    continue
                loader.load(table, columns.columns, batch)
            print(
                f"  {hi:>9,} of {plan.total:,} versions  ({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
        first_seq = int(loader.execute("SELECT MAX(seq) FROM events").fetchone()[0]) + 1
        for lo in range(0, plan.events, BATCH):
            hi = min(lo + BATCH, plan.events)
            loader.load("events", rows.evshape.columns, rows.events(lo, hi, first_seq))
        print(f"  {plan.events:,} events  ({time.perf_counter() - t0:.0f} s)", flush=True)
        for name, n in rows.counts.items():
            loader.execute("UPDATE artifacts SET latest_seq = ? WHERE id = ?", (n, rows.aid[name]))
        # what artifact_versions.insert_version keeps for every version the engine writes,
        # filled as migration 0007 fills it from the versions already stored
        loader.execute("DELETE FROM artifact_series")
        loader.execute(
            "INSERT INTO artifact_series (artifact_id, partition_key, time_key, latest_id) "
            "SELECT artifact_id, partition_key, COALESCE(time_partition, ''), MAX(id) "
            "FROM artifact_versions "
            "GROUP BY artifact_id, partition_key, COALESCE(time_partition, '')"
        )
        # what storage/plan_runs.py keeps for every execution of a launch plan, filled as
        # migration 0019 fills it from the executions already stored
        # (absent from a commit before it, which compare.py may be measuring)
        if loader.execute("SELECT name FROM sqlite_master WHERE name = 'plan_runs'").fetchone():
            loader.execute("DELETE FROM plan_runs_new")
            loader.execute("DELETE FROM plan_runs")
            loader.execute(
                "INSERT INTO plan_runs (launch_plan, created_at, id) SELECT launch_plan, "
                "created_at, id FROM executions WHERE launch_plan IS NOT NULL "
                "ORDER BY launch_plan, created_at, id"
            )
        print("  recreating indexes, ANALYZE ...", flush=True)
        loader.finish()
    finally:
        loader.close()
    mid = plan.history // 2
    with sqlite3.connect(home / "headwater.db") as db:
        mid_exec = db.execute(
            "SELECT execution_id FROM artifact_versions WHERE id = ?", (rows.history_id[mid],)
        ).fetchone()[0]
        model = db.execute(
            "SELECT v.version FROM artifact_versions v JOIN cards k ON k.version_id = v.id "
            "WHERE v.artifact_id = ? ORDER BY v.id DESC LIMIT 1",
            (rows.aid["blessed_model"],),
        ).fetchone()[0]
        counts = {
            t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in (
                "artifact_versions",
                "artifact_series",
                "executions",
                "lineage_edges",
                "events",
                "cards",
            )
        }
    info = {
        "history_mid": mid,
        "history_exec": mid_exec,
        "model_version": model,
        "counts": counts,
        "seconds": time.perf_counter() - t0,
    }
    (home / "bench_ui.json").write_text(json.dumps(info))
    return info


def instance(plan: Plan, rebuild: bool) -> tuple[Path, dict[str, Any]]:
    """The cached populated home for this size and schema (built when missing)."""
    home = cache_root() / f"ui-{plan.total}-{schema_hash()}"
    done = home / "bench_ui.json"
    if done.is_file() and not rebuild:
        info = json.loads(done.read_text())
        c.figure("instance", f"cached at {home} (built in {info['seconds']:.0f} s)")
        return home, info
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    try:
        info = populate(home, plan)
    except BaseException:
        shutil.rmtree(home, ignore_errors=True)
        raise
    c.figure("populate (engine rows + bulk load + indexes + ANALYZE)", f"{info['seconds']:.0f} s")
    return home, info


# -- measuring -----------------------------------------------------------------------------
def pages(info: dict[str, Any]) -> list[tuple[str, str, float, str]]:
    """(label, path, target, a text the page must hold) of every page measured."""
    mv, mid = int(info["model_version"]), int(info["history_mid"])
    model = f"/artifacts/default/development/blessed_model@{mv}"
    hist = f"/artifacts/default/development/history@{mid}"
    uri = f"hw://default/development/history@{mid}"
    lineage = "/ui/lineage.json?" + urlencode({"uri": uri, "direction": "both", "depth": "1"})
    search = "/?" + urlencode([("partition", "blessed=true")])
    search2 = "/?" + urlencode(
        [("name", "blessed_model"), ("partition", "blessed=true"), ("partition", "region=r07")]
    )
    search3 = "/?" + urlencode([("partition", "region=legacy")])
    search4 = "/?" + urlencode([("name", "blessed_model"), ("partition", "region=legacy")])
    text = "/?" + urlencode([("text", "accuracy")])
    text2 = "/?" + urlencode([("text", f"0.{mv:04d}")])
    times = "/?" + urlencode([("time_from", "2026-01-01"), ("time_to", "2026-12-31")])
    workflow = "hwbench_ui_flows.extend"
    page, fltr = PAGE_TARGET_S, FILTER_TARGET_S
    return [
        ("search /", "/", page, "history@"),
        ("search ?name=blessed_model", "/?name=blessed_model", page, "blessed_model@"),
        ("search ?name=hist*", "/?name=hist%2A", page, f"history@{2 * mid}"),
        ("search ?partition=blessed=true", search, fltr, "blessed=true"),
        ("search name + blessed=true + region=r07", search2, fltr, "region=r07"),
        ("search ?partition=region=legacy (old only)", search3, fltr, "region=legacy"),
        ("search name + region=legacy (old only)", search4, fltr, "region=legacy"),
        ("search ?text=accuracy (every card)", text, page, "blessed_model@"),
        (f"search ?text=0.{mv:04d} (one card)", text2, page, f"blessed_model@{mv}"),
        ("search time partition range (none has one)", times, page, "2026-12-31"),
        ("version: overview (blessed_model)", model, page, f"blessed_model@{mv}"),
        ("version: card", model + "?tab=card", page, "accuracy"),
        ("version: object (blessed_model)", model + "?tab=object", page, f"blessed_model@{mv}"),
        ("version: object (history)", hist + "?tab=object", page, f"history@{mid}"),
        ("version: lineage (blessed_model)", model + "?tab=lineage", page, f"blessed_model@{mv}"),
        ("version: versions (blessed_model)", model + "?tab=versions", page, "blessed_model@"),
        ("version: overview (history)", hist, page, info["history_exec"]),
        ("version: lineage (history)", hist + "?tab=lineage", page, f"history@{mid}"),
        ("version: versions (history)", hist + "?tab=versions", page, "history@"),
        (
            "version: versions + compare",
            model + f"?tab=versions&compare={mv - CARD_EVERY}",
            page,
            f"blessed_model@{mv - CARD_EVERY}",
        ),
        ("/executions", "/executions", page, workflow),
        ("/executions?status=succeeded", "/executions?status=succeeded", page, workflow),
        ("/executions?workflow=…extend", "/executions?workflow=" + quote(workflow), page, workflow),
        ("execution page", f"/executions/{info['history_exec']}", page, f"history@{mid - 1}"),
        ("/launch-plans", "/launch-plans", page, "history_prod"),
        ("launch plan page (busy)", "/launch-plans/history_grow", page, "history_grow"),
        ("launch plan page (rare)", "/launch-plans/history_prod", page, "history_prod"),
        ("/events", "/events", page, "arrived-b"),
        ("/events?name=history.grow", "/events?name=history.grow", page, "grow-1"),
        ("event page", "/events/grow-1", page, "history_prod"),
        ("/ui/lineage.json (history, both, 1 hop)", lineage, page, f"history@{mid + 1}"),
        ("/graph", "/graph", page, "history_grow"),
        ("/ui/graph.json", "/ui/graph.json", page, "history_prod"),
    ]


def start_up(home: Path, log: Path, src: Path) -> tuple[subprocess.Popen[bytes], int]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = c.clean_env(HEADWATER_HOME=str(home), PYTHONPATH=str(src))
    proc = subprocess.Popen(
        [sys.executable, "-m", "headwater.cli", "up", "--workers", "0", "--port", str(port)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return proc, port
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"headwater up did not come up:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)


def measure_pages(port: int, info: dict[str, Any], n: int) -> list[tuple[str, float, float, bool]]:
    conn = HTTPConnection("127.0.0.1", port, timeout=120)
    results = []

    def get(path: str, expect: str = "") -> float:
        t0 = time.perf_counter()
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        took = time.perf_counter() - t0
        c.check(resp.status == 200, f"GET {path}: {resp.status} {body[:300]!r}")
        c.check(expect.encode() in body, f"GET {path}: no {expect!r} in {body[:2000]!r}")
        return took

    for label, path, limit, expect in pages(info):
        get(path, expect)
        for _ in range(2):
            get(path)
        times = [get(path) for _ in range(n)]
        med, p95 = c.median(times), c.percentile(times, 95)
        ok = c.target(f"{label} (median of {n})", med, limit, f"p95 {c.fmt_time(p95)}")
        c.record(f"GET {label} median", med, "s")
        results.append((label, med, p95, ok))
    conn.close()
    return results


# A partition filter over versions as storage/artifact_versions.search_versions wrote it
# before artifact_series (walk every version newest first, test each one's partitions) and
# driven from artifact_partitions (ix_artifact_partitions_key_value_version_id, migration
# 0008): what a version search (not one row per series) costs either way.
_WALK_VERSIONS = (
    "SELECT v.id FROM artifact_versions v JOIN artifacts a ON a.id = v.artifact_id "
    "WHERE {name}EXISTS (SELECT 1 FROM artifact_partitions p0 WHERE p0.version_id = v.id "
    "AND p0.key = ? AND p0.value = ?) ORDER BY v.id DESC LIMIT 204"
)
_FROM_PARTITIONS = (
    "SELECT v.id FROM artifact_partitions p0 JOIN artifact_versions v ON v.id = p0.version_id "
    "JOIN artifacts a ON a.id = v.artifact_id WHERE {name}p0.key = ? AND p0.value = ? "
    "ORDER BY p0.version_id DESC LIMIT 204"
)


def query_shapes(home: Path, n: int) -> None:
    db = sqlite3.connect(f"file:{home / 'headwater.db'}?mode=ro", uri=True)
    try:
        has_index = db.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'ix_artifact_partitions_key_value_version_id'"
        ).fetchone()
        cases = [
            ("blessed=true", "", ("blessed", "true")),
            ("region=legacy", "", ("region", "legacy")),
            ("name=tokenizer, region=r07", "a.name = 'tokenizer' AND ", ("region", "r07")),
        ]
        shapes = [("walk versions (the search before 0007)", _WALK_VERSIONS)]
        if has_index:
            shapes.append(("from artifact_partitions", _FROM_PARTITIONS))
        for label, name, params in cases:
            answers = []
            for shape, sql in shapes:
                q = sql.format(name=name)
                times = []
                for _ in range(max(3, n // 4)):
                    t0 = time.perf_counter()
                    found = [r[0] for r in db.execute(q, params)]
                    times.append(time.perf_counter() - t0)
                answers.append(found)
                c.figure(
                    f"  SQL, partition filter {label}, {shape}",
                    f"median {c.fmt_time(c.median(times))}, {len(found)} rows",
                )
            c.check(all(a == answers[0] for a in answers), f"the shapes disagree on {label}")
    finally:
        db.close()


def first_paint(port: int, info: dict[str, Any], rounds: int) -> list[float]:
    """ms from navigation start to the Lineage tab's first drawn graph, per fresh page."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(c.ROOT))
    from tests.ui.conftest import ARGS, CHROMIUM

    url = (
        f"http://127.0.0.1:{port}/artifacts/default/development/"
        f"history@{info['history_mid']}?tab=lineage"
    )
    found = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            for i in range(rounds + 1):
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                page.goto(url)
                # Polled from here: wait_for_function's predicate would need eval, which
                # the page's Content-Security-Policy forbids. The figure is the page's own
                # clock, so how often this polls does not change it.
                deadline = time.monotonic() + 30
                marker = None
                while marker is None:
                    marker = page.evaluate("document.body.dataset.lineageDrawnAt || null")
                    c.check(time.monotonic() < deadline, "the lineage graph was not drawn in 30 s")
                    if marker is None:
                        time.sleep(0.02)
                drawn = float(marker)
                nodes = page.locator("#lineage-graph g.node").count()
                c.check(nodes >= 3, f"the lineage graph drew {nodes} nodes, expected >= 3")
                if i:  # the first round warms the server and the browser's caches
                    found.append(drawn / 1000)
                context.close()
        finally:
            browser.close()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="10,000 versions (a quick run)")
    parser.add_argument("--quick", action="store_true", help="--small, fewer GETs and loads")
    parser.add_argument("--versions", type=int, default=None, help="total artifact versions")
    parser.add_argument("--requests", type=int, default=10 if c.QUICK else 40)
    parser.add_argument("--paints", type=int, default=3 if c.QUICK else 10)
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium part")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached instance")
    args = parser.parse_args()
    total = args.versions or (10_000 if args.small or args.quick else 1_000_000)
    plan = Plan(total)
    c.install_signal_handlers()
    c.header(
        "bench_ui",
        f"web UI pages served by `headwater up` (SQLite) at {total:,} artifact versions, "
        f"{plan.history - 1:,} executions; Lineage tab first paint in Chromium",
    )
    home, info = instance(plan, args.rebuild)
    c.figure("rows", ", ".join(f"{n:,} {t}" for t, n in info["counts"].items()))
    c.figure("served from", str(code_src()))
    with c.temp_dir("hw-bench-ui-") as tmp:
        proc, port = start_up(home, tmp / "up.log", code_src())
        try:
            measure_pages(port, info, args.requests)
            print("search query shapes (the SQL alone, on the same database):", flush=True)
            query_shapes(home, args.requests)
            chromium = Path(os.environ.get("HEADWATER_TEST_CHROMIUM", "/usr/bin/chromium"))
            if not args.no_browser and not chromium.exists():
                c.figure("Lineage tab first paint", f"SKIPPED, no Chromium at {chromium}")
            elif not args.no_browser:
                paints = first_paint(port, info, args.paints)
                c.figure("lineage tab first paint", c.spread(paints))
                c.record("Lineage tab first paint median", c.median(paints), "s")
                c.target(
                    f"Lineage tab first paint, history@{info['history_mid']} of "
                    f"{plan.history:,} (median of {len(paints)})",
                    c.median(paints),
                    PAINT_TARGET_S,
                    f"p95 {c.fmt_time(c.percentile(paints, 95))}",
                )
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    c.summary()
    return 0


if __name__ == "__main__":
    sys.exit(main())
