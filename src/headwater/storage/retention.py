"""Retention (``headwater gc``): the set-based SQL that plans what to purge, and the batches
that carry it out.

Planning works in temporary tables on one connection (:func:`plan_tables` inside one
``db.read()`` block): ``gc_policy`` (each artifact with a version policy), ``gc_cand`` (the
versions no rule keeps; ``via`` is set to the kept execution that consumed one, which keeps
it), ``gc_xcand`` (the executions old enough to go; ``via`` is set to a kept version one
produced, which keeps it) and ``gc_keys`` (the blobs kept versions use). Every statement
reads whole sets; none loops over rows in Python.

Carrying out: versions become tombstones (``purged_at``/``purged_by`` set, value replaced, cards
dropped), then executions with their node records, edges and links are deleted, then old
events and decisions; each batch commits on its own, so a run cut short leaves a consistent
database and a rerun plans again from what is left.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from headwater.storage import plan_runs
from headwater.storage.db import Tx, in_list

TERMINAL_EXCLUDED = ("queued", "running")  # statuses of executions that are never purged
TEMP_TABLES = ("gc_policy", "gc_cand", "gc_xcand", "gc_keys", "gc_rescued", "gc_series")


@dataclass(frozen=True, slots=True)
class PolicyRow:
    """One artifact's version policy: ``keep_before`` is an epoch time (versions created
    before it may go), ``policy`` the name tombstones record."""

    artifact_id: int
    keep_last: int | None
    keep_before: float | None
    policy: str


def _blob_of(tx: Tx, column: str) -> str:
    if tx.dialect == "postgresql":
        return f"({column}::json ->> 'blob')"
    return f"json_extract({column}, '$.blob')"


def _size_of(tx: Tx, column: str) -> str:
    if tx.dialect == "postgresql":
        return f"COALESCE(({column}::json ->> 'size')::bigint, 0)"
    return f"COALESCE(json_extract({column}, '$.size'), 0)"


# -- planning ---------------------------------------------------------------------------------


def artifacts(tx: Tx) -> list[Any]:
    """Every artifact: id, project, domain, name."""
    return tx.all("SELECT id, project, domain, name FROM artifacts ORDER BY id")


def drop_plan_tables(tx: Tx) -> None:
    for name in TEMP_TABLES:
        tx.execute(f"DROP TABLE IF EXISTS {name}")


def plan_tables(
    tx: Tx,
    policies: Sequence[PolicyRow],
    executions_before: float | None,
    pinned: dict[int, str] | None = None,
) -> tuple[int, int]:
    """Fill the plan's temporary tables; how many versions and executions would go.

    ``executions_before``: terminal executions that finished before it may go (None: none).
    ``pinned``: versions kept whatever the rules say, with why (``via``, e.g. a launch plan).
    """
    drop_plan_tables(tx)
    real = "DOUBLE PRECISION" if tx.dialect == "postgresql" else "REAL"
    tx.execute(
        "CREATE TEMP TABLE gc_policy (artifact_id BIGINT PRIMARY KEY, keep_last INTEGER, "
        f"keep_before {real}, policy TEXT NOT NULL)"
    )
    tx.execute("CREATE TEMP TABLE gc_cand (id BIGINT PRIMARY KEY, artifact_id BIGINT, via TEXT)")
    tx.execute("CREATE TEMP TABLE gc_xcand (id TEXT PRIMARY KEY, via BIGINT)")
    tx.execute("CREATE TEMP TABLE gc_keys (k TEXT PRIMARY KEY)")
    tx.execute(
        "CREATE TEMP TABLE gc_series (artifact_id BIGINT, partition_key TEXT, time_key TEXT, "
        "latest_id BIGINT, threshold BIGINT, PRIMARY KEY (artifact_id, partition_key, time_key))"
    )
    tx.many(
        "INSERT INTO gc_policy (artifact_id, keep_last, keep_before, policy) "
        "VALUES (:a, :n, :b, :p)",
        [
            {"a": p.artifact_id, "n": p.keep_last, "b": p.keep_before, "p": p.policy}
            for p in policies
        ],
    )
    _thresholds(tx, sorted({p.keep_last for p in policies if p.keep_last is not None}))
    # below its series' threshold (so never the newest) and older than keep_days; the
    # versions are read once, each probing its series (CROSS JOIN: SQLite keeps this order)
    tx.execute(
        "INSERT INTO gc_cand (id, artifact_id) SELECT v.id, v.artifact_id FROM "
        "artifact_versions v CROSS JOIN gc_series s CROSS JOIN gc_policy p WHERE "
        f"{_SERIES_OF_V} AND p.artifact_id = v.artifact_id AND v.purged_at IS NULL "
        "AND v.id < s.threshold AND (p.keep_before IS NULL OR v.created_at < p.keep_before)"
    )
    tx.many(
        "UPDATE gc_cand SET via = :why WHERE id = :v",
        [{"v": v, "why": why} for v, why in (pinned or {}).items()],
    )
    if executions_before is not None:
        marks, params = in_list("s", list(TERMINAL_EXCLUDED))
        tx.execute(
            "INSERT INTO gc_xcand (id) SELECT id FROM executions WHERE "
            f"status NOT IN {marks} AND COALESCE(finished_at, created_at) < :before",
            {**params, "before": executions_before},
        )
    _protect_through_lineage(tx)
    versions = int(tx.scalar("SELECT COUNT(*) FROM gc_cand WHERE via IS NULL") or 0)
    execs = int(tx.scalar("SELECT COUNT(*) FROM gc_xcand WHERE via IS NULL") or 0)
    return versions, execs


_SERIES_OF_V = (
    "s.artifact_id = v.artifact_id AND s.partition_key = v.partition_key "
    "AND s.time_key = COALESCE(v.time_partition, '')"
)


def _thresholds(tx: Tx, keep_lasts: Sequence[int]) -> None:
    """``gc_series``: each series of an artifact with a policy, its newest version, and its
    threshold: versions below it are not among the last ``keep_last`` (no ``keep_last``: the
    newest; fewer versions than that: 0). Each is one walk of ``ix_av_pkey_time`` from the
    newest, per series; no ranking of every version."""
    tx.execute(
        "INSERT INTO gc_series (artifact_id, partition_key, time_key, latest_id, threshold) "
        "SELECT s.artifact_id, s.partition_key, s.time_key, s.latest_id, s.latest_id "
        "FROM artifact_series s WHERE s.artifact_id IN (SELECT artifact_id FROM gc_policy)"
    )
    for n in keep_lasts:
        for where, time_cond in (
            ("time_key = ''", "v.time_partition IS NULL"),
            ("time_key <> ''", "v.time_partition = gc_series.time_key"),
        ):
            tx.execute(
                "UPDATE gc_series SET threshold = COALESCE((SELECT v.id FROM artifact_versions v "
                "WHERE v.artifact_id = gc_series.artifact_id AND v.partition_key = "
                f"gc_series.partition_key AND {time_cond} AND v.purged_at IS NULL "
                f"ORDER BY v.id DESC LIMIT 1 OFFSET {int(n) - 1}), 0) WHERE {where} AND "
                "artifact_id IN (SELECT artifact_id FROM gc_policy WHERE keep_last = :n)",
                {"n": n},
            )


def _protect_through_lineage(tx: Tx) -> None:
    """Keep what lineage needs, in one recursive query (a chain of a hundred thousand
    generations is one statement, not a hundred thousand): a candidate a kept execution
    consumed is kept; an old execution that produced a kept version is kept, and keeps what it
    consumed in turn (the ancestors of every kept version). Then ``via`` records why: for a
    version the execution that consumed it, for an execution a kept version it produced."""
    tx.execute("DROP TABLE IF EXISTS gc_rescued")
    tx.execute("CREATE TEMP TABLE gc_rescued (id BIGINT PRIMARY KEY)")

    # Each test is a primary-key probe: an ``IN (subquery)`` inside the recursive part would
    # be rebuilt at every step of the recursion.
    def cand(col: str) -> str:
        return f"EXISTS (SELECT 1 FROM gc_cand c WHERE c.id = {col} AND c.via IS NULL)"

    def live(col: str) -> str:
        return (
            f"NOT {cand(col)} AND NOT EXISTS (SELECT 1 FROM artifact_versions v "
            f"WHERE v.id = {col} AND v.purged_at IS NOT NULL)"
        )

    def old(col: str) -> str:
        return f"EXISTS (SELECT 1 FROM gc_xcand x WHERE x.id = {col})"

    tx.execute(
        "INSERT INTO gc_rescued (id) WITH RECURSIVE kept_v(id) AS ("
        # consumed by an execution that is not old enough to go
        "SELECT l.version_id FROM lineage_edges l WHERE l.direction = 'consumed' "
        f"AND {cand('l.version_id')} AND NOT {old('l.execution_id')} "
        # consumed by an old execution that produced a version no rule lets go
        "UNION SELECT l.version_id FROM lineage_edges l WHERE l.direction = 'consumed' "
        f"AND {cand('l.version_id')} AND {old('l.execution_id')} AND EXISTS (SELECT 1 FROM "
        "lineage_edges p WHERE p.execution_id = l.execution_id AND p.direction = 'produced' "
        f"AND {live('p.version_id')}) "
        # consumed by an old execution that produced a version kept through lineage
        "UNION SELECT l.version_id FROM kept_v k JOIN lineage_edges p ON p.version_id = k.id "
        "AND p.direction = 'produced' JOIN gc_xcand x ON x.id = p.execution_id "
        "JOIN lineage_edges l ON l.execution_id = x.id AND l.direction = 'consumed' "
        f"WHERE {cand('l.version_id')}"
        ") SELECT id FROM kept_v"
    )
    kept_version = (
        "(EXISTS (SELECT 1 FROM gc_rescued r WHERE r.id = l.version_id) OR "
        f"({live('l.version_id')}))"
    )
    tx.execute(
        "UPDATE gc_xcand SET via = (SELECT MIN(l.version_id) FROM lineage_edges l WHERE "
        f"l.execution_id = gc_xcand.id AND l.direction = 'produced' AND {kept_version}) "
        "WHERE EXISTS (SELECT 1 FROM lineage_edges l WHERE "
        f"l.execution_id = gc_xcand.id AND l.direction = 'produced' AND {kept_version})"
    )
    tx.execute(
        "UPDATE gc_cand SET via = (SELECT MIN(l.execution_id) FROM lineage_edges l WHERE "
        "l.version_id = gc_cand.id AND l.direction = 'consumed' AND NOT EXISTS (SELECT 1 "
        "FROM gc_xcand x WHERE x.id = l.execution_id AND x.via IS NULL)) "
        "WHERE id IN (SELECT id FROM gc_rescued)"
    )


@dataclass(frozen=True, slots=True)
class ArtifactCounts:
    """Per artifact: live versions by what keeps them, and what the plan purges."""

    artifact_id: int
    live: int
    latest: int
    last_n: int
    newer: int
    lineage: int
    purge: int
    bytes: int


def artifact_counts(tx: Tx) -> list[ArtifactCounts]:
    """The counts of every artifact with a policy (after :func:`plan_tables`)."""
    ranked = tx.all(
        "SELECT v.artifact_id, COUNT(*) AS live, "
        "SUM(CASE WHEN v.id = s.latest_id THEN 1 ELSE 0 END) AS latest, "
        "SUM(CASE WHEN v.id <> s.latest_id AND v.id >= s.threshold THEN 1 ELSE 0 END) AS last_n, "
        "SUM(CASE WHEN v.id < s.threshold AND p.keep_before IS NOT NULL AND "
        "v.created_at >= p.keep_before THEN 1 ELSE 0 END) AS newer "
        "FROM artifact_versions v CROSS JOIN gc_series s CROSS JOIN gc_policy p WHERE "
        f"{_SERIES_OF_V} AND p.artifact_id = v.artifact_id AND v.purged_at IS NULL "
        "GROUP BY v.artifact_id"
    )
    cand = {
        r["artifact_id"]: (int(r["lineage"] or 0), int(r["purge"] or 0))
        for r in tx.all(
            "SELECT artifact_id, SUM(CASE WHEN via IS NULL THEN 0 ELSE 1 END) AS lineage, "
            "SUM(CASE WHEN via IS NULL THEN 1 ELSE 0 END) AS purge FROM gc_cand "
            "GROUP BY artifact_id"
        )
    }
    freed = _bytes_freed(tx)
    out = []
    for r in ranked:
        a = int(r["artifact_id"])
        lineage, purge = cand.get(a, (0, 0))
        out.append(
            ArtifactCounts(
                a,
                int(r["live"]),
                int(r["latest"] or 0),
                int(r["last_n"] or 0),
                int(r["newer"] or 0),
                lineage,
                purge,
                freed.get(a, 0),
            )
        )
    return out


def _bytes_freed(tx: Tx) -> dict[int, int]:
    """Per artifact, the bytes of the blobs its purged versions hold that no live version
    (of any artifact) keeps: values are content-addressed and shared across versions. A
    purged version whose producing execution stays frees nothing: that execution's outputs
    still name the blob."""
    blob = _blob_of(tx, "v.value")
    tx.execute(
        f"INSERT INTO gc_keys (k) SELECT DISTINCT {blob} FROM artifact_versions v WHERE "
        f"v.purged_at IS NULL AND {blob} IS NOT NULL AND v.id NOT IN "
        "(SELECT c.id FROM gc_cand c WHERE c.via IS NULL)"
    )
    found = tx.all(
        f"SELECT d.artifact_id, SUM(d.size) AS freed FROM (SELECT DISTINCT c.artifact_id, "
        f"{blob} AS k, {_size_of(tx, 'v.value')} AS size FROM gc_cand c JOIN "
        "artifact_versions v ON v.id = c.id WHERE c.via IS NULL AND (v.execution_id IS NULL "
        "OR v.execution_id NOT IN (SELECT id FROM executions) OR v.execution_id IN "
        "(SELECT x.id FROM gc_xcand x WHERE x.via IS NULL))) d WHERE d.k IS NOT NULL "
        "AND d.k NOT IN (SELECT k FROM gc_keys) GROUP BY d.artifact_id"
    )
    return {int(r["artifact_id"]): int(r["freed"] or 0) for r in found}


def no_policy_counts(tx: Tx) -> dict[int, int]:
    """Live versions of the artifacts without a version policy (all kept)."""
    found = tx.all(
        "SELECT v.artifact_id, COUNT(*) AS n FROM artifact_versions v WHERE v.purged_at IS NULL "
        "AND v.artifact_id NOT IN (SELECT artifact_id FROM gc_policy) GROUP BY v.artifact_id"
    )
    return {int(r["artifact_id"]): int(r["n"]) for r in found}


@dataclass(frozen=True, slots=True)
class PlannedVersion:
    """A version in the plan: ``via`` is the execution that keeps it (None: purged)."""

    id: int
    artifact_id: int
    version: str
    policy: str
    via: str | None


def planned_versions(tx: Tx, *, kept: bool, limit: int) -> list[PlannedVersion]:
    """The first ``limit`` versions the plan purges (or keeps through lineage), oldest first."""
    cond = "c.via IS NOT NULL" if kept else "c.via IS NULL"
    found = tx.all(
        "SELECT c.id, c.artifact_id, v.version, p.policy, c.via FROM gc_cand c JOIN "
        "artifact_versions v ON v.id = c.id JOIN gc_policy p ON p.artifact_id = c.artifact_id "
        f"WHERE {cond} ORDER BY c.id LIMIT :n",
        {"n": limit},
    )
    return [
        PlannedVersion(
            int(r["id"]), int(r["artifact_id"]), str(r["version"]), r["policy"], r["via"]
        )
        for r in found
    ]


def kept_execution_reasons(tx: Tx, execution_ids: Sequence[str]) -> dict[str, int | None]:
    """For these executions: the kept version that keeps an old one (None: it is not old
    enough to go, or it is still running). Executions not listed are not in the plan."""
    if not execution_ids:
        return {}
    marks, params = in_list("e", list(execution_ids))
    found = tx.all(f"SELECT id, via FROM gc_xcand WHERE id IN {marks}", params)
    vias = {r["id"]: r["via"] for r in found}
    return {e: (int(vias[e]) if vias.get(e) is not None else None) for e in vias}


def version_labels(tx: Tx, ids: Sequence[int]) -> dict[int, str]:
    """``hw://project/domain/name@version`` of these versions."""
    if not ids:
        return {}
    marks, params = in_list("v", list(ids))
    found = tx.all(
        "SELECT v.id, a.project, a.domain, a.name, v.version FROM artifact_versions v "
        f"JOIN artifacts a ON a.id = v.artifact_id WHERE v.id IN {marks}",
        params,
    )
    return {
        int(r["id"]): f"hw://{r['project']}/{r['domain']}/{r['name']}@{r['version']}" for r in found
    }


