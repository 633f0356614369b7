"""Each launch plan's executions, newest first: ``plan_runs`` and ``plan_runs_new``.

The launch plan pages list a plan's executions newest first, and must not walk every
execution to find a plan that rarely runs. An index on ``executions (launch_plan,
created_at, id)`` did that (migration 0010) at a cost every firing paid: its entries go in at
one place per launch plan, so once the index outgrew the plans a reactor batch firing 500
plans wrote ~500 scattered pages, and a burst slowed down as it went (migration 0019).

Instead, on SQLite, an execution of a launch plan is appended to ``plan_runs_new`` (in
insertion order: one place) by the transaction that inserts it. When ``MOVE_EVERY`` rows have
gathered there, that transaction moves them all, sorted, into ``plan_runs`` (clustered by
plan: ``WITHOUT ROWID``), so a move writes each plan's page once for thousands of executions.
A move is atomic (and SQLite has one writer), so an execution is in exactly one of the two.
PostgreSQL writes ``plan_runs`` directly: its WAL records entries (and a page in full only the
first time after a checkpoint), not every page each COMMIT changed, so scattered entries cost
it far less than SQLite.

Readers read both: the small ``plan_runs_new`` whole (empty on PostgreSQL), ``plan_runs`` by
its key. The other columns (status, project, ...) are read from ``executions``; a row whose
execution is gone is skipped by that join.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from headwater.storage.db import Tx
from headwater.storage.pg_copy import copy_rows

# Rows gathered in plan_runs_new before a move: a larger number writes fewer pages per
# execution and makes every read of the newest rows scan more.
MOVE_EVERY = 8_192
_COLUMNS = ("launch_plan", "created_at", "id")
_TYPES = ("text", "float8", "text")

# A staged row: (launch_plan, project, domain, created_at, execution id).
Staged = tuple[str, str, str, float, str]


def staged_rows(rows: Iterable[dict[str, Any]]) -> list[Staged]:
    """The ``plan_runs_new`` rows of these execution rows (those of a launch plan)."""
    return [
        (r["launch_plan"], r["project"], r["domain"], r["created_at"], r["id"])
        for r in rows
        if r.get("launch_plan") is not None
    ]


def add(tx: Tx, staged: Sequence[Staged]) -> None:
    """Record new executions of launch plans. SQLite: append them to ``plan_runs_new`` and,
    when ``MOVE_EVERY`` have gathered, move them into ``plan_runs`` in this transaction.
    PostgreSQL: straight into ``plan_runs`` (module docstring)."""
    if not staged:
        return
    if tx.dialect == "postgresql":
        copy_rows(tx, "plan_runs", _COLUMNS, _TYPES, [(s[0], s[3], s[4]) for s in staged])
        return
    tx.conn.executemany(
        "INSERT INTO plan_runs_new (launch_plan, project, domain, created_at, id) "
        "VALUES (?, ?, ?, ?, ?)",
        staged,
    )
    # Two subqueries: SQLite reads min() or max() of a key from one end of its index only
    # when a query has no other aggregate (both in one SELECT scan the table).
    low, top = tx.conn.execute(
        "SELECT (SELECT min(seq) FROM plan_runs_new), (SELECT max(seq) FROM plan_runs_new)"
    ).fetchone()
    if top - low + 1 >= MOVE_EVERY:
        move(tx)


def move(tx: Tx) -> int:
    """Move every row of ``plan_runs_new`` into ``plan_runs``; how many."""
    top = tx.scalar("SELECT max(seq) FROM plan_runs_new")
    if top is None:
        return 0
    tx.execute(
        "INSERT INTO plan_runs (launch_plan, created_at, id) SELECT launch_plan, created_at, "
        "id FROM plan_runs_new WHERE seq <= :top ORDER BY launch_plan, created_at, id",
        {"top": top},
    )
    return int(tx.execute("DELETE FROM plan_runs_new WHERE seq <= :top", {"top": top}).rowcount)


def forget(tx: Tx, done: str, params: dict[str, Any]) -> None:
    """Remove the rows of the executions that the subquery ``done`` (``SELECT id FROM
    executions ...``) names, before they are deleted."""
    tx.execute(f"DELETE FROM plan_runs_new WHERE id IN {done}", params)
    tx.execute(
        "DELETE FROM plan_runs WHERE (launch_plan, created_at, id) IN (SELECT launch_plan, "
        f"created_at, id FROM executions WHERE id IN {done} AND launch_plan IS NOT NULL)",
        params,
    )
