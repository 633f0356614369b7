"""A throwaway SeaweedFS S3 endpoint on free loopback ports, for tests of several machines."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests._s3 import S3, seaweed


@pytest.fixture(scope="session")
def seaweed_s3() -> Iterator[S3]:
    with seaweed() as s3:
        yield s3
