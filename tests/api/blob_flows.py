"""Workflows whose outputs are stored as blobs (raw bytes; files inside a JSON list), for the
blob-scoping tests."""

import tempfile
from pathlib import Path

from headwater import File, task, workflow


@task
def echo(data: bytes) -> bytes:
    return data


@workflow
def echo_bytes(data: bytes = b"") -> bytes:
    return echo(data=data)


@task
def write_files(n: int) -> list[File]:
    folder = Path(tempfile.mkdtemp())
    out = []
    for i in range(n):
        path = folder / f"part-{i}.txt"
        path.write_text(f"part {i}")
        out.append(File(path))
    return out


@workflow
def many_files(n: int = 1) -> list[File]:
    return write_files(n=n)
