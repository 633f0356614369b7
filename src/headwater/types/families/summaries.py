"""What a stored value looks like, read cheaply from its literal and the head of its blob.

Each family's ``summarize`` fills a :class:`Summary` (the web UI's Object tab and version
comparison show it). Reads are bounded: a table's schema and row count come from the Parquet
footer, an array's shape and dtype from the ``.npy`` header, JSON and text from the first
bytes; no value is loaded whole unless it is small. Pickled values are never unpickled
(that would run code chosen by whoever wrote them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from headwater.storage.blobs import BlobStore
from headwater.types.preview import clip, short_repr

PREVIEW_ROWS = 20  # first rows of a table
PREVIEW_COLUMNS = 50  # columns of a table shown in its first rows
CELL_LIMIT = 80  # characters of one table cell
TEXT_LIMIT = 64 * 1024  # characters of pretty JSON or plain text
PARSE_LIMIT = 1024 * 1024  # bytes of JSON (or an array) read whole to show it
ENTRY_LIMIT = 200  # files listed of a directory
ARRAY_VALUES = 20  # first values of a large array


@dataclass
class Summary:
    """A bounded description of a stored value.

    ``kind``: ``table``, ``json``, ``text``, ``array``, ``bytes``, ``file``, ``directory``,
    ``none`` or ``opaque`` (no preview: pickled, or unknown). ``facts``: label -> text (rows,
    shape, dtype...). ``columns``: (name, dtype) of a table; ``rows``: its first rows as
    text; ``row_count``: all its rows. ``text``: pretty JSON, plain text or array values.
    ``entries``: (path, size) of a file or of a directory's files. ``truncated``: the rows,
    text or entries shown are only the first part. ``note``: why there is no (full) preview.
    """

    kind: str
    facts: dict[str, str] = field(default_factory=dict)
    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    row_count: int | None = None
    text: str | None = None
    entries: list[tuple[str, int | None]] = field(default_factory=list)
    truncated: bool = False
    note: str = ""

    def schema_text(self) -> str:
        """``a: int64, b: string``: the columns of a table, or ``""``."""
        return ", ".join(f"{name}: {dtype}" for name, dtype in self.columns)


def opaque(literal: dict[str, Any], note: str) -> Summary:
    """No preview of the value: its one-line literal preview and why."""
    summary = Summary("opaque", note=note)
    if literal.get("preview"):
        summary.text = str(literal["preview"])
    return summary


def blob_key(literal: dict[str, Any]) -> str | None:
    key = literal.get("blob")
    return key if isinstance(key, str) else None


def head(blobs: BlobStore, key: str, limit: int) -> bytes:
    """At most ``limit`` bytes from the start of a blob."""
    with blobs.open(key) as fh:
        return fh.read(limit)


def cell(value: Any) -> str:
    """One table cell as short text."""
    if isinstance(value, str):
        return clip(value, CELL_LIMIT)
    if isinstance(value, list | dict | tuple | bytes):
        return short_repr(value, CELL_LIMIT)  # bounded, however long the value
    return clip(str(value), CELL_LIMIT)  # numbers, dates and times as people write them


def clip_text(text: str, summary: Summary) -> str:
    """``text`` cut to ``TEXT_LIMIT`` characters (``summary.truncated`` set when cut)."""
    if len(text) > TEXT_LIMIT:
        summary.truncated = True
        return text[:TEXT_LIMIT]
    return text


def decoded_text(data: bytes) -> str | None:
    """``data`` as UTF-8 text when it is text (a cut multi-byte character at the end is
    allowed), else None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(data) - 3:
            return None
        text = data[: exc.start].decode("utf-8")
    if any(ch in text for ch in "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f"):
        return None
    return text
