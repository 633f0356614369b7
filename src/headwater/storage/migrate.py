"""Bring a metadata database to the schema this code expects, with Alembic.

Checking is one cheap query; Alembic (and SQLAlchemy) are imported only when the database is
behind, so a process that finds the schema current starts fast.
"""

from __future__ import annotations

import fcntl
from pathlib import Path

from headwater.errors import StorageError
from headwater.storage.db import Database

HEAD = "0019"
_MIGRATIONS = Path(__file__).with_name("migrations")
_PG_LOCK = 0x68770001  # advisory lock id: one migrator at a time


def current_revision(db: Database) -> str | None:
    with db.read() as tx:
        try:
            return tx.scalar("SELECT version_num FROM alembic_version")
        except Exception:
            if db.dialect == "postgresql":
                tx.conn.rollback()
            return None


def upgrade(db: Database, revision: str = "head") -> None:
    """Run the Alembic migrations up to ``revision`` (one process at a time)."""
    _run(db, "upgrade", revision)


def downgrade(db: Database, revision: str) -> None:
    """Undo migrations down to ``revision`` (``"base"`` drops every table)."""
    _run(db, "downgrade", revision)


def _run(db: Database, direction: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    engine = create_engine(db.sqlalchemy_url)
    lock_file = None
    try:
        if db.dialect == "sqlite":
            lock_file = open(f"{db.path}.migrate-lock", "w")  # noqa: SIM115
            fcntl.flock(lock_file, fcntl.LOCK_EX)
        with engine.connect() as conn:
            if db.dialect == "postgresql":
                conn.execute(text(f"SELECT pg_advisory_lock({_PG_LOCK})"))
                conn.commit()
            try:
                cfg.attributes["connection"] = conn
                getattr(command, direction)(cfg, revision)
                conn.commit()
            finally:
                if db.dialect == "postgresql":
                    conn.execute(text(f"SELECT pg_advisory_unlock({_PG_LOCK})"))
                    conn.commit()
    except Exception as exc:
        raise StorageError(f"migrating the metadata database {db.url} failed: {exc}") from exc
    finally:
        if lock_file is not None:
            lock_file.close()
        engine.dispose()


def ensure_schema(db: Database) -> None:
    """Migrate when the database is not at ``HEAD``; refuse a database from newer code."""
    rev = current_revision(db)
    if rev == HEAD:
        return
    if rev is not None and rev > HEAD:
        raise StorageError(
            f"the metadata database {db.url} is at schema {rev}, newer than this "
            f"Headwater ({HEAD}); upgrade Headwater"
        )
    upgrade(db)
