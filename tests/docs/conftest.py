"""A throwaway SeaweedFS S3 endpoint for the deploy recipes (as in tests/scale/)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests._s3 import S3, seaweed


@pytest.fixture(scope="session")
def seaweed_s3() -> Iterator[S3]:
    with seaweed() as s3:
        yield s3
