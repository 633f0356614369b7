"""bytes, stored as the raw bytes (inside a JSON value: base64, by the JSON codec)."""

from __future__ import annotations

from typing import Any

from headwater.storage.blobs import BlobStore
from headwater.types.families.base import Family, Literal, blob_of, expect, make_literal
from headwater.types.families.summaries import TEXT_LIMIT, Summary, blob_key, decoded_text, head
from headwater.types.preview import human_size, short_repr


class RawBytes(Family):
    name = "bytes"
    formats = ("bytes",)
    suffix = ".bin"
    nests_in_json = True

    def owns_value(self, value: Any) -> bool:
        return type(value) is bytes

    def write(self, value: Any, tp: Any, type_text: str, blobs: BlobStore, what: str) -> Literal:
        raw = bytes(value)
        preview = f"{short_repr(raw, 120)} ({human_size(len(raw))})"
        return make_literal("bytes", blobs.put_bytes(raw), type_text, len(raw), preview)

    def read(self, literal: Literal, tp: Any, blobs: BlobStore) -> Any:
        return expect(blob_of(literal, blobs), literal, tp)

    def from_text(self, raw: str, kind: Any) -> Any:
        return raw.encode("utf-8")

    def summarize(self, literal: Literal, blobs: BlobStore) -> Summary:
        """The first bytes: as text when they are UTF-8, else a hex dump."""
        key = blob_key(literal)
        if key is None:
            return Summary("opaque", note="the bytes literal has no blob")
        size = int(literal.get("size") or blobs.size(key))
        summary = Summary("bytes", facts={"Size": human_size(size)})
        data = head(blobs, key, TEXT_LIMIT)
        text = decoded_text(data)
        if text is None:
            data = data[:HEX_LIMIT]
            lines = [data[i : i + 16].hex(" ") for i in range(0, len(data), 16)]
            text = "\n".join(lines)
            summary.note = "not text: the first bytes in hexadecimal"
        summary.text = text
        summary.truncated = size > len(data)
        return summary


HEX_LIMIT = 512  # bytes shown in hexadecimal when a value is not text
BYTES = RawBytes()
