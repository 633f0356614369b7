"""The ``artifact_versions`` table: immutable versions of artifacts, and every query for them.

Reads join ``artifacts`` for the name a version is known by and return
:class:`ArtifactVersionRow`; the partition filters of :func:`find_latest` and
:func:`search_versions` also read ``artifact_partitions``, its card-text filter ``cards``,
and its ``latest`` search ``artifact_series``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlencode

from headwater.storage import artifact_series
from headwater.storage.db import Tx, in_list
from headwater.storage.retention import Tombstone


@dataclass(frozen=True, slots=True)
class ArtifactVersionRow:
    """Every column of an ``artifact_versions`` row, then its artifact's ``project``,
    ``domain``, ``name`` and ``spec`` (joined from ``artifacts``): what every read here returns.

    ``partitions``, ``value`` and ``spec`` are JSON text; ``partition_key`` is the partitions
    as one text (definitions/names.py ``partition_key_text``).
    """

    id: int
    artifact_id: int
    version: str
    partition_key: str
    partitions: str
    time_partition: str | None
    value: str
    execution_id: str | None
    node_id: str | None
    output_name: str | None
    created_at: float
    project: str
    domain: str
    name: str
    spec: str

    @classmethod
    def from_db(cls, r: Any) -> ArtifactVersionRow:
        """From a row of ``SELECT {VERSION_COLUMNS}`` (sqlite3.Row or psycopg dict row)."""
        # By position: VERSION_COLUMNS lists the fields in order (it is built from them).
        # Reading 15 columns of a sqlite3.Row by name takes as long again as building the row.
        return cls(*(r.values() if isinstance(r, dict) else r))


_FROM_ARTIFACT = ("project", "domain", "name", "spec")
VERSION_COLUMNS = ", ".join(
    f"{'a' if f.name in _FROM_ARTIFACT else 'v'}.{f.name}" for f in fields(ArtifactVersionRow)
)


def _one(r: Any) -> ArtifactVersionRow | None:
    return None if r is None else ArtifactVersionRow.from_db(r)


def insert_version(
    tx: Tx,
    *,
    artifact_id: int,
    version: str,
    partitions: dict[str, str],
    partition_key: str,
    time_partition: str | None,
    value: dict[str, Any],
    execution_id: str | None,
    node_id: str | None,
    output_name: str | None,
    now: float,
) -> int:
    """Insert a version (``version`` from storage.artifacts.next_version) and make it its
    series' newest (storage.artifact_series); its id. Its partitions and cards are written by
    storage.artifact_partitions and storage.cards."""
    version_id = int(
        tx.scalar(
            "INSERT INTO artifact_versions (artifact_id, version, partition_key, partitions, "
            "time_partition, value, execution_id, node_id, output_name, created_at) VALUES "
            "(:a, :v, :pk, :parts, :tp, :val, :e, :n, :o, :t) RETURNING id",
            {
                "a": artifact_id,
                "v": version,
                "pk": partition_key,
                "parts": json.dumps(partitions, sort_keys=True),
                "tp": time_partition,
                "val": json.dumps(value, sort_keys=True),
                "e": execution_id,
                "n": node_id,
                "o": output_name,
                "t": now,
            },
        )
    )
    artifact_series.record_version(
        tx,
        artifact_id=artifact_id,
        partition_key=partition_key,
        time_partition=time_partition,
        version_id=version_id,
    )
    return version_id


def get_version(tx: Tx, artifact_id: int, version: str) -> ArtifactVersionRow | None:
    """Version ``version`` (its text, e.g. ``"3"``) of an artifact, or None."""
    return _one(
        tx.one(
            f"SELECT {VERSION_COLUMNS} FROM artifact_versions v JOIN artifacts a ON "
            "a.id = v.artifact_id WHERE v.artifact_id = :a AND v.version = :v",
            {"a": artifact_id, "v": version},
        )
    )


def get_named_version(
    tx: Tx, project: str, domain: str, name: str, version: str
) -> tuple[ArtifactVersionRow, Tombstone | None] | None:
    """Version ``version`` of the artifact ``name`` of ``project``/``domain`` and its
    tombstone (None: kept), in one statement; None when there is no such version."""
    r = tx.one(
        f"SELECT {VERSION_COLUMNS}, v.purged_at AS _purged_at, v.purged_by AS _purged_by "
        "FROM artifact_versions v JOIN artifacts a ON a.id = v.artifact_id "
        "WHERE a.project = :p AND a.domain = :d AND a.name = :n AND v.version = :v",
        {"p": project, "d": domain, "n": name, "v": version},
    )
    if r is None:
        return None
    *values, purged_at, purged_by = r.values() if isinstance(r, dict) else r
    return _kept_or_purged(values, purged_at, purged_by)


def _kept_or_purged(
    values: list[Any], purged_at: Any, purged_by: Any
) -> tuple[ArtifactVersionRow, Tombstone | None]:
    row = ArtifactVersionRow.from_db(values)
    if purged_at is None:
        return row, None
    return row, Tombstone(row.id, float(purged_at), str(purged_by or ""))


# The versions the artifact.created events among the next ``:n`` in the reactor's inbox name
# (as ``pending_events`` reads them: the inbox's first ``:n`` by seq), by the event's subject.
# Each step is a LATERAL ... LIMIT 1 so that it stays a lookup by key per inbox row whatever
# the statistics say: joined plainly, the planner scanned every event of that name (the whole
# history) and every version of the artifact (one burst: quadratic).
_PENDING_VERSIONS = (
    f"SELECT e.subject AS _uri, {VERSION_COLUMNS}, v.purged_at AS _purged_at, "
    "v.purged_by AS _purged_by FROM (SELECT seq FROM reactor_inbox ORDER BY seq LIMIT :n) q "
    "JOIN LATERAL (SELECT subject, project, domain, CAST(payload AS jsonb) AS p FROM events "
    "WHERE seq = q.seq AND name = :event LIMIT 1) e ON true "
    "JOIN LATERAL (SELECT * FROM artifacts WHERE project = e.project AND domain = e.domain "
    "AND name = e.p ->> 'artifact' LIMIT 1) a ON true "
    "JOIN LATERAL (SELECT * FROM artifact_versions WHERE artifact_id = a.id "
    "AND version = e.p ->> 'version' LIMIT 1) v ON true"
)
# SQLite has no LATERAL; its planner takes these joins by key as written.
_PENDING_VERSIONS_SQLITE = (
    f"SELECT e.subject AS _uri, {VERSION_COLUMNS}, v.purged_at AS _purged_at, "
    "v.purged_by AS _purged_by FROM (SELECT seq FROM reactor_inbox ORDER BY seq LIMIT :n) q "
    "JOIN events e ON e.seq = q.seq AND e.name = :event "
    "JOIN artifacts a ON a.project = e.project AND a.domain = e.domain "
    "AND a.name = json_extract(e.payload, '$.artifact') "
    "JOIN artifact_versions v ON v.artifact_id = a.id "
    "AND v.version = json_extract(e.payload, '$.version')"
)


def pending_versions_later(
    tx: Tx, limit: int, event: str
) -> Callable[[], dict[str, tuple[ArtifactVersionRow, Tombstone | None]]]:
    """The versions that the ``event`` events (``artifact.created``) among the next
    ``limit`` waiting in the reactor's inbox were written for, with their tombstones, by the
    event's subject (the version's URI): one statement for a batch instead of one per
    version. Sent now, read when the returned function is called: in a pipelined PostgreSQL
    transaction it goes in the round trip of the events' own read."""
    sql = _PENDING_VERSIONS if tx.dialect == "postgresql" else _PENDING_VERSIONS_SQLITE
    cur = tx.execute(sql, {"n": limit, "event": event})

    def read() -> dict[str, tuple[ArtifactVersionRow, Tombstone | None]]:
        out: dict[str, tuple[ArtifactVersionRow, Tombstone | None]] = {}
        for r in cur.fetchall():
            uri, *values, purged_at, purged_by = r.values() if isinstance(r, dict) else r
            out[str(uri)] = _kept_or_purged(values, purged_at, purged_by)
        return out

    return read


