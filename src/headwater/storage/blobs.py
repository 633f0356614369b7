"""Content-addressed blob store: a local folder, or any fsspec URL (``s3://bucket/prefix``).

Every blob is stored under the SHA-256 of its bytes, so writing the same value twice stores it
once and a stored blob never changes. Directories are stored as a JSON manifest blob that maps
relative paths to file blobs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from headwater.errors import MissingBlob, StorageError, UserInputError
from headwater.storage.faults import FailureMemory, blob_fault

_KEY = re.compile(r"^sha256/[0-9a-f]{2}/[0-9a-f]{62}$")


def _key_for(digest: str) -> str:
    return f"sha256/{digest[:2]}/{digest[2:]}"


def check_key(key: str) -> str:
    """Refuse anything that is not a blob key this store made (no paths, no '..')."""
    if not isinstance(key, str) or not _KEY.match(key):
        raise UserInputError(f"{key!r} is not a blob key; keys look like 'sha256/ab/<62 hex>'")
    return key


def safe_relpath(rel: str) -> str:
    """A manifest entry must stay inside its directory: no absolute paths, no '..'."""
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts or not p.parts or rel.startswith("~"):
        raise UserInputError(
            f"refusing the path {rel!r}: directory entries must be relative "
            "paths inside the directory"
        )
    return str(p)


class BlobStore:
    """Stores bytes by content. ``url`` is a local folder path or an fsspec URL."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._local: Path | None = None
        self._fs: Any = None
        # Keys known to exist: blobs never change or vanish, so one check per process is enough.
        self._known: set[str] = set()
        self.failures = FailureMemory()  # recent failed writes, for /healthz
        if "://" not in url or url.startswith("file://"):
            self._local = Path(url.removeprefix("file://")).expanduser()
            self._local.mkdir(parents=True, exist_ok=True)

    @property
    def folder(self) -> Path | None:
        """The local folder of the store (None for a remote one)."""
        return self._local

    # -- the file system behind the store -------------------------------------------------
    def _remote(self) -> Any:
        if self._fs is None:
            import fsspec  # imported on first remote use: it costs ~150 ms

            try:
                # Our own file system object, not fsspec's cached one for the same URL: that
                # one keeps the endpoint and credentials of whoever opened it first (an
                # instance opened later with other AWS_* settings would talk to the old server).
                self._fs, self._root = fsspec.core.url_to_fs(self.url, skip_instance_cache=True)
            except (ImportError, ValueError) as exc:
                raise StorageError(
                    f"cannot open blob store {self.url!r}: {exc}. Install the "
                    "fsspec implementation for this URL (e.g. s3fs)."
                ) from exc
        return self._fs

    def location(self, key: str) -> str:
        """Where the blob lives: a local path or a full URL."""
        check_key(key)
        if self._local is not None:
            return str(self._local / key)
        self._remote()
        return f"{self._root.rstrip('/')}/{key}"

    # -- bytes -----------------------------------------------------------------------------
    def put_bytes(self, data: bytes) -> str:
        """Store ``data``; returns its key. Idempotent."""
        key = _key_for(hashlib.sha256(data).hexdigest())
        if key in self._known:
            return key
        if self._local is not None:
            path = os.path.join(self._local, key)
            if not os.path.exists(path):
                try:
                    self._write_local(path, data)
                except OSError as exc:
                    fault = blob_fault(exc, str(self._local))
                    self.failures.note(fault)
                    raise fault from exc
        else:
            fs = self._remote()
            loc = self.location(key)
            if not fs.exists(loc):
                try:
                    fs.pipe_file(loc, data)
                except OSError as exc:
                    fault = blob_fault(exc, self.url)
                    self.failures.note(fault)
                    raise fault from exc
        self._known.add(key)
        return key

    @staticmethod
    def _write_local(path: str, data: bytes) -> None:
        """Write to a temporary name, then rename: a reader never sees half a blob. The
        temporary file goes on any failure (a full disk would otherwise keep every one)."""
        folder = os.path.dirname(path)
        try:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        except FileNotFoundError:
            os.makedirs(folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def get_bytes(self, key: str) -> bytes:
        """The bytes stored under ``key``."""
        loc = self.location(key)
        try:
            if self._local is not None:
                return Path(loc).read_bytes()
            return bytes(self._remote().cat_file(loc))
        except FileNotFoundError:
            raise MissingBlob(
                f"blob {key} is missing from {self.url}; the blob store was "
                "changed or cleaned outside Headwater"
            ) from None

    def open(self, key: str) -> BinaryIO:
        """A binary file object reading the blob (for bounded or streamed reads); close it."""
        loc = self.location(key)
        try:
            if self._local is not None:
                return open(loc, "rb")  # the caller closes it
            handle: BinaryIO = self._remote().open(loc, "rb")
            return handle
        except FileNotFoundError:
            raise MissingBlob(
                f"blob {key} is missing from {self.url}; the blob store was "
                "changed or cleaned outside Headwater"
            ) from None

    def size(self, key: str) -> int:
        """How many bytes the blob holds (without reading them)."""
        loc = self.location(key)
        try:
            if self._local is not None:
                return os.path.getsize(loc)
            return int(self._remote().size(loc))
        except FileNotFoundError:
            raise MissingBlob(f"blob {key} is missing from {self.url}") from None

    def exists(self, key: str) -> bool:
        loc = self.location(key)
        if self._local is not None:
            return Path(loc).exists()
        return bool(self._remote().exists(loc))

    # -- files and directories --------------------------------------------------------------
    def put_file(self, path: str | os.PathLike[str]) -> str:
        """Store a local file's content; returns its key."""
        return self.put_bytes(Path(path).read_bytes())

    def get_file(self, key: str, dest: str | os.PathLike[str]) -> Path:
        """Write the blob to ``dest`` (parents created) and return the path."""
        out = Path(dest)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(self.get_bytes(key))
        return out

    def put_tree(self, root: str | os.PathLike[str]) -> str:
        """Store every file below ``root``; returns the key of the manifest."""
        base = Path(root)
        if not base.is_dir():
            raise UserInputError(f"{base} is not a directory")
        manifest = {}
        for p in sorted(base.rglob("*")):
            if p.is_file() and not p.is_symlink():
                manifest[p.relative_to(base).as_posix()] = self.put_file(p)
        return self.put_bytes(json.dumps({"manifest": manifest}, sort_keys=True).encode())

    def tree_manifest(self, key: str) -> dict[str, str]:
        body = json.loads(self.get_bytes(key))
        return {safe_relpath(k): check_key(v) for k, v in body["manifest"].items()}

    def get_tree(self, key: str, dest: str | os.PathLike[str]) -> Path:
        """Recreate a stored directory under ``dest``."""
        out = Path(dest)
        out.mkdir(parents=True, exist_ok=True)
        for rel, file_key in self.tree_manifest(key).items():
            self.get_file(file_key, out / rel)
        return out
