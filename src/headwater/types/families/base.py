"""What a value-type family provides, and the helpers families share.

A family owns the values of some Python types: it says which annotations and runtime values
are its own (detect), stores a value as a literal plus a blob (write), reads it back (read),
type-checks values declared as its types (check), converts command-line text (from_text),
writes the literal's one-line preview and describes a stored value cheaply (summarize).
:mod:`headwater.types.families` holds the ordered registry; adding a family is adding a
module and one line there.

A family that wraps a library (pandas, pyarrow, numpy, polars) never imports it to *detect*:
a class or value can only be the library's when the library is already in ``sys.modules``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from headwater.errors import TypeMismatchError, UserInputError
from headwater.storage.blobs import BlobStore
from headwater.types.checking import Fail, matches
from headwater.types.families.summaries import Summary, opaque
from headwater.types.introspect import type_name

if TYPE_CHECKING:
    from headwater.types.introspect import Kind

Literal = dict[str, Any]
Checker = Callable[[Any], "Fail | None"]
Codec = Callable[[Any], Any]


class Refused(ValueError):
    """Command-line text does not convert to the family's type; the message is the hint.

    Never reaches users: :func:`headwater.types.coerce` turns it into TypeMismatchError."""


class Family:
    """One value-type family. Subclasses override what applies to them.

    ``name`` is the :class:`~headwater.types.introspect.Kind` name of the annotations the
    family owns (``"dataframe"``); ``formats`` the literal formats it reads, the first being
    the one it writes; ``library`` the top-level module of the classes it owns (used to name
    them ``pandas.DataFrame``); ``suffix`` the file extension of its blob when downloaded;
    ``nests_in_json`` whether a value of the family can sit inside a JSON value (with
    ``json_encode``/``json_decode`` when the JSON codec needs the family's help).
    """

    name: str = ""
    formats: tuple[str, ...] = ()
    library: str = ""
    suffix: str = ""
    nests_in_json: bool = False
    json_encode: Codec | None = None
    json_decode: Codec | None = None

    def owns_class(self, cls: type) -> bool:
        """Whether annotations of class ``cls`` belong to this family (detect, by type)."""
        return False

    def owns_value(self, value: Any) -> bool:
        """Whether a value declared ``Any`` is stored by this family (detect, by value)."""
        return False

    def reads(self, fmt: str) -> bool:
        """Whether :meth:`read` can turn a literal of format ``fmt`` into this family's type."""
        return fmt in self.formats

    def write(self, value: Any, tp: Any, type_text: str, blobs: BlobStore, what: str) -> Literal:
        """Store ``value`` (already checked against ``tp``) and return its literal."""
        raise NotImplementedError(f"the {self.name} family does not write values")

    def read(self, literal: Literal, tp: Any, blobs: BlobStore) -> Any:
        """The value of ``literal`` as ``tp`` (``Any``: the family's own type)."""
        raise NotImplementedError(f"the {self.name} family does not read values")

    def checker(self, tp: Any, kind: Kind) -> Checker:
        """The type check of values declared ``tp``: an instance of the annotated class."""
        return instance_checker(tp, kind.cls)

    def mismatch_hint(self, value: Any) -> str:
        """Advice appended to a type mismatch when ``value`` was given for this family."""
        return ""

    def from_text(self, raw: str, kind: Kind) -> Any:
        """Command-line text (``-i k=v``) as a value; :class:`Refused` with a hint if not."""
        raise Refused(
            f"a {type_name(kind.cls)} cannot be given as text; pass it from Python instead"
        )

    def text_is_path(self, text: str) -> bool:
        """Whether :meth:`from_text` would read ``text`` as a path on this machine."""
        return False

    def summarize(self, literal: Literal, blobs: BlobStore) -> Summary:
        """A bounded description of the stored value (schema, first rows, shape, a listing):
        read from the literal and the head of its blob, never the whole of a large value."""
        return opaque(literal, f"no preview of {literal.get('type') or self.name} values")


def instance_checker(tp: Any, classes: Any) -> Checker:
    """A check that the value is an instance of ``classes``."""

    def run(value: Any) -> Fail | None:
        try:
            ok = isinstance(value, classes)
        except TypeError:  # e.g. a Protocol that is not runtime-checkable
            return None
        return None if ok else ("", value, tp)

    return run


def make_literal(fmt: str, key: str, type_text: str, size: int, preview: str) -> Literal:
    """The literal of a value stored as one blob."""
    return {"format": fmt, "blob": key, "type": type_text, "size": size, "preview": preview}


def blob_of(literal: Literal, blobs: BlobStore) -> bytes:
    """The bytes a literal points at."""
    key = literal.get("blob")
    if not isinstance(key, str):
        raise UserInputError(f"the {literal['format']} literal has no blob key")
    return blobs.get_bytes(key)


def mismatch(literal: Literal, tp: Any, detail: str = "") -> TypeMismatchError:
    """The error for a stored value that cannot be read as ``tp``."""
    stored = literal.get("type", literal["format"])
    message = f"the stored {stored} value cannot be read as {type_name(tp)}"
    return TypeMismatchError(f"{message}: {detail}" if detail else message)


def expect(value: Any, literal: Literal, tp: Any) -> Any:
    """``value`` when it fits ``tp``, else the mismatch error."""
    if not matches(value, tp):
        raise mismatch(literal, tp, f"it is a {type_name(type(value))}")
    return value
