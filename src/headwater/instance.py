"""The composition root: settings -> metadata database + blob store. No global state elsewhere.

An ``Instance`` is the embedded engine; the public functions in ``headwater`` use the default
one (built from ``HEADWATER_*`` settings on first use). Tests make ephemeral ones::

    with Instance.ephemeral(tmp_path).use():
        headwater.run(my_workflow)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from headwater.settings import Settings
from headwater.storage.blobs import BlobStore
from headwater.storage.db import Database
from headwater.storage.migrate import ensure_schema


class Instance:
    """A metadata database and a blob store, ready to run and record work."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        ensure_schema(self.db)
        self.blobs = BlobStore(settings.storage_url)
        # Per-process memo of registered entities: (entity id, file stamp) -> version.
        self.registered: dict[Any, Any] = {}

    @classmethod
    def ephemeral(cls, folder: str | Path, **overrides: Any) -> Instance:
        """A self-contained instance in ``folder`` (SQLite + local blobs)."""
        home = Path(folder)
        return cls(Settings.from_env({}, home=home, **overrides))

    @property
    def project(self) -> str:
        return self.settings.project

    @property
    def domain(self) -> str:
        return self.settings.domain

    @contextmanager
    def use(self) -> Iterator[Instance]:
        """Make this the default instance inside the ``with`` block (this thread)."""
        token = _override.__dict__.get("value")
        _override.value = self
        try:
            yield self
        finally:
            _override.value = token

    def close(self) -> None:
        self.db.close()

    def __repr__(self) -> str:
        return (
            f"Instance(database={self.settings.database_url!r}, "
            f"storage={self.settings.storage_url!r})"
        )


_override = threading.local()
_default: Instance | None = None
_default_lock = threading.Lock()


def in_use() -> Instance | None:
    """The instance set by ``Instance.use()`` in this thread, if any."""
    inst: Instance | None = getattr(_override, "value", None)
    return inst


def get_instance() -> Instance:
    """The instance in use: one set by ``Instance.use()``, else the default from settings."""
    inst = getattr(_override, "value", None)
    if inst is not None:
        return inst
    global _default
    with _default_lock:
        if _default is None:
            _default = Instance(Settings.from_env())
        return _default


def reset_default() -> None:
    """Forget the default instance (settings are read again on next use)."""
    global _default
    with _default_lock:
        if _default is not None:
            _default.close()
        _default = None
