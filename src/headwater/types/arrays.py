"""numpy arrays, stored in the ``.npy`` format without pickle.

Object arrays and ndarray subclasses (masked arrays, matrices) raise :class:`Unsupported`:
``.npy`` would lose what makes them different, so the engine pickles them instead.
"""

from __future__ import annotations

import io
from typing import Any

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


def from_npy(data: bytes) -> Any:
    """The array in ``.npy`` bytes (never unpickles)."""
    import numpy as np

    return np.load(io.BytesIO(data), allow_pickle=False)


def preview_array(array: Any) -> str:
    """``ndarray float64 (3, 4)``."""
    return clip(f"ndarray {array.dtype} {tuple(array.shape)}")


def read_npy_file(path: str) -> Any:
    """A ``.npy`` file as an array."""
    import numpy as np

    return np.load(path, allow_pickle=False)
