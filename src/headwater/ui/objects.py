"""The Object tab of an artifact version and its download.

The tab shows the stored literal (format, type, size, blob key and where the blob lives) and
a bounded preview of the value, as the value's family summarizes it
(:func:`headwater.types.families.summarize`: a table's schema, row count and first rows,
pretty JSON, an array's shape and dtype, file listings). ``/artifacts/<project>/<domain>/
<name>@<version>/download`` streams the stored bytes: one blob as a file, a directory as a
zip, small JSON held in the literal as a ``.json`` file. Both answer to the same auth as every
page: a token for another project gets 403, and a viewer may download (it is a read).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from headwater import client
from headwater.errors import MissingBlob, NotFoundError, UserInputError
from headwater.instance import Instance, get_instance
from headwater.storage.blobs import BlobStore, check_key
from headwater.types import download_suffix, families
from headwater.types.families import Summary
from headwater.types.families.summaries import PREVIEW_COLUMNS
from headwater.types.preview import human_size
from headwater.ui.render import HEADERS, error_page

router = APIRouter(include_in_schema=False)

CHUNK = 1024 * 1024  # bytes read from the blob store per piece of a download
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MEDIA = {"json": "application/json", "directory": "application/zip"}
_PARQUET = "application/vnd.apache.parquet"


def _inst(request: Request) -> Instance:
    inst: Instance = request.app.state.instance
    return inst


def blob_location(blobs: BlobStore, key: str) -> str:
    """Where a blob lives: a local path, or the store's URL (``s3://…``) and the key."""
    folder = blobs.folder
    return str(folder / key) if folder is not None else f"{blobs.url}/{key}"


def summary_of(literal: dict[str, Any], blobs: BlobStore) -> Summary:
    """The value's summary; a preview that fails says why instead of failing the page."""
    try:
        return families.summarize(literal, blobs)
    except MissingBlob as exc:
        return Summary("opaque", note=str(exc))
    except Exception as exc:  # a damaged blob, a missing library: the page still shows
        return Summary("opaque", note=f"no preview: {type(exc).__name__}: {exc}")


def object_context(inst: Instance, version: Any) -> dict[str, Any]:
    """What the Object tab shows: the literal's facts, the value's summary, the download."""
    literal = version.literal
    key = literal.get("blob") if isinstance(literal.get("blob"), str) else None
    facts = [
        ("Format", str(literal.get("format", "?"))),
        ("Type", str(literal.get("type") or "?")),
    ]
    if isinstance(literal.get("size"), int):
        facts.append(("Size", f"{human_size(literal['size'])} ({literal['size']:,} bytes)"))
    facts.append(("Blob key", key or "none: the value is held in the literal itself"))
    if key is not None:
        facts.append(("Location", blob_location(inst.blobs, key)))
    summary = summary_of(literal, inst.blobs)
    return {
        "object_facts": facts,
        "object_note": literal.get("note"),
        "summary": summary,
        "row_columns": [name for name, _ in summary.columns[:PREVIEW_COLUMNS]],
        "downloadable": literal.get("format") != "none",
    }


def table_facts(version: Any) -> dict[str, str]:
    """Rows and schema of a version holding a table (``{}`` for other values), for the
    Versions comparison; read from the Parquet footer of the instance in use."""
    if not str(version.literal.get("format", "")).startswith("parquet-"):
        return {}
    summary = summary_of(version.literal, get_instance().blobs)
    if summary.kind != "table":
        return {"Rows": "?", "Schema": summary.note or "?"}
    return {"Rows": f"{summary.row_count:,}", "Schema": summary.schema_text()}


def _disposition(filename: str) -> str:
    """``attachment`` with a plain ASCII name, and the exact one for browsers that read it."""
    plain = _UNSAFE.sub("_", filename).lstrip(".") or "download"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _chunks(blobs: BlobStore, key: str) -> Iterator[bytes]:
    with blobs.open(key) as fh:
        while piece := fh.read(CHUNK):
            yield piece


class _Sink(io.RawIOBase):
    """Where a zip is written while it streams: the bytes written since the last take."""

    def __init__(self) -> None:
        self._pieces: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._pieces.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self._pieces)
        self._pieces.clear()
        return out


def zip_stream(blobs: BlobStore, manifest_key: str) -> Iterator[bytes]:
    """A stored directory as a zip, produced piece by piece (never whole in memory)."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for rel, key in sorted(blobs.tree_manifest(manifest_key).items()):
            with archive.open(rel, "w", force_zip64=True) as out:
                for piece in _chunks(blobs, key):
                    out.write(piece)
                    if data := sink.take():
                        yield data
    if data := sink.take():
        yield data


@router.get("/artifacts/{project}/{domain}/{ref}/download")
def download(request: Request, project: str, domain: str, ref: str) -> Response:
    """The stored bytes of a version, as a file to save."""
    name, sep, version_text = ref.rpartition("@")
    if not sep or not name or not version_text:
        return error_page(
            400,
            "Bad artifact address",
            f"{ref!r} is not NAME@VERSION; a download is "
            "/artifacts/PROJECT/DOMAIN/NAME@VERSION/download",
        )
    uri = f"hw://{project}/{domain}/{name}@{version_text}"
    who = getattr(request.state, "principal", None)
    if who is not None and not who.may_see(project):
        mine = getattr(who, "project", "?")
        return error_page(
            403, "Forbidden", f"{uri} is in project {project!r}; your token is for {mine!r}"
        )
    inst = _inst(request)
    try:
        with inst.use():
            version = client.get_artifact(uri)
    except NotFoundError:
        return error_page(404, "Not found", f"no artifact version {uri}")
    except UserInputError as exc:
        return error_page(400, "Bad artifact address", str(exc))
    return _download(inst.blobs, version)


def _download(blobs: BlobStore, version: Any) -> Response:
    literal = version.literal
    fmt = str(literal.get("format", ""))
    base = f"{version.name}-{version.version}"
    if fmt == "none":
        return error_page(404, "Nothing to download", f"{version.uri} holds None")
    headers = dict(HEADERS)
    if not isinstance(literal.get("blob"), str):  # small JSON held in the literal
        body = json.dumps(literal.get("value"), sort_keys=True).encode()
        headers["Content-Disposition"] = _disposition(f"{base}.json")
        return Response(body, media_type="application/json", headers=headers)
    try:
        key = check_key(literal["blob"])
        if fmt == "directory":
            blobs.tree_manifest(key)  # a missing or damaged manifest fails here, not mid-stream
            headers["Content-Disposition"] = _disposition(f"{literal.get('name') or base}.zip")
            return StreamingResponse(
                zip_stream(blobs, key), media_type="application/zip", headers=headers
            )
        size = blobs.size(key)
    except (MissingBlob, UserInputError) as exc:
        return error_page(404, "Not found", f"the stored bytes of {version.uri}: {exc}")
    filename = str(literal.get("name") or base) if fmt == "file" else base + download_suffix(fmt)
    headers["Content-Disposition"] = _disposition(filename)
    headers["Content-Length"] = str(size)
    media = _PARQUET if fmt.startswith("parquet-") else _MEDIA.get(fmt)
    return StreamingResponse(
        _chunks(blobs, key), media_type=media or "application/octet-stream", headers=headers
    )