def get_versions_by_id(tx: Tx, ids: list[int]) -> list[ArtifactVersionRow]:
    """The versions with these ids that exist, in no particular order."""
    if not ids:
        return []
    marks, params = in_list("i", ids)
    found = tx.all(
        f"SELECT {VERSION_COLUMNS} FROM artifact_versions v JOIN artifacts a ON "
        f"a.id = v.artifact_id WHERE v.id IN {marks}",
        params,
    )
    return [ArtifactVersionRow.from_db(r) for r in found]


def find_latest(
    tx: Tx,
    artifact_id: int,
    partitions: dict[str, str],
    time_partition: str | None,
    all_keys: bool,
    partition_key: str = "",
) -> ArtifactVersionRow | None:
    """The newest version matching; each shape of query walks one index backwards.

    ``all_keys``: ``partitions`` names every declared key, so ``partition_key`` (their
    text) is matched on the version itself; otherwise each given partition is matched through
    ``artifact_partitions`` (joined once per key).

    ``CROSS JOIN`` fixes SQLite's join order to the one written (PostgreSQL plans it freely):
    with statistics showing one artifact, SQLite would otherwise start from ``artifacts`` and
    sort every version of it (~1 s at a million versions instead of ~20 µs).
    """
    params: dict[str, Any] = {"a": artifact_id}
    tp = ""
    if time_partition is not None:
        tp = " AND v.time_partition = :tp"
        params["tp"] = time_partition
    if all_keys or not partitions:
        pk = ""
        if all_keys:
            pk = " AND v.partition_key = :pk"
            params["pk"] = partition_key
        return _one(
            tx.one(
                f"SELECT {VERSION_COLUMNS} FROM artifact_versions v CROSS JOIN artifacts a "
                f"WHERE a.id = v.artifact_id AND v.artifact_id = :a{pk}{tp} "
                "AND v.purged_at IS NULL ORDER BY v.id DESC LIMIT 1",
                params,
            )
        )
    tables, conds = ["artifact_partitions p0"], []
    for i, (k, v) in enumerate(sorted(partitions.items())):
        params[f"k{i}"], params[f"v{i}"] = k, v
        if i:
            tables.append(f"artifact_partitions p{i}")
            conds.append(
                f"p{i}.version_id = p0.version_id AND p{i}.key = :k{i} AND p{i}.value = :v{i}"
            )
    tables += ["artifact_versions v", "artifacts a"]
    conds += ["v.id = p0.version_id", "a.id = v.artifact_id", "v.purged_at IS NULL"]
    return _one(
        tx.one(
            f"SELECT {VERSION_COLUMNS} FROM {' CROSS JOIN '.join(tables)} "
            f"WHERE p0.artifact_id = :a AND p0.key = :k0 AND p0.value = :v0{tp} AND "
            f"{' AND '.join(conds)} ORDER BY p0.version_id DESC LIMIT 1",
            params,
        )
    )


