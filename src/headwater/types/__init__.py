"""Headwater's type engine: Python values <-> stored literals, type checks, CLI coercion.

A *literal* is a JSON-serializable dict that describes a stored value::

    {"format": "json" | "bytes" | "parquet-pandas" | "parquet-arrow" | "parquet-polars"
               | "npy" | "file" | "directory" | "pickle" | "none",
     "blob": "sha256/..",    # BlobStore key of the bytes; absent for "none" and inline JSON
     "type": "list[int]",    # declared type, or the runtime type when declared Any
     "size": 123,            # bytes stored (a directory: total bytes of its files)
     "preview": "[1, 2, 3]", # at most 200 characters
     "value": [1, 2, 3],     # format json at most 4096 bytes: held here instead of a blob
     "pickled": True, "note": "stored with cloudpickle: ...",  # the pickle fallback only
     "name": "report.csv"}   # file and directory only

Storage by declared type: bool/int/float/str/datetime/date/timedelta/Enum/Literal/UUID/
Decimal, and list/set/tuple/dict/Optional/Union, dataclasses, pydantic models, NamedTuples
and TypedDicts of those -> type-directed JSON (see :mod:`headwater.types.json_codec`);
bytes -> raw bytes; pandas.DataFrame / pyarrow.Table / polars.DataFrame -> Parquet;
numpy.ndarray -> .npy;
File / Directory -> uploaded content. Anything else, and any value JSON or the dedicated
format cannot hold exactly (e.g. a ``dict[str, Any]`` holding a datetime, an object array,
a DataFrame with integer column names), falls back to cloudpickle with ``"pickled": True``.
Under ``Any`` (or no annotation) the runtime value decides: plain JSON (None, bool, int,
finite float, str, list, dict with str keys) -> json, and tuples, sets, datetimes,
dataclasses, NaN... -> pickle, so they come back exactly.

Each storage format belongs to a value-type family (one module each, registered in
:mod:`headwater.types.families`), which detects its values, writes and reads them, checks
them, previews them and converts command-line text to them.

Importing this package imports no pandas, pyarrow, numpy, polars, cloudpickle, pydantic or
fsspec.
"""

from __future__ import annotations

from typing import Any

from headwater.storage.blobs import BlobStore
from headwater.types import checking, decoding, engine, families, introspect
from headwater.types import coerce as _coerce
from headwater.types.files import Directory, File

__all__ = [
    "Directory",
    "File",
    "check",
    "coerce",
    "decode",
    "download_suffix",
    "encode",
    "is_pickled",
    "type_name",
]


def encode(value: Any, py_type: Any, blobs: BlobStore, *, what: str = "value") -> dict[str, Any]:
    """Check ``value`` against ``py_type``, store its bytes in ``blobs``, return the literal.

    ``what`` names the value in errors (``"input 'n'"``). Raises TypeMismatchError when the
    value does not fit the type (or cannot be stored at all), UserInputError when a File or
    Directory does not exist. Equal values give equal blob keys.
    """
    return engine.encode_literal(value, py_type, blobs, what)


def decode(literal: dict[str, Any], py_type: Any, blobs: BlobStore) -> Any:
    """The Python value of a literal made by :func:`encode`.

    With ``py_type`` None or ``Any`` the literal's format decides: json -> plain JSON values,
    parquet-pandas -> DataFrame, parquet-arrow -> pyarrow.Table, parquet-polars ->
    polars.DataFrame, npy -> ndarray, file ->
    File, directory -> Directory, pickle -> the object, bytes -> bytes. A declared type
    rebuilds JSON exactly (datetimes, Enums, tuples, dataclasses...), reads any Parquet
    format as a pandas or polars DataFrame or a Table, and is checked: TypeMismatchError when the stored value
    does not fit. Files and directories are downloaded lazily, on first use.
    """
    return decoding.decode_literal(literal, py_type, blobs)


def check(value: Any, py_type: Any, what: str) -> None:
    """Raise TypeMismatchError unless ``value`` is a ``py_type``.

    The message names ``what``, the expected type and what was found, e.g.
    ``input 'n' expects int, got str ('abc')`` or
    ``input 'xs' expects list[int], got str at [2] ('a') where int is expected``.
    bool is not an int or float; int is a float; a datetime is not a date; containers,
    dataclass fields, Optional/Union, Literal and Enum are checked; ``Annotated[T, ...]``
    is checked as T; ``Any``/None accept everything.
    """
    checking.check(value, py_type, what)


def coerce(raw: str, py_type: Any, what: str) -> Any:
    """Convert command-line text (``-i k=v``) to ``py_type``.

    int, float, bool (true/false, yes/no, 1/0), str, bytes (UTF-8), datetime/date (ISO 8601),
    timedelta (seconds, or ``1h30m``, ``2d``, ``15m``, ``30s``), Enum (value or name),
    Literal, list/set/tuple/dict/dataclass/pydantic (JSON text; flat lists also ``a,b,c``),
    Optional (empty or ``null`` -> None), File/Directory (an existing local path),
    pandas/polars DataFrame, pyarrow.Table (a .parquet or .csv path), ndarray (.npy path or
    JSON list).
    Raises TypeMismatchError naming ``what``, the type and the text, with the accepted form.
    """
    return _coerce.coerce(raw, py_type, what)


def type_name(py_type: Any) -> str:
    """A readable name: ``int``, ``list[int]``, ``dict[str, float]``, ``Optional[int]``,
    ``pandas.DataFrame``, ``pyarrow.Table``, ``polars.DataFrame``, ``numpy.ndarray``, ``File``,
    ``mymodule.MyDataclass``, ``Any``."""
    return introspect.type_name(py_type)


def is_pickled(literal: dict[str, Any]) -> bool:
    """Whether the literal was stored with the cloudpickle fallback."""
    return bool(isinstance(literal, dict) and literal.get("pickled"))


def download_suffix(literal_format: str) -> str:
    """The file extension of a literal's blob when it is downloaded (``".parquet"``), or
    ``""`` when its format has none."""
    family = families.by_format(literal_format)
    return family.suffix if family is not None else ""
