"""A workflow whose output is stored as a blob (raw bytes), for the blob-scoping tests."""

from headwater import task, workflow


@task
def echo(data: bytes) -> bytes:
    return data


@workflow
def echo_bytes(data: bytes = b"") -> bytes:
    return echo(data=data)
