"""Bulk loading of metadata rows for the query benchmarks (not a benchmark itself).

Populating a million versions through the engine would take hours here, so the scripts write
the very rows the engine writes, straight into the tables the migrations created: SQLite with
``executemany`` in one transaction, PostgreSQL with ``COPY``. Then ``ANALYZE``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from headwater.storage.db import Database


def int_literal(value: int) -> str:
    """The JSON literal the type engine stores for an ``int`` (``json.dumps(.., sort_keys=True)``
    of {format, preview, size, type, value}: small JSON is held inline, without a blob), built
    without json for speed."""
    text = str(value)
    return (
        f'{{"format": "json", "preview": "{text}", "size": {len(text)}, "type": "int", '
        f'"value": {text}}}'
    )


class RowShape:
    """Rows shaped like one the engine wrote: every column of ``template``; the ``varying``
    ones are given per row, the others keep the template's value (so columns added by later
    migrations are filled the way the engine fills them)."""

    def __init__(self, template: dict[str, Any], varying: Sequence[str]) -> None:
        missing = [k for k in varying if k not in template]
        if missing:
            raise KeyError(f"the engine's row has no column(s) {missing}: {sorted(template)}")
        self.columns = tuple(varying) + tuple(k for k in template if k not in varying)
        self.fixed = tuple(template[k] for k in template if k not in varying)

    def row(self, *values: Any) -> tuple[Any, ...]:
        return values + self.fixed

    def as_dict(self, row: Sequence[Any]) -> dict[str, Any]:
        return dict(zip(self.columns, row, strict=True))


def same_as_engine(
    what: str, engine: dict[str, Any], ours: dict[str, Any], ignore: Sequence[str] = ()
) -> None:
    """Raise unless a generated row equals the engine's, column by column (JSON text compared
    as text: key order and spacing must match too)."""
    diff = {
        k: (engine[k], ours.get(k)) for k in engine if k not in ignore and engine[k] != ours.get(k)
    }
    if diff:
        raise AssertionError(f"bulk {what} row differs from the engine's: {diff}")


class BulkLoader:
    """One connection that loads rows fast into a database a ``headwater.Instance`` migrated."""

    def __init__(self, url: str) -> None:
        db = Database(url)
        self.dialect = db.dialect
        if db.dialect == "sqlite":
            self.conn: Any = sqlite3.connect(db.path, isolation_level=None)
            self.conn.execute("PRAGMA synchronous=OFF")
            self.conn.execute("PRAGMA cache_size=-1000000")  # up to 1 GB of page cache
            self.conn.execute("PRAGMA temp_store=MEMORY")
            self.conn.execute("BEGIN")
        else:
            import psycopg

            self.conn = psycopg.connect("postgresql://" + url.split("://", 1)[1])
            self.conn.execute("SET synchronous_commit = off")
            self.conn.execute("SET maintenance_work_mem = '256MB'")
            self.conn.commit()
            # The rows are consistent by construction: skip the per-row foreign-key triggers
            # (needs a superuser; on another server the load just checks them).
            try:
                self.conn.execute("SET session_replication_role = replica")
            except psycopg.Error:
                self.conn.rollback()
        self._dropped: list[str] = []

    def drop_indexes(self, tables: Sequence[str]) -> None:
        """Drop the secondary indexes of ``tables`` (not the ones backing PRIMARY KEY or
        UNIQUE); ``finish()`` creates them again from their exact definitions."""
        for table in tables:
            if self.dialect == "sqlite":
                found = self.conn.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                    "AND sql IS NOT NULL",
                    (table,),
                ).fetchall()
            else:
                found = self.conn.execute(
                    "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                    "FROM pg_index i WHERE i.indrelid = %s::regclass AND NOT EXISTS "
                    "(SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
                    (table,),
                ).fetchall()
            for name, definition in found:
                self.conn.execute(f"DROP INDEX {name}")
                self._dropped.append(definition)

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        cols = ", ".join(columns)
        if self.dialect == "sqlite":
            marks = ", ".join("?" for _ in columns)
            self.conn.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
            return
        with self.conn.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """``?`` placeholders on both backends."""
        if self.dialect == "postgresql":
            sql = sql.replace("?", "%s")
        return self.conn.execute(sql, params)

    def finish(self, serial_tables: Sequence[str] = ()) -> None:
        """Recreate dropped indexes; commit; move id sequences past the loaded ids
        (PostgreSQL); ANALYZE."""
        for definition in self._dropped:
            self.conn.execute(definition)
        self._dropped = []
        if self.dialect == "sqlite":
            self.conn.execute("COMMIT")
            self.conn.execute("ANALYZE")
            self.conn.execute("PRAGMA journal_mode=WAL")
            return
        for table in serial_tables:
            self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        self.conn.commit()
        self.conn.autocommit = True
        self.conn.execute("VACUUM ANALYZE")  # stats + visibility map (index-only scans)

    def close(self) -> None:
        self.conn.close()