def search_versions(
    tx: Tx,
    *,
    name: str | None,
    partitions: dict[str, str],
    since: float | None,
    until: float | None,
    project: str | None,
    domain: str | None,
    limit: int,
    time_from: str | None = None,
    time_to: str | None = None,
    card_words: Sequence[str] = (),
    latest: bool = False,
    offset: int = 0,
) -> list[ArtifactVersionRow]:
    """Versions newest first, ``limit`` of them after skipping ``offset``: ``name`` exact or
    with ``*`` wildcards, every given partition (``artifact_partitions``), created in
    ``[since, until)``, time partition in ``[time_from, time_to]`` (stored text, compared as
    text: it sorts as time; a version without one never matches a range), and cards holding
    every word of ``card_words``.

    ``latest``: one row per series (artifact, partitions, time partition), its newest version
    among those matching, paged with LIMIT/OFFSET on the server. Without a filter that differs
    between the versions of a series (creation time, card words) that is the series' newest
    version, read from ``artifact_series`` newest first (``ix_artifact_series_latest_id``): the
    cost is the series read, whatever the number of versions. With card words alone, the
    matching cards are grouped by the series they keep (``MAX(version_id)``): the cost is the
    cards that match. With a creation time, the versions matching it are grouped by series:
    the cost is the versions that match.

    Card words: a case-insensitive ``LIKE '%word%'`` over the ``cards`` of a version (one
    scan of ``cards`` per word, no full-text index) — acceptable on SQLite and PostgreSQL
    at this size; SQLite folds ASCII letters only, PostgreSQL every letter.
    """
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    varying = _version_filters(tx, "m" if latest else "v", since, until, card_words, params)
    order = "v.id"
    if latest and not varying:
        # every version of a series matches alike: page the series by their newest version
        tables = (
            "artifact_series s JOIN artifacts a ON a.id = s.artifact_id "
            "JOIN artifact_versions v ON v.id = s.latest_id"
        )
        where = _on_series(tx, name, partitions, project, domain, time_from, time_to, params)
        # An exact name is a few series: PostgreSQL, planning for LIMIT, would rather walk
        # every series newest first looking for them; "+ 0" makes it read them and sort.
        order = "s.latest_id + 0" if name is not None and "*" not in name else "s.latest_id"
    elif latest and since is None and until is None:
        # only card words differ between a series' versions: group the matching cards by the
        # series they keep, without looking up each matching version
        tables = "artifact_versions v JOIN artifacts a ON a.id = v.artifact_id"
        where = _series_filters(name, partitions, project, domain, time_from, time_to, params)
        where.append(f"v.id IN ({_newest_with_words(tx, card_words)})")
    elif latest:
        tables = "artifact_versions v JOIN artifacts a ON a.id = v.artifact_id"
        where = _series_filters(name, partitions, project, domain, time_from, time_to, params)
        where.append(
            "v.id IN (SELECT MAX(m.id) FROM artifact_versions m WHERE "
            + " AND ".join([*varying, "m.purged_at IS NULL"])
            + " GROUP BY m.artifact_id, m.partition_key, m.time_partition)"
        )
    else:
        tables = "artifact_versions v JOIN artifacts a ON a.id = v.artifact_id"
        where = _series_filters(name, partitions, project, domain, time_from, time_to, params)
        where += varying
    where.append("v.purged_at IS NULL")  # a purged version (a tombstone) is not found
    sql = f"SELECT {VERSION_COLUMNS} FROM {tables}"
    sql += " WHERE " + " AND ".join(where)
    found = tx.all(f"{sql} ORDER BY {order} DESC LIMIT :limit OFFSET :offset", params)
    return [ArtifactVersionRow.from_db(r) for r in found]


