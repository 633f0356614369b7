"""Rows of ``executions``: one run of a workflow, and the queue that workers claim from.

An execution waits as ``queued``; a worker claims it (``running``, ``worker``, a lease in
``lease_expires_at`` that heartbeats extend) and it ends ``succeeded``, ``failed`` or
``cancelled``. The queue's statements are here; when to run them (and in which transaction)
is ``engine/queue.py``'s business. JSON columns (``inputs``, ``resolved``, ``outputs``,
``error``, ``trigger``) are written from Python values and read back as text.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from operator import itemgetter
from typing import Any

from headwater.storage import plan_runs
from headwater.storage.db import Tx, in_list
from headwater.storage.notify import QUEUE
from headwater.storage.pg_copy import copy_rows

_JSON_COLUMNS = ("inputs", "resolved", "outputs", "error", "trigger")
_ENCODER = json.JSONEncoder(sort_keys=True)
# PostgreSQL type of each column, for a binary COPY (``insert_executions``).
_PG_TYPES = {
    **dict.fromkeys(
        (
            "id",
            "project",
            "domain",
            "workflow",
            "workflow_version",
            "launch_plan",
            "status",
            "worker",
            "queue",
            *_JSON_COLUMNS,
        ),
        "text",
    ),
    **dict.fromkeys(("created_at", "started_at", "finished_at", "lease_expires_at"), "float8"),
    **dict.fromkeys(("attempts", "max_attempts", "concurrency_limit"), "int4"),
    **dict.fromkeys(("launch_plan_id", "event_seq"), "int8"),
}
_PG_LP_LOCK = 0x6877  # first key of the (int, int) advisory lock taken per launch plan
# The rows ``ix_executions_lp_status`` holds (migration 0016): what the concurrency checks
# count. The reactor's queued executions of plans without a limit (most of a burst) are left
# out, so a burst does not write that index at one place per launch plan.
LP_STATUS_WHERE = "status = 'running' OR concurrency_limit IS NOT NULL OR event_seq IS NULL"


def _encoder() -> Callable[[Any], str]:
    """``_ENCODER.encode``, without the set-up it repeats on every call (a reactor batch
    encodes three columns of hundreds of executions): the C encoder, made once."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return _ENCODER.encode
    chunks = make(
        None,
        _ENCODER.default,
        json.encoder.encode_basestring_ascii,
        None,
        ": ",
        ", ",
        True,  # sort_keys
        False,  # skipkeys
        True,  # allow_nan
    )

    def encode(value: Any) -> str:
        try:
            return "".join(chunks(value, 0))
        except RecursionError:  # a cycle (made without a circular check): the usual error
            return _ENCODER.encode(value)

    return encode


_encode = _encoder()


