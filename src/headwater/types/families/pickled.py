"""The fallback family: what no other family can store is pickled with cloudpickle.

Unpickling runs code chosen by whoever wrote the blob: only read blob stores you trust.
"""

from __future__ import annotations

from typing import Any

from headwater.storage.blobs import BlobStore
from headwater.types import pickled
from headwater.types.families.base import Family, Literal, blob_of, expect, make_literal
from headwater.types.families.summaries import Summary, opaque
from headwater.types.preview import short_repr


def write_pickle(
    value: Any, type_text: str, blobs: BlobStore, what: str, reason: str = ""
) -> Literal:
    """The pickle literal of ``value``; ``reason`` says why the dedicated family refused it."""
    raw = pickled.dumps(value, what, type_text)
    lit = make_literal("pickle", blobs.put_bytes(raw), type_text, len(raw), short_repr(value))
    lit["pickled"] = True
    lit["note"] = f"stored with cloudpickle: {type_text} has no dedicated transformer"
    if reason:
        lit["note"] += f" ({reason})"
    return lit


class Pickled(Family):
    """Any value at all (the last family in the registry: it owns what no other one does)."""

    name = "pickle"
    formats = ("pickle",)
    suffix = ".pkl"

    def owns_value(self, value: Any) -> bool:
        return True

    def write(self, value: Any, tp: Any, type_text: str, blobs: BlobStore, what: str) -> Literal:
        return write_pickle(value, type_text, blobs, what)

    def read(self, literal: Literal, tp: Any, blobs: BlobStore) -> Any:
        return expect(pickled.loads(blob_of(literal, blobs)), literal, tp)

    def summarize(self, literal: Literal, blobs: BlobStore) -> Summary:
        """Never unpickled (that would run code from the blob): the literal's own preview."""
        note = "stored with cloudpickle; not opened for a preview, since unpickling runs code"
        return opaque(literal, note)


PICKLED = Pickled()