def _like(text: str) -> str:
    """``text`` with LIKE's own characters escaped (``ESCAPE '!'``)."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def _series_filters(
    name: str | None,
    partitions: dict[str, str],
    project: str | None,
    domain: str | None,
    time_from: str | None,
    time_to: str | None,
    params: dict[str, Any],
) -> list[str]:
    """Conditions on what every version of a series shares (on ``v`` and ``a``)."""
    where: list[str] = []
    if name is not None:
        if "*" in name:
            where.append("a.name LIKE :name ESCAPE '!'")
            params["name"] = _like(name).replace("*", "%")
        else:
            where.append("a.name = :name")
            params["name"] = name
    for col, value in (("a.project", project), ("a.domain", domain)):
        if value is not None:
            key = col.split(".")[1]
            where.append(f"{col} = :{key}")
            params[key] = value
    if time_from is not None:
        where.append("v.time_partition >= :time_from")
        params["time_from"] = time_from
    if time_to is not None:
        where.append("v.time_partition <= :time_to")
        params["time_to"] = time_to
    for i, (k, v) in enumerate(sorted(partitions.items())):
        where.append(
            f"EXISTS (SELECT 1 FROM artifact_partitions p{i} WHERE p{i}.version_id = "
            f"v.id AND p{i}.key = :k{i} AND p{i}.value = :v{i})"
        )
        params[f"k{i}"], params[f"v{i}"] = k, v
    return where


def _on_series(
    tx: Tx,
    name: str | None,
    partitions: dict[str, str],
    project: str | None,
    domain: str | None,
    time_from: str | None,
    time_to: str | None,
    params: dict[str, Any],
) -> list[str]:
    """The filters of :func:`_series_filters` on an ``artifact_series`` row (``s``) itself, so
    a database walking the series newest first tests each without reading its versions."""
    where = _series_filters(name, {}, project, domain, None, None, params)
    if time_from is not None or time_to is not None:
        where.append("s.time_key <> ''")
    if time_from is not None:
        where.append("s.time_key >= :time_from")
        params["time_from"] = time_from
    if time_to is not None:
        where.append("s.time_key <= :time_to")
        params["time_to"] = time_to
    # partition_key is every partition URL-encoded and sorted, joined by "&" (as
    # definitions/names.partition_key_text writes it): "&k=v&" occurs in "&" + it + "&"
    # exactly when the series has partition k = v. instr/strpos are case-sensitive (LIKE
    # is not on SQLite).
    find = "strpos" if tx.dialect == "postgresql" else "instr"
    for i, (k, v) in enumerate(sorted(partitions.items())):
        where.append(f"{find}('&' || s.partition_key || '&', :kv{i}) > 0")
        params[f"kv{i}"] = "&" + urlencode([(k, v)]) + "&"
    return where


def _version_filters(
    tx: Tx,
    alias: str,
    since: float | None,
    until: float | None,
    card_words: Sequence[str],
    params: dict[str, Any],
) -> list[str]:
    """Conditions on what differs between versions of a series (on ``alias``)."""
    where: list[str] = []
    if since is not None:
        where.append(f"{alias}.created_at >= :since")
        params["since"] = since
    if until is not None:
        where.append(f"{alias}.created_at < :until")
        params["until"] = until
    # SQLite's LIKE ignores the case of ASCII letters, as its lower() folds only those: the
    # same matches without lowering a copy of every card's text (half the scan's time)
    text = "lower(c.text)" if tx.dialect == "postgresql" else "c.text"
    for i, word in enumerate(card_words):
        # not correlated: each database reads the matching cards once, not once per version
        where.append(
            f"{alias}.id IN (SELECT c.version_id FROM cards c WHERE {text} LIKE :w{i} ESCAPE '!')"
        )
        params[f"w{i}"] = f"%{_like(word.lower())}%"
    return where


def _newest_with_words(tx: Tx, card_words: Sequence[str]) -> str:
    """SQL for the newest version id of each series with cards holding every word (the
    ``:w<i>`` parameters :func:`_version_filters` set), grouped by the series the cards keep."""
    text = "lower(k.text)" if tx.dialect == "postgresql" else "k.text"
    others = [
        f"k.version_id IN (SELECT c.version_id FROM cards c WHERE "
        f"{text.replace('k.', 'c.')} LIKE :w{i} ESCAPE '!')"
        for i in range(1, len(card_words))
    ]
    where = " AND ".join([f"{text} LIKE :w0 ESCAPE '!'", *others])
    return (
        f"SELECT MAX(k.version_id) FROM cards k WHERE {where} "
        "GROUP BY k.artifact_id, k.partition_key, k.time_key"
    )


def versions_of_execution(tx: Tx, execution_id: str) -> list[ArtifactVersionRow]:
    """The versions an execution produced, oldest first."""
    found = tx.all(
        f"SELECT {VERSION_COLUMNS} FROM artifact_versions v JOIN artifacts a ON "
        "a.id = v.artifact_id WHERE v.execution_id = :e ORDER BY v.id",
        {"e": execution_id},
    )
    return [ArtifactVersionRow.from_db(r) for r in found]


def latest_value_by_name(tx: Tx, *, name: str) -> str | None:
    """The ``value`` (JSON literal text) of the newest version of any artifact called
    ``name``, in any project or domain; None when there is none."""
    found = tx.all(
        "SELECT v.value FROM artifact_versions v JOIN artifacts a ON "
        "a.id = v.artifact_id WHERE a.name = :n AND v.purged_at IS NULL "
        "ORDER BY v.id DESC LIMIT 1",
        {"n": name},
    )
    return found[0]["value"] if found else None