def kept_executions_count(tx: Tx) -> int:
    return int(tx.scalar("SELECT COUNT(*) FROM gc_xcand WHERE via IS NOT NULL") or 0)


def version_batch(tx: Tx, *, after: int, limit: int) -> list[tuple[int, str]]:
    """The next planned purges after id ``after``: (version id, policy)."""
    found = tx.all(
        "SELECT c.id, p.policy FROM gc_cand c JOIN gc_policy p ON p.artifact_id = c.artifact_id "
        "WHERE c.via IS NULL AND c.id > :after ORDER BY c.id LIMIT :n",
        {"after": after, "n": limit},
    )
    return [(int(r["id"]), str(r["policy"])) for r in found]


def execution_batch(tx: Tx, *, after: str, limit: int) -> list[str]:
    """The next planned execution deletions after id ``after``."""
    found = tx.all(
        "SELECT id FROM gc_xcand WHERE via IS NULL AND id > :after ORDER BY id LIMIT :n",
        {"after": after, "n": limit},
    )
    return [str(r["id"]) for r in found]


# -- carrying it out ----------------------------------------------------------------------------


def purge_versions(tx: Tx, ids: Sequence[int], *, policy: str, now: float, started: float) -> int:
    """Make these versions tombstones; how many were purged. Re-checked here, as the plan may
    be older than the rows: a version that has become its series' newest, or that an
    execution created since the plan started consumed, stays."""
    if not ids:
        return 0
    marks, params = in_list("v", list(ids))
    tomb = json.dumps(
        {"format": "purged", "size": 0, "preview": f"purged by {policy}"}, sort_keys=True
    )
    changed = tx.execute(
        f"UPDATE artifact_versions SET purged_at = :now, purged_by = :p, value = :tomb "
        f"WHERE id IN {marks} AND purged_at IS NULL "
        "AND id NOT IN (SELECT latest_id FROM artifact_series) "
        "AND id NOT IN (SELECT l.version_id FROM lineage_edges l JOIN executions x ON "
        "x.id = l.execution_id WHERE l.direction = 'consumed' AND x.created_at >= :started)",
        {**params, "now": now, "p": policy, "tomb": tomb, "started": started},
    ).rowcount
    tx.execute(
        f"DELETE FROM cards WHERE version_id IN {marks} AND version_id IN "
        "(SELECT id FROM artifact_versions WHERE purged_at IS NOT NULL)",
        params,
    )
    return int(changed or 0)


