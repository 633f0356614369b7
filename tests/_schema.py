"""Fresh test databases at the migrations' head, without running the migrations every time.

Running the Alembic migrations on an empty database takes ~0.2 s, and about 1,300 tests start
from one (the ``instance`` fixture and the storage tests' ``db`` fixtures, on SQLite and on
PostgreSQL). ``at_head(url)`` instead fills the fresh, empty database at ``url`` with a copy of
one that the migrations brought to head once per test process: SQLite, a byte copy of the
file; PostgreSQL, ``CREATE DATABASE ... TEMPLATE``. Either way the tables, indexes, triggers and
``alembic_version`` are exactly what the migrations make, and ``ensure_schema`` then finds the
database current, as it would after migrating it itself.

The migrations themselves still run from empty in every test process (to make the templates),
and are tested step by step in tests/storage/test_migrations.py and test_schema.py, which do
not use this. Any database that is not fresh and empty is left alone, as is anything this
cannot copy: ``ensure_schema`` then migrates it as before.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from headwater.storage.db import Database
from headwater.storage.migrate import ensure_schema

__all__ = ["at_head", "drop_templates"]

_lock = threading.Lock()
_sqlite_template: Path | None = None
_pg_templates: dict[str, str] = {}  # the server's admin URL -> the template database's name


def at_head(url: str) -> str:
    """Bring the fresh, empty database at ``url`` to the migrations' head by copying a
    template; return ``url``."""
    if url.startswith("sqlite"):
        _sqlite_at_head(url)
    elif url.startswith(("postgresql", "postgres")):
        _postgres_at_head(url)
    return url


def drop_templates(admin_url: str) -> None:
    """Drop the template databases made on the server at ``admin_url`` (an external server:
    a throwaway one is deleted whole)."""
    import psycopg
    from psycopg import sql

    with _lock:
        name = _pg_templates.pop(_admin_key(admin_url), None)
    if name is None:
        return
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


# -- SQLite --------------------------------------------------------------------------------


def _sqlite_at_head(url: str) -> None:
    path = Path(url.split(":///", 1)[1]).expanduser()
    if path.exists():
        return  # not fresh: ensure_schema decides
    template = _sqlite_template_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, path)


def _sqlite_template_file() -> Path:
    global _sqlite_template
    with _lock:
        if _sqlite_template is None or not _sqlite_template.exists():
            folder = Path(tempfile.mkdtemp(prefix="hw-schema-"))
            path = folder / "headwater.db"
            db = Database(f"sqlite:///{path}")
            try:
                ensure_schema(db)
            finally:
                db.close()
            # Closing the last connection checkpoints the WAL into the file and deletes it;
            # the copies must not miss pages still in a WAL file.
            leftovers = [p for p in folder.iterdir() if p.name.endswith(("-wal", "-shm"))]
            if any(p.stat().st_size for p in leftovers if p.name.endswith("-wal")):
                raise RuntimeError(f"the SQLite template {path} still has a WAL: {leftovers}")
            _sqlite_template = path
            _remove_at_exit(folder)
        return _sqlite_template


def _remove_at_exit(folder: Path) -> None:
    import atexit

    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:  # not in a forked child
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)


# -- PostgreSQL ----------------------------------------------------------------------------


def _postgres_at_head(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    if not name or name == "postgres":
        return
    if not _is_empty(url):
        return
    template = _postgres_template(admin_url)
    target = sql.Identifier(name)
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {}").format(target))
        try:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(target, sql.Identifier(template))
            )
        except psycopg.Error:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(target))  # empty again
            raise


def _is_empty(url: str) -> bool:
    import psycopg

    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%'"
        ).fetchone()
    return row is not None and int(row[0]) == 0


def _postgres_template(admin_url: str) -> str:
    import psycopg
    from psycopg import sql

    key = _admin_key(admin_url)
    with _lock:
        name = _pg_templates.get(key)
        if name is not None:
            return name
        name = f"hw_template_{os.getpid()}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        db = Database(urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}")))
        try:
            ensure_schema(db)
        finally:
            db.close()
        _pg_templates[key] = name
        return name


def _admin_key(admin_url: str) -> str:
    parts = urlsplit(admin_url)
    return f"{parts.hostname}:{parts.port}"


def _libpq(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}"
