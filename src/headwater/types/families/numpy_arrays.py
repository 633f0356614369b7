"""numpy arrays, stored in the ``.npy`` format without pickle.

Object arrays and ndarray subclasses (masked arrays, matrices) are pickled instead: ``.npy``
would lose what makes them different.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
from typing import Any

from headwater.storage.blobs import BlobStore
from headwater.types.families.base import (
    Family,
    Literal,
    Refused,
    blob_of,
    expect,
    make_literal,
)
from headwater.types.families.pickled import write_pickle
from headwater.types.families.summaries import (
    ARRAY_VALUES,
    PARSE_LIMIT,
    Summary,
    blob_key,
    clip_text,
    opaque,
)
from headwater.types.pickled import Unsupported
from headwater.types.preview import clip


def to_npy(array: Any) -> bytes:
    """``.npy`` bytes of a plain ndarray (``allow_pickle=False``)."""
    import numpy as np

    if type(array) is not np.ndarray:
        raise Unsupported(f"{type(array).__qualname__} is an ndarray subclass")
    buf = io.BytesIO()
    try:
        np.save(buf, array, allow_pickle=False)
    except ValueError as exc:  # object arrays
        raise Unsupported(f".npy cannot hold this array without pickle: {exc}") from exc
    return buf.getvalue()


class NumpyArrays(Family):
    name = "ndarray"
    formats = ("npy",)
    library = "numpy"
    suffix = ".npy"

    def owns_class(self, cls: type) -> bool:
        np = sys.modules.get("numpy")
        return np is not None and issubclass(cls, np.ndarray)

    def owns_value(self, value: Any) -> bool:
        np = sys.modules.get("numpy")
        return np is not None and isinstance(value, np.ndarray)

    def write(self, value: Any, tp: Any, type_text: str, blobs: BlobStore, what: str) -> Literal:
        try:
            raw = to_npy(value)
        except Unsupported as exc:
            return write_pickle(value, type_text, blobs, what, reason=str(exc))
        preview = clip(f"ndarray {value.dtype} {tuple(value.shape)}")
        return make_literal("npy", blobs.put_bytes(raw), type_text, len(raw), preview)

    def read(self, literal: Literal, tp: Any, blobs: BlobStore) -> Any:
        import numpy as np

        value = np.load(io.BytesIO(blob_of(literal, blobs)), allow_pickle=False)
        return expect(value, literal, tp)

    def from_text(self, raw: str, kind: Any) -> Any:
        """A ``.npy`` file, or a JSON list like ``[[1, 2], [3, 4]]``."""
        import numpy as np

        path = os.path.expanduser(raw.strip())
        try:
            if os.path.isfile(path):
                return np.load(path, allow_pickle=False)
            return np.array(json.loads(raw))
        except ValueError:
            raise Refused("give a .npy file or a JSON list like [[1, 2], [3, 4]]") from None

    def text_is_path(self, text: str) -> bool:
        return not text.lstrip().startswith("[")  # a JSON list is not read from disk

    def summarize(self, literal: Literal, blobs: BlobStore) -> Summary:
        """Shape and dtype from the ``.npy`` header; the values of a small array, the first
        ``ARRAY_VALUES`` (flat, in memory order) of a large one."""
        import numpy as np

        key = blob_key(literal)
        if key is None:
            return opaque(literal, "the npy literal has no blob")
        with blobs.open(key) as fh:
            try:
                version = np.lib.format.read_magic(fh)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
                else:
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            except ValueError as exc:
                return opaque(literal, f"the .npy header cannot be read: {exc}")
            count = math.prod(shape)
            summary = Summary("array")
            summary.facts = {
                "Shape": str(tuple(shape)),
                "dtype": str(dtype),
                "Elements": f"{count:,}",
            }
            if count * dtype.itemsize <= PARSE_LIMIT:
                fh.seek(0)
                array = np.load(fh, allow_pickle=False)
                summary.text = clip_text(_values_text(array), summary)
            elif not fortran and dtype.itemsize > 0:
                n = min(count, ARRAY_VALUES)
                first = np.frombuffer(fh.read(n * dtype.itemsize), dtype=dtype, count=n)
                summary.text = _values_text(first)
                summary.truncated = True
                summary.note = f"the first {n} of {count:,} values, flattened"
            else:
                summary.note = "a large Fortran-ordered array: download it to see the values"
        return summary


def _values_text(array: Any) -> str:
    """An array's values as numpy prints them (a large one by its edges)."""
    import numpy as np

    return np.array2string(array, max_line_width=100, threshold=200, edgeitems=3)


NUMPY = NumpyArrays()
