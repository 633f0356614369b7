"""Names, partition values, time partitions and hw:// URIs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from headwater import Artifact, Granularity, Inputs
from headwater.definitions.names import normalize_time, parse_uri, time_text
from headwater.errors import PartitionError, UserInputError


def test_uri_round_trip():
    exact = parse_uri("hw://proj/dev/daily_sales@12")
    assert (exact.project, exact.domain, exact.name, exact.version) == (
        "proj",
        "dev",
        "daily_sales",
        "12",
    )
    assert str(exact) == "hw://proj/dev/daily_sales@12"
    query = parse_uri("hw://proj/dev/daily_sales?region=EU%20West&time_partition=2026-11-01")
    assert query.is_query
    assert query.partitions == {"region": "EU West"}
    assert query.time_partition == "2026-11-01"
    assert parse_uri(str(query)) == query


@pytest.mark.parametrize(
    "granularity,expected",
    [
        (Granularity.MINUTE, "2026-11-01T13:45:00Z"),
        (Granularity.HOUR, "2026-11-01T13:00:00Z"),
        (Granularity.DAY, "2026-11-01T00:00:00Z"),
        (Granularity.MONTH, "2026-11-01T00:00:00Z"),
    ],
)
def test_time_partitions_truncate_to_granularity(granularity, expected):
    moment = datetime(2026, 11, 1, 13, 45, 30, 999)
    assert time_text(normalize_time(moment, granularity)) == expected


def test_time_partitions_are_utc():
    cet = timezone(timedelta(hours=1))
    assert normalize_time(datetime(2026, 11, 2, 0, 30, tzinfo=cet), Granularity.HOUR) == datetime(
        2026, 11, 1, 23, 0, tzinfo=UTC
    )
    assert normalize_time("2026-11-01", None) == datetime(2026, 11, 1, tzinfo=UTC)
    assert normalize_time(date(2026, 11, 1), Granularity.DAY) == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(UserInputError, match="not an ISO date"):
        normalize_time("yesterday", None)


def test_artifact_declaration_checks():
    a = Artifact(name="a.b-c_1", partition_keys=["region"], partitions={"tier": "gold"})
    assert a.partition_keys == ("region", "tier")
    assert a(region=Inputs.region).partitions == {"tier": "gold", "region": Inputs.region}
    with pytest.raises(PartitionError, match="twice"):
        Artifact(name="x", partition_keys=["r", "r"])
    with pytest.raises(UserInputError, match="reserved"):
        Artifact(name="x", partition_keys=["time_partition"])
    with pytest.raises(PartitionError, match="not time partitioned"):
        Artifact(name="x").query(time_partition="2026-11-01")
    with pytest.raises(UserInputError, match="partition 'region' value"):
        a.query(region="")
    assert a.query(region=3).partitions == {"region": "3"}


def test_trigger_references():
    daily = Artifact(name="daily", partition_keys=["region"], time_partitioned=True)
    assert repr(daily.partitions.region) == "daily.partitions.region"
    assert (daily.time_partition - timedelta(days=1)).offset == timedelta(days=-1)
    with pytest.raises(PartitionError):
        daily.partitions.country  # noqa: B018
    with pytest.raises(PartitionError):
        Artifact(name="flat").time_partition  # noqa: B018


def test_create_from_outside_an_execution_returns_the_value():
    a = Artifact(name="a", partition_keys=["region"])
    value = object()
    assert a.create_from(value, region="EU") is value
