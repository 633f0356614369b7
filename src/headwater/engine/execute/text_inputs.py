"""Inputs given as text (``-i k=v``), converted to each input's declared type.

The CLI converts on the user's machine. A server converting for a client (``relaunch`` over
HTTP) passes ``local_paths=False``: a File, Directory, table or array named by a
path would be read from the *server's* disk, not the client's, so such text is refused.
"""

from __future__ import annotations

from typing import Any

from headwater.errors import UserInputError
from headwater.types import coerce, families, type_name
from headwater.types.introspect import kind_of, union_members


def from_text(entity: Any, raw: dict[str, str], *, local_paths: bool = True) -> dict[str, Any]:
    """Convert text values to the declared input types of ``entity`` (a task or workflow).

    ``hw://`` values stay URIs for the engine to resolve; names the entity does not declare
    stay text, and the engine refuses them with the list of inputs. A value that does not
    convert raises TypeMismatchError naming the input.
    """
    inputs = entity.interface.inputs
    values: dict[str, Any] = {}
    for key, text in raw.items():
        spec = inputs.get(key)
        if spec is None or text.startswith("hw://"):
            values[key] = text
            continue
        if not local_paths and _reads_path(spec.type, text):
            raise UserInputError(
                f"input {key!r} expects {type_name(spec.type)}, which is read from a path, "
                "and the server does not read paths sent over HTTP; run the command on the "
                f"server's machine without HEADWATER_API_URL (a relaunch without -i {key}=... "
                "keeps the recorded value)"
            )
        values[key] = coerce(text, spec.type, f"input {key!r}")
    return values


def _reads_path(tp: Any, text: str) -> bool:
    kind = kind_of(tp)
    if kind.name == "union":
        members, _ = union_members(kind.args)
        return any(_reads_path(m, text) for m in members)
    family = families.by_kind(kind.name)
    return family is not None and family.text_is_path(text)