def delete_executions(tx: Tx, ids: Sequence[str]) -> int:
    """Delete these (terminal) executions with their node records, lineage edges and links."""
    if not ids:
        return 0
    marks, params = in_list("e", list(ids))
    ex, ex_params = in_list("s", list(TERMINAL_EXCLUDED))
    params.update(ex_params)
    done = f"(SELECT id FROM executions WHERE id IN {marks} AND status NOT IN {ex})"
    tx.execute(f"DELETE FROM node_executions WHERE execution_id IN {done}", params)
    plan_runs.forget(tx, done, params)
    tx.execute(f"DELETE FROM lineage_edges WHERE execution_id IN {done}", params)
    tx.execute(
        f"DELETE FROM execution_links WHERE execution_id IN {done} OR upstream_id IN {done}",
        params,
    )
    return int(
        tx.execute(
            f"DELETE FROM executions WHERE id IN {marks} AND status NOT IN {ex}", params
        ).rowcount
        or 0
    )


_OLD_EVENTS = (
    "FROM events WHERE time < :before AND seq < (SELECT MAX(seq) FROM events) "
    "AND seq NOT IN (SELECT seq FROM reactor_inbox) "
    "AND seq NOT IN (SELECT event_seq FROM trigger_state) "
    "AND seq NOT IN (SELECT event_seq FROM executions WHERE event_seq IS NOT NULL)"
)
# the newest row of each table stays: its id is where the next one counts on from (SQLite
# reuses the ids above the largest left), and /metrics counts rows past the last id it saw
_OLD_DECISIONS = (
    "FROM trigger_decisions WHERE created_at < :before "
    "AND id < (SELECT MAX(id) FROM trigger_decisions) "
    "AND event_seq NOT IN (SELECT seq FROM reactor_inbox)"
)


