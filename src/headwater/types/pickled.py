"""The fallback: values with no dedicated transformer are stored with cloudpickle.

Unpickling runs code chosen by whoever wrote the blob: only read blob stores you trust.
"""

from __future__ import annotations

from typing import Any

from headwater.errors import TypeMismatchError


class Unsupported(Exception):
    """A dedicated transformer cannot store this value; the caller falls back to pickle."""


def dumps(value: Any, what: str, type_text: str) -> bytes:
    """The cloudpickle bytes of ``value``, or TypeMismatchError naming ``what``."""
    import cloudpickle  # imported on first use: it costs a few ms

    try:
        return bytes(cloudpickle.dumps(value))
    except Exception as exc:
        raise TypeMismatchError(
            f"{what}: cannot store a {type_text}: it has no dedicated transformer and "
            f"cloudpickle failed ({type(exc).__name__}: {exc}). Return a picklable value, "
            "or a JSON-able one (dataclass, dict, list, ...)."
        ) from exc


def loads(data: bytes) -> Any:
    """The object stored by :func:`dumps`."""
    import cloudpickle

    return cloudpickle.loads(data)