def _dump(fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(fields)  # a copy, then only the JSON columns: a reactor batch dumps hundreds
    for k in _JSON_COLUMNS:
        v = out.get(k)
        if v is not None:
            out[k] = _encode(v)
    return out


@dataclass(frozen=True, slots=True)
class ExecutionRow:
    """One execution, as stored (JSON columns as text, times as epoch seconds)."""

    id: str
    project: str
    domain: str
    workflow: str
    workflow_version: str
    launch_plan: str | None
    status: str
    inputs: str
    resolved: str
    outputs: str | None
    error: str | None
    trigger: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    launch_plan_id: int | None
    worker: str | None
    lease_expires_at: float | None
    attempts: int
    max_attempts: int
    event_seq: int | None
    concurrency_limit: int | None
    queue: str = "default"
    # Not a column: how many node executions earlier attempts recorded, where the claim
    # counted them (None: not counted; the first node counts them with its lease check).
    nodes_before: int | None = None

    @classmethod
    def from_db(cls, r: Any) -> ExecutionRow:
        if type(r) is not dict and tuple(r.keys()) == cls.__slots__[:-1]:
            # A sqlite3.Row of ``SELECT *`` has the columns in this order: built without a
            # lookup by name each (this row is read on every claim and every finished run).
            return cls(*r)
        return cls(
            id=r["id"],
            project=r["project"],
            domain=r["domain"],
            workflow=r["workflow"],
            workflow_version=r["workflow_version"],
            launch_plan=r["launch_plan"],
            status=r["status"],
            inputs=r["inputs"],
            resolved=r["resolved"],
            outputs=r["outputs"],
            error=r["error"],
            trigger=r["trigger"],
            created_at=r["created_at"],
            started_at=r["started_at"],
            finished_at=r["finished_at"],
            launch_plan_id=r["launch_plan_id"],
            worker=r["worker"],
            lease_expires_at=r["lease_expires_at"],
            attempts=r["attempts"],
            max_attempts=r["max_attempts"],
            event_seq=r["event_seq"],
            concurrency_limit=r["concurrency_limit"],
            queue=r["queue"],
        )

    def as_dict(self) -> dict[str, Any]:
        """Column name -> value (e.g. to send the row to another process as JSON)."""
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class ExecutionSummary:
    """What a lineage graph shows of an execution."""

    id: str
    workflow: str
    status: str
    created_at: float
    project: str
    domain: str


@dataclass(frozen=True, slots=True)
class ExecutionState:
    """An execution's status and the worker holding it (None: not claimed, or in-process)."""

    status: str
    worker: str | None


@dataclass(frozen=True, slots=True)
class ClaimCandidate:
    """The oldest claimable queued execution and its launch plan's concurrency limit."""

    id: str
    launch_plan_id: int | None
    concurrency_limit: int | None


# -- writing -----------------------------------------------------------------------------------
def insert_execution(tx: Tx, **fields: Any) -> None:
    """Insert one execution; JSON columns may be given as Python values."""
    cols = ", ".join(fields)
    vals = ", ".join(f":{k}" for k in fields)
    tx.execute(f"INSERT INTO executions ({cols}) VALUES ({vals})", _dump(fields))
    plan_runs.add(tx, plan_runs.staged_rows((fields,)))
    if fields.get("status") == "queued":
        tx.notify(QUEUE)  # wakes listening workers once this commits


def insert_executions(tx: Tx, rows: list[dict[str, Any]], *, notify: bool = True) -> None:
    """Insert executions that all set the same columns, in one statement; queued ones wake
    the workers with the COMMIT unless ``notify`` is False (the caller sees to it)."""
    if not rows:
        return
    if tx.dialect == "postgresql":
        # One binary COPY, formatted in C (executemany adapted each row in Python).
        columns = list(rows[0])
        values = itemgetter(*columns)
        copy_rows(
            tx,
            "executions",
            columns,
            [_PG_TYPES[c] for c in columns],
            (values(_dump(r)) if len(columns) > 1 else (_dump(r)[columns[0]],) for r in rows),
        )
    elif tx.dialect == "sqlite":
        tx.conn.executemany(*_sqlite_insert(rows))
    else:
        cols = ", ".join(rows[0])
        vals = ", ".join(f":{k}" for k in rows[0])
        tx.many(f"INSERT INTO executions ({cols}) VALUES ({vals})", [_dump(r) for r in rows])
    plan_runs.add(tx, plan_runs.staged_rows(rows))
    if notify and any(r.get("status") == "queued" for r in rows):
        tx.notify(QUEUE)


def _sqlite_insert(rows: list[dict[str, Any]]) -> tuple[str, list[list[Any]]]:
    """The INSERT of ``rows`` with positional parameters and each row's values (JSON columns
    encoded): sqlite3 binds a row of named parameters at twice the cost of a tuple."""
    columns = list(rows[0])
    values = itemgetter(*columns)
    json_at = [i for i, c in enumerate(columns) if c in _JSON_COLUMNS]
    out = []
    for r in rows:
        row = list(values(r)) if len(columns) > 1 else [r[columns[0]]]
        for i in json_at:
            if row[i] is not None:
                row[i] = _encode(row[i])
        out.append(row)
    sql = f"INSERT INTO executions ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    return sql, out


def update_execution(tx: Tx, execution_id: str, **fields: Any) -> None:
    """Set ``fields`` on the execution (JSON columns may be given as Python values)."""
    sets = ", ".join(f"{k} = :{k}" for k in fields)
    tx.execute(
        f"UPDATE executions SET {sets} WHERE id = :_id", {**_dump(fields), "_id": execution_id}
    )


def set_max_attempts(tx: Tx, execution_id: str, max_attempts: int) -> None:
    """The attempt budget of the execution (that of the task it runs now)."""
    tx.execute(
        "UPDATE executions SET max_attempts = :m WHERE id = :id",
        {"m": max_attempts, "id": execution_id},
    )


# -- reading -----------------------------------------------------------------------------------
def get_execution(tx: Tx, execution_id: str, *, for_update: bool = False) -> ExecutionRow | None:
    """The execution, or None. ``for_update`` locks the row on PostgreSQL until the
    transaction ends (SQLite's writer holds the whole database anyway)."""
    lock = " FOR UPDATE" if for_update and tx.dialect == "postgresql" else ""
    r = tx.one("SELECT * FROM executions WHERE id = :id" + lock, {"id": execution_id})
    return None if r is None else ExecutionRow.from_db(r)


def list_executions(
    tx: Tx,
    *,
    workflow: str | None = None,
    launch_plan: str | None = None,
    status: str | None = None,
    project: str | None = None,
    domain: str | None = None,
    limit: int = 100,
    since: float | None = None,
    until: float | None = None,
    offset: int = 0,
) -> list[ExecutionRow]:
    """Executions matching every filter given, newest first (ties: highest id first):
    created at ``since`` or later and before ``until`` (epoch seconds), skipping the first
    ``offset`` (a page of a long list)."""
    where: list[str] = []
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if since is not None:
        where.append("created_at >= :since")
        params["since"] = since
    if until is not None:
        where.append("created_at < :until")
        params["until"] = until
    for col, value in (
        ("workflow", workflow),
        ("status", status),
        ("project", project),
        ("domain", domain),
    ):
        if value is not None:
            where.append(f"{col} = :{col}")
            params[col] = value
    if launch_plan is not None:
        params["lp"] = launch_plan
        return [ExecutionRow.from_db(r) for r in _list_by_plan(tx, where, params)]
    sql = "SELECT * FROM executions" + (" WHERE " + " AND ".join(where) if where else "")
    found = tx.all(f"{sql} ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset", params)
    return [ExecutionRow.from_db(r) for r in found]


def _list_by_plan(
    tx: Tx, where: list[str], params: dict[str, Any], columns: str = "e.*"
) -> list[Any]:
    """``list_executions`` of the launch plan ``:lp`` (``columns`` of its rows): the newest
    ``limit + offset`` of its executions in ``plan_runs`` (its key newest first, stopping
    there) and, on SQLite, of those still in ``plan_runs_new`` (a scan of that small table),
    merged."""
    params = {**params, "n": params["limit"] + params["offset"]}
    also = "".join(f" AND e.{w}" for w in where)
    # The time range on plan_runs' own key too, so that the walk starts and ends there.
    span = "".join(f" AND p.{w}" for w in where if w.startswith("created_at"))
    sql = (
        f"SELECT {columns} FROM plan_runs p {{join}} executions e ON e.id = p.id "
        f"WHERE p.launch_plan = :lp{span}{also} ORDER BY p.created_at DESC, p.id DESC LIMIT :n"
    )
    if tx.dialect == "sqlite":
        # CROSS JOIN keeps the plan's rows the outer loop (otherwise SQLite may walk the
        # executions by another filter's index, e.g. every succeeded one, looking each up).
        sql = (
            f"SELECT * FROM ({sql.format(join='CROSS JOIN')}) UNION ALL SELECT * FROM ("
            f"SELECT {columns} FROM plan_runs_new s CROSS JOIN executions e ON e.id = s.id "
            f"WHERE s.launch_plan = :lp{also} ORDER BY e.created_at DESC, e.id DESC LIMIT :n)"
        )
    else:  # PostgreSQL writes plan_runs directly
        sql = sql.format(join="JOIN")
    rows = sorted(tx.all(sql, params), key=itemgetter("created_at", "id"), reverse=True)
    return rows[params["offset"] : params["n"]]


@dataclass(frozen=True, slots=True)
class PlanRunRow:
    """An execution of a launch plan, as the launch plan list shows it."""

    id: str
    launch_plan: str
    project: str
    domain: str
    status: str
    created_at: float


def recent_by_launch_plan(
    tx: Tx, *, plans: Sequence[tuple[str, str, str]], scan: int, per_plan: int
) -> list[PlanRunRow]:
    """The newest ``per_plan`` executions of each (project, domain, name) launch plan among
    the ``scan`` newest executions (executions created at the same time as the ``scan``-th
    newest count as among them), newest first (ties: highest id first). Each plan's are
    read newest first from ``plan_runs``' key, and on SQLite those not moved there yet from
    ``plan_runs_new`` in one scan: the cost is ``per_plan`` rows per plan, not the ``scan``
    newest executions."""
    if not plans:
        return []
    floor = tx.scalar(
        "SELECT created_at FROM executions ORDER BY created_at DESC LIMIT 1 OFFSET :skip",
        {"skip": max(scan - 1, 0)},
    )
    params: dict[str, Any] = {"per": per_plan}
    if floor is not None:
        params["floor"] = floor
    above = " AND p.created_at >= :floor" if floor is not None else ""
    newest = (
        "SELECT e.id, e.launch_plan, e.project, e.domain, e.status, e.created_at "
        f"FROM plan_runs p {'CROSS JOIN' if tx.dialect == 'sqlite' else 'JOIN'} executions e "
        "ON e.id = p.id WHERE p.launch_plan = {n} "
        f"AND e.project = {{p}} AND e.domain = {{d}}{above} "
        "ORDER BY p.created_at DESC, p.id DESC LIMIT :per"
    )
    for i, (project, domain, name) in enumerate(plans):
        params[f"p{i}"], params[f"d{i}"], params[f"n{i}"] = project, domain, name
    if tx.dialect == "postgresql":
        # One subquery planned once and run per plan (a UNION ALL of 50 took 6 ms to plan).
        wanted_rows = ", ".join(f"(:p{i}, :d{i}, :n{i})" for i in range(len(plans)))
        found = tx.all(
            f"SELECT k.* FROM (VALUES {wanted_rows}) AS w (p, d, n) CROSS JOIN LATERAL ("
            + newest.format(p="w.p", d="w.d", n="w.n")
            + ") k",
            params,
        )
    else:
        found = tx.all(
            " UNION ALL ".join(
                f"SELECT * FROM ({newest.format(p=f':p{i}', d=f':d{i}', n=f':n{i}')}) k{i}"
                for i in range(len(plans))
            ),
            params,
        )
        found += _recent_new(tx, plans, params)
    wanted = set(plans)
    rows = sorted(
        (
            PlanRunRow(
                r["id"], r["launch_plan"], r["project"], r["domain"], r["status"], r["created_at"]
            )
            for r in found
        ),
        key=lambda r: (r.created_at, r.id),
        reverse=True,
    )
    out, taken = [], Counter[tuple[str, str, str]]()
    for r in rows:
        key = (r.project, r.domain, r.launch_plan)
        if key in wanted and taken[key] < per_plan:
            taken[key] += 1
            out.append(r)
    return out


def _recent_new(tx: Tx, plans: Sequence[tuple[str, str, str]], params: dict[str, Any]) -> list[Any]:
    """SQLite: the newest ``:per`` of each plan's executions still in ``plan_runs_new``
    (above ``:floor`` when given), ranked there before joining ``executions``."""
    names, name_params = in_list("m", sorted({name for _, _, name in plans}))
    return tx.all(
        "SELECT e.id, e.launch_plan, e.project, e.domain, e.status, e.created_at FROM "
        "(SELECT id, row_number() OVER (PARTITION BY launch_plan, project, domain "
        "ORDER BY created_at DESC, id DESC) AS rank FROM plan_runs_new "
        f"WHERE launch_plan IN {names}"
        + (" AND created_at >= :floor" if "floor" in params else "")
        + ") s CROSS JOIN executions e ON e.id = s.id WHERE s.rank <= :per",
        {**params, **name_params},
    )


def summaries(tx: Tx, execution_ids: list[str]) -> list[ExecutionSummary]:
    """The executions among ``execution_ids`` that exist, in no particular order."""
    if not execution_ids:
        return []
    marks, params = in_list("e", execution_ids)
    found = tx.all(
        "SELECT id, workflow, status, created_at, project, domain FROM executions "
        f"WHERE id IN {marks}",
        params,
    )
    return [
        ExecutionSummary(
            id=r["id"],
            workflow=r["workflow"],
            status=r["status"],
            created_at=r["created_at"],
            project=r["project"],
            domain=r["domain"],
        )
        for r in found
    ]


def recent_runs(
    tx: Tx,
    *,
    project: str,
    domain: str,
    workflow: str,
    launch_plan: str | None = None,
    limit: int = 20,
) -> list[ExecutionSummary]:
    """The newest ``limit`` executions of ``workflow`` in ``project``/``domain`` (only those of
    launch plan ``launch_plan`` when given, read as ``list_executions`` reads a plan's),
    newest first: a graph's live counts."""
    params: dict[str, Any] = {"w": workflow, "p": project, "d": domain, "limit": limit}
    if launch_plan is not None:
        found = _list_by_plan(
            tx,
            ["workflow = :w", "project = :p", "domain = :d"],
            {**params, "lp": launch_plan, "offset": 0},
            "e.id, e.workflow, e.status, e.created_at, e.project, e.domain",
        )
    else:
        found = tx.all(
            "SELECT id, workflow, status, created_at, project, domain FROM executions "
            "WHERE workflow = :w AND project = :p AND domain = :d "
            "ORDER BY created_at DESC, id DESC LIMIT :limit",
            params,
        )
    return [
        ExecutionSummary(
            id=r["id"],
            workflow=r["workflow"],
            status=r["status"],
            created_at=r["created_at"],
            project=r["project"],
            domain=r["domain"],
        )
        for r in found
    ]


def get_state(tx: Tx, execution_id: str) -> ExecutionState | None:
    """Status and worker of the execution, or None when there is no such execution."""
    r = tx.one("SELECT status, worker FROM executions WHERE id = :id", {"id": execution_id})
    return None if r is None else ExecutionState(status=r["status"], worker=r["worker"])


# -- the queue ---------------------------------------------------------------------------------
_CANDIDATE = (
    "SELECT id, launch_plan_id, concurrency_limit FROM executions e "
    "WHERE e.status = 'queued'{queues} AND (e.concurrency_limit IS NULL OR e.launch_plan_id IS NULL "
    "OR (SELECT COUNT(*) FROM executions r WHERE r.launch_plan_id = e.launch_plan_id "
    "AND r.status = 'running') < e.concurrency_limit){skip} "
    "ORDER BY e.created_at, e.id LIMIT 1{lock}"
)


def _queue_filter(
    queues: Sequence[str] | None, column: str = "queue"
) -> tuple[str, dict[str, Any]]:
    """`` AND <column> IN (...)`` for ``queues`` (None: every queue) and its parameters."""
    if queues is None:
        return "", {}
    marks, params = in_list("q", list(queues))
    return f" AND {column} IN {marks}", params


def has_queued(tx: Tx, queues: Sequence[str] | None = None) -> bool:
    """Is any execution waiting to be claimed (on one of ``queues``; None: on any queue)?"""
    cond, params = _queue_filter(queues)
    sql = f"SELECT id FROM executions WHERE status = 'queued'{cond} LIMIT 1"
    return tx.one(sql, params) is not None


def count_queued(tx: Tx) -> int:
    """How many executions are waiting to be claimed."""
    return int(tx.scalar("SELECT COUNT(*) FROM executions WHERE status = 'queued'"))


def claim_candidate(
    tx: Tx, *, skip_launch_plans: Sequence[int] = (), queues: Sequence[str] | None = None
) -> ClaimCandidate | None:
    """The oldest queued execution on one of ``queues`` (None: any queue) whose launch plan
    is under its concurrency limit, not of ``skip_launch_plans``. On PostgreSQL the row is
    locked ``FOR UPDATE SKIP LOCKED``: two transactions never get the same row, and neither
    waits for the other."""
    params: dict[str, Any] = {}
    skip = ""
    if skip_launch_plans:
        marks, params = in_list("lp", skip_launch_plans)
        skip = f" AND (e.launch_plan_id IS NULL OR e.launch_plan_id NOT IN {marks})"
    on_queues, queue_params = _queue_filter(queues, "e.queue")
    params.update(queue_params)
    lock = " FOR UPDATE SKIP LOCKED" if tx.dialect == "postgresql" else ""
    r = tx.one(_CANDIDATE.format(queues=on_queues, skip=skip, lock=lock), params)
    if r is None:
        return None
    return ClaimCandidate(
        id=r["id"], launch_plan_id=r["launch_plan_id"], concurrency_limit=r["concurrency_limit"]
    )


def lock_launch_plan(tx: Tx, launch_plan_id: int) -> None:
    """PostgreSQL: wait for, then hold until the transaction ends, the advisory lock of the
    launch plan's claims (so that a count of its running executions stays true)."""
    tx.execute(
        "SELECT pg_advisory_xact_lock(:k, :lp)",
        {"k": _PG_LP_LOCK, "lp": int(launch_plan_id) % 2_147_483_647},
    )


def count_running(tx: Tx, launch_plan_id: int) -> int:
    """How many executions of the launch plan are running."""
    return int(
        tx.scalar(
            "SELECT COUNT(*) FROM executions WHERE launch_plan_id = :lp AND status = 'running'",
            {"lp": launch_plan_id},
        )
    )


def mark_claimed(
    tx: Tx, execution_id: str, *, worker: str, lease_expires_at: float, now: float
) -> bool:
    """A queued execution becomes ``running`` for ``worker`` (one more attempt, started
    ``now``). False when it was not queued."""
    done = tx.scalar(
        "UPDATE executions SET status = 'running', worker = :w, lease_expires_at = :lease,"
        " attempts = attempts + 1, started_at = :now, finished_at = NULL "
        "WHERE id = :id AND status = 'queued' RETURNING id",
        {"w": worker, "lease": lease_expires_at, "now": now, "id": execution_id},
    )
    return done is not None


_CLAIM_SET = (
    "status = 'running', worker = :w, lease_expires_at = :lease, attempts = attempts + 1, "
    "started_at = :now, finished_at = NULL"
)


def take(
    tx: Tx, execution_id: str, *, worker: str, lease_expires_at: float, now: float
) -> ExecutionRow | None:
    """:func:`mark_claimed` that returns the claimed row as stored after the change (one
    statement: ``UPDATE ... RETURNING *``); None when it was not queued."""
    r = tx.one(
        f"UPDATE executions SET {_CLAIM_SET} WHERE id = :id AND status = 'queued' RETURNING *",
        {"w": worker, "lease": lease_expires_at, "now": now, "id": execution_id},
    )
    return None if r is None else ExecutionRow.from_db(r)


def take_oldest(
    tx: Tx,
    *,
    worker: str,
    lease_expires_at: float,
    now: float,
    queues: Sequence[str] | None = None,
) -> tuple[ClaimCandidate | None, ExecutionRow | None]:
    """PostgreSQL: :func:`claim_candidate` and, when its launch plan has no concurrency
    limit, :func:`take` of it, in one statement. ``(None, None)``: nothing to claim;
    ``(candidate, None)``: the candidate (locked) has a limit, to be checked under the launch
    plan's lock before :func:`take`; ``(candidate, row)``: claimed."""
    on_queues, params = _queue_filter(queues, "e.queue")
    cand = _CANDIDATE.format(queues=on_queues, skip="", lock=" FOR UPDATE SKIP LOCKED")
    r = tx.one(
        f"WITH c AS ({cand}), u AS (UPDATE executions x SET {_CLAIM_SET} FROM c "
        "WHERE x.id = c.id AND x.status = 'queued' "
        "AND (c.concurrency_limit IS NULL OR c.launch_plan_id IS NULL) RETURNING x.*) "
        "SELECT c.id AS claim_id, c.launch_plan_id AS claim_lp, c.concurrency_limit AS "
        "claim_limit, u.* FROM c LEFT JOIN u ON u.id = c.id",
        {**params, "w": worker, "lease": lease_expires_at, "now": now},
    )
    if r is None:
        return None, None
    found = ClaimCandidate(
        id=r["claim_id"], launch_plan_id=r["claim_lp"], concurrency_limit=r["claim_limit"]
    )
    return found, (None if r["id"] is None else ExecutionRow.from_db(r))


# The payload of ``headwater.execution.started`` as ``json.dumps(..., sort_keys=True)`` writes
# it (``engine/execute/execution_events.emit``), built from the claimed row ``u``.
STARTED_PAYLOAD = (
    "'{\"attempt\": ' || u.attempts || ', \"domain\": ' || to_json(u.domain)::text || "
    "', \"execution_id\": ' || to_json(u.id)::text || ', \"launch_plan\": ' || "
    "COALESCE(to_json(u.launch_plan)::text, 'null') || ', \"project\": ' || "
    "to_json(u.project)::text || ', \"worker\": ' || to_json(CAST(:w AS text))::text || "
    "', \"workflow\": ' || to_json(u.workflow)::text || '}'"
)


def take_oldest_started(
    tx: Tx,
    *,
    worker: str,
    lease_expires_at: float,
    now: float,
    queues: Sequence[str] | None,
    event: dict[str, str],
    notify: str | None,
) -> tuple[ClaimCandidate | None, ExecutionRow | None]:
    """PostgreSQL: :func:`take_oldest` that also writes the claim's started event (``event``:
    its ``id``, ``name`` and ``source``; subject, payload and inbox row from the claimed row)
    and, when ``notify`` names a channel, NOTIFYs it: all in one statement, which commits on
    its own outside a transaction (one round trip for a whole claim)."""
    on_queues, params = _queue_filter(queues, "e.queue")
    cand = _CANDIDATE.format(queues=on_queues, skip="", lock=" FOR UPDATE SKIP LOCKED")
    told = "0" if notify is None else f"(SELECT COUNT(pg_notify('{notify}', '')) FROM i)"
    r = tx.one(
        f"WITH c AS ({cand}), u AS (UPDATE executions x SET {_CLAIM_SET} FROM c "
        "WHERE x.id = c.id AND x.status = 'queued' "
        "AND (c.concurrency_limit IS NULL OR c.launch_plan_id IS NULL) RETURNING x.*), "
        "e AS (INSERT INTO events (id, name, source, subject, project, domain, time, payload, "
        f"attributes) SELECT :eid, :ename, :esource, u.id, u.project, u.domain, :now, "
        f"{STARTED_PAYLOAD}, '{{}}' FROM u ON CONFLICT (id, source) DO NOTHING RETURNING seq), "
        "i AS (INSERT INTO reactor_inbox (seq) SELECT seq FROM e RETURNING seq) "
        "SELECT c.id AS claim_id, c.launch_plan_id AS claim_lp, c.concurrency_limit AS "
        f"claim_limit, {told} AS claim_told, (SELECT COUNT(*) FROM node_executions n WHERE "
        "n.execution_id = u.id) AS claim_nodes, u.* FROM c LEFT JOIN u ON u.id = c.id",
        {
            **params,
            "w": worker,
            "lease": lease_expires_at,
            "now": now,
            "eid": event["id"],
            "ename": event["name"],
            "esource": event["source"],
        },
    )
    if r is None:
        return None, None
    found = ClaimCandidate(
        id=r["claim_id"], launch_plan_id=r["claim_lp"], concurrency_limit=r["claim_limit"]
    )
    if r["id"] is None:
        return found, None
    return found, replace(ExecutionRow.from_db(r), nodes_before=int(r["claim_nodes"]))


def extend_lease(tx: Tx, execution_id: str, *, worker: str, lease_expires_at: float) -> bool:
    """Move the lease on. False when the execution is not ``running`` for ``worker``."""
    got = tx.scalar(
        "UPDATE executions SET lease_expires_at = :lease WHERE id = :id AND worker = :w "
        "AND status = 'running' RETURNING id",
        {"lease": lease_expires_at, "id": execution_id, "w": worker},
    )
    return got is not None


def still_leased(tx: Tx, execution_id: str, worker: str) -> bool:
    """True while ``worker`` holds the running execution (locks the row on PostgreSQL)."""
    lock = " FOR UPDATE" if tx.dialect == "postgresql" else ""
    return (
        tx.one(
            "SELECT 1 FROM executions WHERE id = :id AND worker = :w AND status = 'running'" + lock,
            {"id": execution_id, "w": worker},
        )
        is not None
    )


def nodes_if_leased(tx: Tx, execution_id: str, worker: str) -> int | None:
    """:func:`still_leased` and, in the same statement, how many node executions the
    execution has recorded; None when ``worker`` does not hold it."""
    lock = " FOR UPDATE" if tx.dialect == "postgresql" else ""
    n = tx.one(
        "SELECT (SELECT COUNT(*) FROM node_executions n WHERE n.execution_id = x.id) AS n "
        "FROM executions x WHERE x.id = :id AND x.worker = :w AND x.status = 'running'" + lock,
        {"id": execution_id, "w": worker},
    )
    return None if n is None else int(n["n"])


def unclaim(tx: Tx, execution_id: str, *, worker: str) -> bool:
    """Put ``worker``'s running execution back in the queue, not counting the attempt.
    False when it is not ``running`` for ``worker``."""
    got = tx.scalar(
        "UPDATE executions SET status = 'queued', worker = NULL, lease_expires_at = NULL, "
        "started_at = NULL, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END "
        "WHERE id = :id AND worker = :w AND status = 'running' RETURNING id",
        {"id": execution_id, "w": worker},
    )
    if got is not None:
        tx.notify(QUEUE)
    return got is not None


def fail_claimed(
    tx: Tx, execution_id: str, *, worker: str, error: dict[str, Any], now: float
) -> bool:
    """End ``worker``'s running execution as ``failed`` with ``error`` and no outputs.
    False when it is not ``running`` for ``worker``."""
    got = tx.scalar(
        "UPDATE executions SET status = 'failed', error = :err, outputs = :out, "
        "finished_at = :now, lease_expires_at = NULL "
        "WHERE id = :id AND worker = :w AND status = 'running' RETURNING id",
        {
            "err": json.dumps(error, sort_keys=True),
            "out": "{}",
            "now": now,
            "id": execution_id,
            "w": worker,
        },
    )
    return got is not None


def expire_leases(tx: Tx, *, worker: str, expires_at: float) -> int:
    """End (at ``expires_at``) the leases of ``worker``'s running executions that last
    longer; how many there were."""
    ids = tx.all(
        "UPDATE executions SET lease_expires_at = :t WHERE worker = :w "
        "AND status = 'running' AND lease_expires_at > :t RETURNING id",
        {"t": expires_at, "w": worker},
    )
    return len(ids)


def expired(tx: Tx, *, now: float, limit: int) -> list[str]:
    """Ids of running executions whose lease ended before ``now``, the longest-expired
    first, at most ``limit``."""
    found = tx.all(
        "SELECT id FROM executions WHERE status = 'running' "
        "AND lease_expires_at < :now ORDER BY lease_expires_at LIMIT :n",
        {"now": now, "n": limit},
    )
    return [r["id"] for r in found]


def _attempt(
    tx: Tx, execution_id: str, worker: str | None, expired_before: float | None
) -> tuple[str, dict[str, Any]]:
    """The condition (and its parameters) under which an attempt is ended: the execution is
    running for ``worker`` and, when ``expired_before`` is given, its lease ended before."""
    if expired_before is None:
        cond = "WHERE id = :id AND status = 'running' AND worker = :w RETURNING id"
        return cond, {"id": execution_id, "w": worker}
    cond = (
        "WHERE id = :id AND status = 'running' AND lease_expires_at < :now "
        "AND worker IS NOT DISTINCT FROM :w RETURNING id"
    )
    if tx.dialect == "sqlite":
        cond = cond.replace("IS NOT DISTINCT FROM", "IS")
    return cond, {"id": execution_id, "now": expired_before, "w": worker}


def requeue_attempt(
    tx: Tx, execution_id: str, *, worker: str | None, expired_before: float | None = None
) -> bool:
    """Back to ``queued`` (the attempt counted) if the execution is running for ``worker``
    (None matches no worker only with ``expired_before``) and, with ``expired_before``, its
    lease ended before then. False when it is not."""
    cond, params = _attempt(tx, execution_id, worker, expired_before)
    got = tx.scalar(
        "UPDATE executions SET status = 'queued', worker = NULL, "
        f"lease_expires_at = NULL, started_at = NULL {cond}",
        params,
    )
    if got is not None:
        tx.notify(QUEUE)
    return got is not None


def fail_attempt(
    tx: Tx,
    execution_id: str,
    *,
    worker: str | None,
    error: dict[str, Any],
    now: float,
    expired_before: float | None = None,
) -> bool:
    """End as ``failed`` (``error``, no outputs, finished ``now``) under the condition of
    :func:`requeue_attempt`. False when it does not hold."""
    cond, params = _attempt(tx, execution_id, worker, expired_before)
    got = tx.scalar(
        "UPDATE executions SET status = 'failed', error = :err, outputs = :out, "
        f"finished_at = :t, lease_expires_at = NULL {cond}",
        {**params, "err": json.dumps(error, sort_keys=True), "out": "{}", "t": now},
    )
    return got is not None


def mark_cancelled(
    tx: Tx, execution_id: str, *, status: str, error: dict[str, Any], now: float
) -> bool:
    """End the execution as ``cancelled`` (``error``, no outputs, finished ``now``) if its
    status is still ``status``."""
    got = tx.scalar(
        "UPDATE executions SET status = 'cancelled', error = :err, outputs = :out, "
        "finished_at = :t, lease_expires_at = NULL "
        "WHERE id = :id AND status = :s RETURNING id",
        {
            "err": json.dumps(error, sort_keys=True),
            "out": "{}",
            "t": now,
            "id": execution_id,
            "s": status,
        },
    )
    return got is not None


# -- for the reactor and metrics


def count_busy(tx: Tx, launch_plan_id: int) -> int:
    """How many executions of the launch plan version are queued or running. Only for a
    version with a concurrency limit: its executions all carry the limit (or were not queued
    by the reactor), so all of them are in ``ix_executions_lp_status``, which the repeated
    predicate lets the database use."""
    return int(
        tx.scalar(
            "SELECT COUNT(*) FROM executions WHERE launch_plan_id = :lp AND "
            f"status IN ('queued', 'running') AND ({LP_STATUS_WHERE})",
            {"lp": launch_plan_id},
        )
    )


def count_by_status(tx: Tx) -> dict[str, int]:
    """How many executions have each status (statuses without any are left out)."""
    return {
        r["status"]: int(r["n"])
        for r in tx.all("SELECT status, COUNT(*) AS n FROM executions GROUP BY status")
    }


def count_live_workers(tx: Tx, now: float) -> int:
    """How many workers hold a lease on a running execution that has not expired at ``now``."""
    return int(
        tx.scalar(
            "SELECT COUNT(DISTINCT worker) FROM executions WHERE status = 'running' "
            "AND lease_expires_at > :now",
            {"now": now},
        )
    )
