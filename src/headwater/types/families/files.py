"""File and Directory values: the content is uploaded, the literal names it.

At the top of a literal a file is format ``file`` (its blob) and a directory format
``directory`` (a manifest blob); inside a JSON value they are the objects described in
:mod:`headwater.types.stored`. Both are downloaded lazily, on first use.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable
from typing import Any

from headwater.storage.blobs import BlobStore
from headwater.types import stored
from headwater.types.families.base import (
    Checker,
    Family,
    Literal,
    Refused,
    expect,
    instance_checker,
    make_literal,
)
from headwater.types.families.summaries import (
    ENTRY_LIMIT,
    PARSE_LIMIT,
    TEXT_LIMIT,
    Summary,
    blob_key,
    decoded_text,
    head,
)
from headwater.types.files import Directory, File
from headwater.types.introspect import type_name
from headwater.types.json_decode import Shape
from headwater.types.preview import human_size, short_repr


def _json_decoder(tag: str, cls: type) -> Callable[[Any], Any]:
    def run(data: Any) -> Any:
        value = stored.from_json(data, tag)
        if value is None:
            raise Shape(f"expected {type_name(cls)}, found {short_repr(data, 60)}")
        return value

    return run


class _Stored(Family):
    cls: type[File] | type[Directory] = File
    nests_in_json = True

    def owns_class(self, cls: type) -> bool:
        return issubclass(cls, self.cls)

    def owns_value(self, value: Any) -> bool:
        return isinstance(value, self.cls)

    def checker(self, tp: Any, kind: Any) -> Checker:
        return instance_checker(tp, (self.cls, pathlib.PurePath))  # a path names one too

    def read(self, literal: Literal, tp: Any, blobs: BlobStore) -> Any:
        size = literal.get("size")
        value = self.cls._from_blob(blobs, literal.get("blob", ""), literal.get("name"), size)
        return expect(value, literal, tp)

    def text_is_path(self, text: str) -> bool:
        return True


class Files(_Stored):
    name = "file"
    formats = ("file",)
    cls = File
    json_encode = staticmethod(stored.file_to_json)
    json_decode = staticmethod(_json_decoder("file", File))

    def write(self, value: Any, tp: Any, type_text: str, blobs: BlobStore, what: str) -> Literal:
        key, name, size = stored.upload_file(value, blobs, what)
        lit = make_literal("file", key, type_text, size, f"File {name} ({human_size(size)})")
        lit["name"] = name
        return lit

    def from_text(self, raw: str, kind: Any) -> Any:
        path = os.path.expanduser(raw.strip())
        if not os.path.isfile(path):
            raise Refused("give the path of an existing local file")
        return File(path)

    def summarize(self, literal: Literal, blobs: BlobStore) -> Summary:
        """The file's name and size, and its first characters when it is text."""
        key = blob_key(literal)
        if key is None:
            return Summary("opaque", note="the file literal has no blob")
        size = int(literal.get("size") or blobs.size(key))
        name = str(literal.get("name") or "file")
        summary = Summary("file", facts={"Name": name, "Size": human_size(size)})
        summary.entries = [(name, size)]
        data = head(blobs, key, TEXT_LIMIT)
        summary.text = decoded_text(data)
        summary.truncated = summary.text is not None and size > len(data)
        return summary


class Directories(_Stored):
    name = "directory"
    formats = ("directory",)
    cls = Directory
    json_encode = staticmethod(stored.directory_to_json)
    json_decode = staticmethod(_json_decoder("directory", Directory))

    def write(self, value: Any, tp: Any, type_text: str, blobs: BlobStore, what: str) -> Literal:
        key, name, size, count = stored.upload_tree(value, blobs, what)
        preview = f"Directory {name} ({count} files, {human_size(size)})"
        lit = make_literal("directory", key, type_text, size, preview)
        lit["name"] = name
        return lit

    def from_text(self, raw: str, kind: Any) -> Any:
        path = os.path.expanduser(raw.strip())
        if not os.path.isdir(path):
            raise Refused("give the path of an existing local directory")
        return Directory(path)

    def summarize(self, literal: Literal, blobs: BlobStore) -> Summary:
        """The directory's files (relative path and size), the first ``ENTRY_LIMIT``."""
        key = blob_key(literal)
        if key is None:
            return Summary("opaque", note="the directory literal has no manifest blob")
        name = str(literal.get("name") or "directory")
        summary = Summary("directory", facts={"Name": name})
        if blobs.size(key) > PARSE_LIMIT * 8:
            summary.note = "the directory lists too many files to show here; download it"
            return summary
        files = sorted(blobs.tree_manifest(key).items())
        summary.facts["Files"] = f"{len(files):,}"
        if literal.get("size") is not None:
            summary.facts["Size"] = human_size(int(literal["size"]))
        summary.entries = [(rel, blobs.size(k)) for rel, k in files[:ENTRY_LIMIT]]
        summary.truncated = len(files) > ENTRY_LIMIT
        return summary


FILES = Files()
DIRECTORIES = Directories()
