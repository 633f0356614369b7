"""One typed settings object, read from ``HEADWATER_*`` variables and an optional config file.

Precedence: explicit arguments, then environment variables, then ``$HEADWATER_HOME/config.toml``
(keys without the prefix, lower case: ``database_url = "postgresql+psycopg://..."``), then
defaults (SQLite and a blob folder under ``~/.headwater``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from headwater.definitions.names import check_name
from headwater.errors import UserInputError

DEFAULT_PROJECT = "default"
DEFAULT_DOMAIN = "development"


@dataclass(frozen=True)
class Settings:
    """Where metadata and blobs live, and which project/domain work goes to by default."""

    home: Path
    database_url: str
    storage_url: str
    project: str = DEFAULT_PROJECT
    domain: str = DEFAULT_DOMAIN
    api_url: str | None = None
    api_token: str | None = None
    executor: str | None = None  # headwater.map: None/'local' or 'dask://host:8786'
    openlineage_url: str | None = None  # OpenLineage export target (docs/openlineage.md)
    # retention policies for `headwater gc` (JSON text, or a [retention] table in config.toml;
    # docs/retention.md) and how often `headwater up` runs it (seconds; None: never)
    retention: Any = None
    gc_interval: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(
            overrides.pop("home", None) or env.get("HEADWATER_HOME") or Path.home() / ".headwater"
        ).expanduser()
        values: dict[str, Any] = {}
        config = home / "config.toml"
        if config.is_file():
            try:
                values.update(tomllib.loads(config.read_text()))
            except tomllib.TOMLDecodeError as exc:
                raise UserInputError(f"{config} is not valid TOML: {exc}") from None
        known = {f.name for f in fields(cls)} - {"home"}
        unknown = set(values) - known
        if unknown:
            raise UserInputError(
                f"{config}: unknown setting(s) {sorted(unknown)}; known: {sorted(known)}"
            )
        for name in known:
            if f"HEADWATER_{name.upper()}" in env:
                values[name] = env[f"HEADWATER_{name.upper()}"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        values.setdefault("database_url", f"sqlite:///{home / 'headwater.db'}")
        values.setdefault("storage_url", str(home / "blobs"))
        settings = cls(home=home, **values)
        check_name(settings.project, "project")
        check_name(settings.domain, "domain")
        return settings

    def to_env(self) -> dict[str, str]:
        """The ``HEADWATER_*`` variables that make a child process open this same instance
        (and record its runs for OpenLineage export when that is configured)."""
        env = {
            "HEADWATER_HOME": str(self.home),
            "HEADWATER_DATABASE_URL": self.database_url,
            "HEADWATER_STORAGE_URL": self.storage_url,
            "HEADWATER_PROJECT": self.project,
            "HEADWATER_DOMAIN": self.domain,
        }
        if self.openlineage_url:
            env["HEADWATER_OPENLINEAGE_URL"] = self.openlineage_url
        return env

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)