def count_old_events(tx: Tx, before: float) -> tuple[int, int]:
    """How many events and decisions :func:`delete_old_events` would delete."""
    events = tx.scalar(f"SELECT COUNT(*) {_OLD_EVENTS}", {"before": before})
    decisions = tx.scalar(f"SELECT COUNT(*) {_OLD_DECISIONS}", {"before": before})
    return int(events or 0), int(decisions or 0)


def delete_old_events(tx: Tx, before: float, limit: int) -> tuple[int, int]:
    """Delete up to ``limit`` old events and decisions (never an event the reactor has not
    decided, one a pending trigger holds, one that started a kept execution, nor the newest
    row of either table); how many of each went."""
    decisions = tx.execute(
        f"DELETE FROM trigger_decisions WHERE id IN (SELECT id {_OLD_DECISIONS} "
        "ORDER BY id LIMIT :n)",
        {"before": before, "n": limit},
    ).rowcount
    events = tx.execute(
        f"DELETE FROM events WHERE seq IN (SELECT seq {_OLD_EVENTS} ORDER BY seq LIMIT :n)",
        {"before": before, "n": limit},
    ).rowcount
    return int(events or 0), int(decisions or 0)


# -- blobs ----------------------------------------------------------------------------------------

# (table, key column, text columns): every place a stored value or a blob key is written
_REFERENCING = (
    ("artifact_versions", "id", ("value",)),
    ("executions", "id", ("inputs", "resolved", "outputs")),
    ("node_executions", "id", ("inputs", "outputs")),
    ("code_snapshots", "digest", ("blob_key",)),
    ("events", "seq", ("payload",)),
    ("entities", "id", ("spec",)),
    ("launch_plans", "id", ("spec",)),
    ("cards", "id", ("text",)),
)


