"""The backfill: every stored execution's RunEvents as NDJSON, built from the database (not
from the outbox), for loading the history into a lineage service."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from headwater.integrations.openlineage.events import Builder, table_columns, to_json
from headwater.storage import openlineage_outbox

if TYPE_CHECKING:
    from headwater.instance import Instance

PAGE = 500  # executions read per transaction


def history(inst: Instance, since: float | None = None) -> Iterator[str]:
    """One JSON line per event of every execution created at ``since`` or later (all when
    None), oldest execution first: its START, then its end event once it ended."""
    schema_of = table_columns(inst.blobs)
    after: tuple[float, str] | None = None
    while True:
        lines: list[str] = []
        with inst.db.read() as tx:
            rows = openlineage_outbox.executions_page(tx, since=since, after=after, limit=PAGE)
            builder = Builder(tx, schema_of)
            for row in rows:
                lines += [to_json(e) for e in builder.history(row)]
        yield from lines
        if len(rows) < PAGE:
            return
        after = (rows[-1].created_at, rows[-1].id)


def write_history(inst: Instance, out: IO[str], since: float | None = None) -> int:
    """Write :func:`history` to ``out``, one event per line; how many events."""
    n = 0
    for line in history(inst, since):
        out.write(line + "\n")
        n += 1
    return n
