"""``File`` and ``Directory``: local paths that travel through the blob store.

A task returns ``File("out.csv")``; Headwater uploads the content. A task that receives a
stored ``File`` gets an object whose content is downloaded on first use (``.path``,
``open()``, ``download()``) into a local cache: ``$HEADWATER_FILE_CACHE`` or
``<tempdir>/headwater-files``, under ``<blob key>/<original name>``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from headwater.errors import UserInputError
from headwater.storage.blobs import BlobStore, check_key

_WRITE_MODES = frozenset("wax+")


def cache_root() -> Path:
    """Where stored files and directories are materialized."""
    env = os.environ.get("HEADWATER_FILE_CACHE")
    return Path(env) if env else Path(tempfile.gettempdir()) / "headwater-files"


def safe_name(name: Any) -> str:
    """Refuse a stored name that could escape the cache directory."""
    if (
        not isinstance(name, str)
        or name in ("", ".", "..")
        or any(c in name for c in ("/", "\\", "\0"))
    ):
        raise UserInputError(
            f"refusing the file name {name!r}: a stored File or Directory name must be a "
            "plain name, without '/', '\\' or '..'"
        )
    return name


def _materialize_file(store: BlobStore, key: str, name: str) -> str:
    target = cache_root() / check_key(key) / safe_name(name)
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(store.get_bytes(key))
        os.replace(tmp, target)
    return str(target)


def _materialize_tree(store: BlobStore, key: str, name: str) -> str:
    target = cache_root() / check_key(key) / safe_name(name)
    if not target.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = tempfile.mkdtemp(dir=target.parent, prefix=".tmp-")
        store.get_tree(key, tmp)
        try:
            os.replace(tmp, target)
        except OSError:  # another process got there first
            shutil.rmtree(tmp, ignore_errors=True)
    return str(target)


class _Stored(ABC):
    """Shared parts of File and Directory: a local path, or a blob not yet downloaded."""

    __slots__ = ("_blob", "_name", "_path", "_size", "_store")
    _kind = ""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        text = os.fspath(path)
        if not isinstance(text, str):
            raise TypeError(f"{type(self).__name__} needs a str path, got {type(text).__name__}")
        self._path: str | None = text
        self._name = os.path.basename(os.path.abspath(text)) or text
        self._blob: str | None = None
        self._store: BlobStore | None = None
        self._size: int | None = None

    @classmethod
    def _from_blob(cls, store: BlobStore, key: Any, name: Any, size: Any = None) -> Any:
        obj = cls.__new__(cls)
        obj._path = None
        obj._name = safe_name(name)
        obj._blob = check_key(key)
        obj._store = store
        obj._size = size if isinstance(size, int) else None
        return obj

    @abstractmethod
    def _materialize(self) -> str:
        """Download the stored content to a local path and return it."""

    @property
    def path(self) -> str:
        """The local path (downloads a stored one on first use)."""
        if self._path is None:
            self._path = self._materialize()
        return self._path

    @property
    def name(self) -> str:
        """The file or directory name, without folders."""
        return self._name

    @property
    def blob(self) -> str | None:
        """The blob key when this came from the blob store, else None."""
        return self._blob

    def __fspath__(self) -> str:
        return self.path

    def __repr__(self) -> str:
        if self._path is None:
            return f"{type(self).__name__}(name={self._name!r}, blob={self._blob!r})"
        return f"{type(self).__name__}({self._path!r})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _Stored)
        if self._blob is not None and other._blob is not None:
            return (self._blob, self._name) == (other._blob, other._name)
        return self.path == other.path

    def __hash__(self) -> int:
        return hash((self._kind, self._name))


class File(_Stored):
    """A file: ``File("report.csv")``. Returned by a task, its content is stored."""

    __slots__ = ()
    _kind = "file"

    @classmethod
    def new(cls, name: str = "file") -> File:
        """A fresh local path named ``name`` (not created) for a task to write to."""
        folder = tempfile.mkdtemp(prefix="headwater-new-")
        return cls(os.path.join(folder, safe_name(name)))

    def _materialize(self) -> str:
        assert self._store is not None and self._blob is not None
        return _materialize_file(self._store, self._blob, self._name)

    def open(self, mode: str = "rb", **kwargs: Any) -> IO[Any]:
        """Open the file. Stored files are read-only: write a ``File.new()`` instead."""
        if self._blob is not None and _WRITE_MODES.intersection(mode):
            raise UserInputError(
                f"{self!r} is stored and read-only; write to File.new({self._name!r}) instead"
            )
        return open(self.path, mode, **kwargs)

    def read_bytes(self) -> bytes:
        """The whole content."""
        return Path(self.path).read_bytes()

    def read_text(self, encoding: str = "utf-8") -> str:
        """The whole content, decoded."""
        return Path(self.path).read_text(encoding=encoding)

    def download(self, dest: str | os.PathLike[str] | None = None) -> str:
        """A local path holding the content: ``.path``, or a copy at ``dest`` (a file path,
        or an existing directory to copy into)."""
        if dest is None:
            return self.path
        out = Path(dest)
        if out.is_dir():
            out = out / self._name
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path, out)
        return str(out)


class Directory(_Stored):
    """A directory tree: ``Directory("outputs/")``. Returned by a task, every file below
    it is stored."""

    __slots__ = ()
    _kind = "directory"

    @classmethod
    def new(cls, name: str = "dir") -> Directory:
        """A fresh, empty local directory named ``name`` for a task to fill."""
        folder = Path(tempfile.mkdtemp(prefix="headwater-new-")) / safe_name(name)
        folder.mkdir()
        return cls(folder)

    def _materialize(self) -> str:
        assert self._store is not None and self._blob is not None
        return _materialize_tree(self._store, self._blob, self._name)

    def files(self) -> list[str]:
        """Relative POSIX paths of every file below, sorted. A stored directory is listed
        from its manifest, without downloading it."""
        if self._path is None and self._store is not None and self._blob is not None:
            return sorted(self._store.tree_manifest(self._blob))
        base = Path(self.path)
        return sorted(
            p.relative_to(base).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.is_symlink()
        )

    def walk(self) -> Iterator[tuple[str, str]]:
        """``(relative path, local path)`` of every file below (downloads a stored one)."""
        for rel in self.files():
            yield rel, os.path.join(self.path, *rel.split("/"))

    def download(self, dest: str | os.PathLike[str] | None = None) -> str:
        """A local directory holding the tree: ``.path``, or a copy at ``dest``."""
        if dest is None:
            return self.path
        shutil.copytree(self.path, dest, dirs_exist_ok=True)
        return os.fspath(dest)
