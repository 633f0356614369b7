from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests import _schema
from tests._s3 import S3, seaweed

# CI explores the same generated inputs every run (a rare input found by chance would make CI
# flaky); locally every run explores new ones. `HYPOTHESIS_PROFILE=ci` reproduces CI here.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI", "").lower() == "true" or os.environ.get("HYPOTHESIS_PROFILE") == "ci":
    settings.load_profile("ci")

try:
    import _pg  # tests/ is on sys.path under pytest's default (prepend) import mode
except ImportError:
    sys.path.insert(0, str(Path(__file__).parent))
    import _pg

# -- PostgreSQL ----------------------------------------------------------------------------
#
# postgres_cluster (session): a server; $HEADWATER_TEST_POSTGRES_URL if set, else a
#     throwaway cluster started (lazily, on first use) and stopped at session end.
# postgres_url (function): URL of a fresh, empty database on it.
# postgres_database_factory (function): callable returning further fresh database URLs.
#     The databases are dropped after the test (a throwaway cluster's files would otherwise
#     grow by ~8 MB a database, and deleting them all at the end took most of a minute).
# database_url (function, params sqlite/postgresql): run one test against both backends.
# (tests/_schema.py: at_head(url) brings such a fresh database to the migrations' head.)
#
# If PostgreSQL is missing the PostgreSQL tests are skipped, except when CI=true or
# HEADWATER_TEST_POSTGRES=require, where they fail.

POSTGRES_URL_ENV = "HEADWATER_TEST_POSTGRES_URL"
POSTGRES_MODE_ENV = "HEADWATER_TEST_POSTGRES"
_POSTGRES_FIXTURES = frozenset({"postgres_cluster", "postgres_database_factory", "postgres_url"})

_INSTALL_HINT = (
    "install PostgreSQL to run them (Debian/Ubuntu: `sudo apt-get install postgresql`, "
    "macOS: `brew install postgresql`), point $HEADWATER_PG_BINDIR at its bin directory, "
    f"or set ${POSTGRES_URL_ENV} to a server URL whose user may CREATE DATABASE"
)


def _postgres_required() -> bool:
    return (
        os.environ.get("CI", "").lower() == "true"
        or os.environ.get(POSTGRES_MODE_ENV, "").lower() == "require"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests that use the PostgreSQL fixtures directly get the `postgres` marker, so that
    # `-m "not postgres"` deselects them. (database_url marks its postgresql param itself.)
    for item in items:
        if _POSTGRES_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[_pg.Cluster]:
    url = os.environ.get(POSTGRES_URL_ENV)
    if url:
        external = _pg.external_cluster(url)
        yield external
        _schema.drop_templates(external.url)
        return
    try:
        cluster = _pg.start_cluster()
    except _pg.PostgresUnavailable as exc:
        problem = str(exc)
    else:
        problem = ""
    if problem:  # outside the except block, so the report is not an exception chain
        if _postgres_required():
            pytest.fail(
                f"PostgreSQL is required here (CI=true or {POSTGRES_MODE_ENV}=require) "
                f"but could not be started:\n{problem}",
                pytrace=False,
            )
        pytest.skip(f"PostgreSQL not available ({problem}); {_INSTALL_HINT}")
    try:
        yield cluster
    finally:
        cluster.stop()


def _drop_if_idle(cluster: _pg.Cluster, name: str) -> None:
    """DROP DATABASE unless a session is still connected to it (something the test left
    running: it is not cut off; the cluster is deleted whole at the end anyway)."""
    import psycopg

    with psycopg.connect(_pg.libpq_url(cluster.url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)
        ).fetchone()
    if row is not None and int(row[0]) == 0:
        try:
            _pg.drop_database(cluster, name, force=False)
        except psycopg.Error:
            pass  # someone connected in between: leave it


@pytest.fixture
def postgres_database_factory(postgres_cluster: _pg.Cluster) -> Iterator[Callable[[], str]]:
    """Call it to get the URL of another fresh, empty database (for multi-database tests)."""
    created: list[str] = []

    def new_database() -> str:
        name = f"hw_{uuid.uuid4().hex}"
        url = _pg.create_database(postgres_cluster, name)
        created.append(name)
        return url

    yield new_database
    for name in created:
        if postgres_cluster.external:
            _pg.drop_database(postgres_cluster, name)
        else:
            _drop_if_idle(postgres_cluster, name)


@pytest.fixture
def postgres_url(postgres_database_factory: Callable[[], str]) -> str:
    return postgres_database_factory()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/headwater.db"
    return str(request.getfixturevalue("postgres_url"))


# -- S3 ------------------------------------------------------------------------------------
# seaweed_s3 (session): a throwaway SeaweedFS S3 endpoint on free loopback ports (tests/_s3.py),
#     one for the whole session (tests/storage, tests/scale and tests/docs share it; each test
#     makes buckets of its own).


@pytest.fixture(scope="session")
def seaweed_s3() -> Iterator[S3]:
    with seaweed() as s3:
        yield s3
