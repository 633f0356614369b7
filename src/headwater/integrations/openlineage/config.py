"""Where events go: the ``openlineage-python`` client, configured by Headwater or by itself.

- ``HEADWATER_OPENLINEAGE_URL`` (or ``openlineage_url`` in ``$HEADWATER_HOME/config.toml``):
  ``http(s)://host:port`` sends to ``<url>/api/v1/lineage`` (Marquez and any OpenLineage
  endpoint); ``file:///path/events.ndjson`` (or a plain path) appends one event per line;
  ``console`` logs each event.
- Otherwise the client's own configuration: ``OPENLINEAGE_URL``, ``OPENLINEAGE__TRANSPORT__*``,
  ``openlineage.yml`` (``OPENLINEAGE_CONFIG``, the working directory, ``~/.openlineage``).

Retries are Headwater's (the outbox and :mod:`.sender`), so the HTTP transport built here
does not retry by itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater.errors import UserInputError
from headwater.storage import openlineage_outbox

if TYPE_CHECKING:
    from openlineage.client import OpenLineageClient

    from headwater.settings import Settings

HTTP_TIMEOUT = 5.0  # seconds per request


def headwater_url(settings: Settings | None) -> str | None:
    """Headwater's own setting (environment first, then the settings object)."""
    if os.environ.get("HEADWATER_OPENLINEAGE_URL"):
        return os.environ["HEADWATER_OPENLINEAGE_URL"]
    return getattr(settings, "openlineage_url", None) or None


def configured(settings: Settings | None) -> bool:
    """Is export configured (by Headwater's setting or the client's own)?"""
    switch = os.environ.get(openlineage_outbox.SWITCH, "").strip().lower()
    if switch in ("off", "0", "false", "no"):
        return False
    return bool(headwater_url(settings)) or openlineage_outbox.enabled()


def describe(settings: Settings | None) -> str:
    """Where events go, for log lines: the URL or file (the client's config otherwise)."""
    url = headwater_url(settings)
    if url:
        return url
    if os.environ.get("OPENLINEAGE_URL"):
        return os.environ["OPENLINEAGE_URL"]
    return f"the openlineage-python client's configuration ({os.environ.get('OPENLINEAGE_CONFIG') or 'openlineage.yml'})"


def make_client(settings: Settings | None) -> OpenLineageClient:
    """A client whose transport sends where the settings say."""
    from openlineage.client import OpenLineageClient

    url = headwater_url(settings)
    if not url:
        return OpenLineageClient()
    return OpenLineageClient(transport=transport_for(url))


def transport_for(url: str) -> Any:
    """The transport for a ``HEADWATER_OPENLINEAGE_URL`` value."""
    if url == "console":
        from openlineage.client.transport.console import ConsoleConfig, ConsoleTransport

        return ConsoleTransport(ConsoleConfig())
    if url.startswith(("http://", "https://")):
        from openlineage.client.transport.http import HttpConfig, HttpTransport

        return HttpTransport(
            HttpConfig(url=url, timeout=HTTP_TIMEOUT, retry={"total": 0, "connect": 0, "read": 0})
        )
    if url.startswith("file://") or "://" not in url:
        from openlineage.client.transport.file import FileConfig, FileTransport

        path = Path(url.removeprefix("file://")).expanduser()
        if not path.parent.is_dir():
            raise UserInputError(
                f"HEADWATER_OPENLINEAGE_URL={url!r}: the folder {path.parent} does not exist; "
                "create it or name a file in an existing folder"
            )
        return FileTransport(FileConfig(log_file_path=str(path), append=True))
    raise UserInputError(
        f"HEADWATER_OPENLINEAGE_URL={url!r} is not a URL Headwater can send to; use "
        "http(s)://host:port (an OpenLineage endpoint), file:///path/events.ndjson or console"
    )