def referencing_texts(tx: Tx, *, page: int = 5000) -> Iterator[str]:
    """Every stored text that may name a blob key, a page of rows at a time."""
    for table, key, columns in _REFERENCING:
        after: Any = None
        while True:
            where = "" if after is None else f"WHERE {key} > :after "
            cols = ", ".join(columns)
            rows = tx.all(
                f"SELECT {key} AS k, {cols} FROM {table} {where}ORDER BY {key} LIMIT :n",
                {"after": after, "n": page},
            )
            for r in rows:
                for c in columns:
                    if r[c]:
                        yield str(r[c])
            if len(rows) < page:
                break
            after = rows[-1]["k"]


@dataclass(frozen=True, slots=True)
class Marks:
    """Where each referencing table ended when a blob sweep started."""

    version_id: int
    node_id: int
    created_at: float


def marks(tx: Tx, now: float) -> Marks:
    return Marks(
        int(tx.scalar("SELECT COALESCE(MAX(id), 0) FROM artifact_versions") or 0),
        int(tx.scalar("SELECT COALESCE(MAX(id), 0) FROM node_executions") or 0),
        now,
    )


def texts_since(tx: Tx, since: Marks) -> Iterator[str]:
    """The texts written after ``since``: what a sweep re-reads before deleting."""
    for r in tx.all("SELECT value FROM artifact_versions WHERE id > :v", {"v": since.version_id}):
        yield str(r["value"])
    for r in tx.all(
        "SELECT inputs, resolved, outputs FROM executions WHERE created_at >= :t "
        "OR finished_at >= :t OR finished_at IS NULL",
        {"t": since.created_at},
    ):
        yield from (str(r[c]) for c in ("inputs", "resolved", "outputs") if r[c])
    for r in tx.all(
        "SELECT inputs, outputs FROM node_executions WHERE id > :n OR finished_at IS NULL "
        "OR finished_at >= :t",
        {"n": since.node_id, "t": since.created_at},
    ):
        yield from (str(r[c]) for c in ("inputs", "outputs") if r[c])


# -- tombstones ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tombstone:
    """When, and by which policy, a version was purged."""

    version_id: int
    purged_at: float
    purged_by: str

    def describe(self, uri: str) -> str:
        """``hw://p/d/name@3 was purged on 2026-12-03 08:00:00Z by policy <p>; ...``"""
        when = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(self.purged_at))
        return (
            f"{uri} was purged on {when} by policy {self.purged_by}; its lineage is still "
            "recorded, its value is gone (query the artifact for a version that is kept)"
        )


def tombstones(tx: Tx, version_ids: Sequence[int]) -> dict[int, Tombstone]:
    """The purged versions among these ids."""
    if not version_ids:
        return {}
    marks_, params = in_list("v", list(version_ids))
    found = tx.all(
        "SELECT id, purged_at, purged_by FROM artifact_versions "
        f"WHERE id IN {marks_} AND purged_at IS NOT NULL",
        params,
    )
    return {
        int(r["id"]): Tombstone(int(r["id"]), float(r["purged_at"]), str(r["purged_by"] or ""))
        for r in found
    }
