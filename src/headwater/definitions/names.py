"""Validation of names, partition values, time partitions and ``hw://`` URIs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum, StrEnum
from urllib.parse import parse_qsl, quote, urlencode

from headwater.definitions.storable import check_datetime, check_text
from headwater.errors import UserInputError

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_PARTITION_VALUE = 256
DEFAULT_QUEUE = "default"  # the queue every worker serves unless told otherwise
QUEUE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def queue_problem(queue: object) -> str | None:
    """Why ``queue`` is not a queue name, or None."""
    if isinstance(queue, str) and QUEUE_NAME.match(queue):
        return None
    return (
        f"queue {queue!r} is not a queue name: use 1-63 letters, digits, '-', "
        "'_' or '.', starting with a letter or digit (e.g. queue=\"gpu\")"
    )


class Granularity(StrEnum):
    """How finely a time partition is cut: a version's time partition is truncated to it."""

    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"


def check_name(name: object, what: str = "artifact name") -> str:
    """Names are ``[A-Za-z0-9_.-]``, 1-128 characters, and never a path."""
    if not isinstance(name, str) or not _NAME.match(name) or set(name) == {"."}:
        raise UserInputError(
            f"{what} {name!r} is not allowed: use 1-128 letters, digits, '_', '.' or '-' "
            "(no '/', spaces or a name made only of dots), e.g. 'daily_sales'"
        )
    return name


def check_partition_key(key: object) -> str:
    if not isinstance(key, str) or not _KEY.match(key):
        raise UserInputError(
            f"partition key {key!r} is not allowed: use a Python identifier such as 'region'"
        )
    if key == "time_partition":
        raise UserInputError("'time_partition' is reserved: declare time_partitioned=True instead")
    return key


def check_partition_value(key: str, value: object) -> str:
    """Partition values are strings; ints, floats, bools, dates and Enums are converted."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        value = "true" if value else "false"
    if isinstance(value, int | float | date):
        value = value.isoformat() if isinstance(value, date) else str(value)
    if not isinstance(value, str):
        raise UserInputError(
            f"partition {key!r} needs a string value, got {type(value).__name__} ({value!r})"
        )
    if not value or len(value) > MAX_PARTITION_VALUE or any(ord(c) < 32 for c in value):
        raise UserInputError(
            f"partition {key!r} value {value!r} is not allowed: use 1-"
            f"{MAX_PARTITION_VALUE} printable characters"
        )
    return str(check_text(value, f"partition {key!r} value"))


def normalize_time(
    value: object, granularity: Granularity | None, what: str = "time_partition"
) -> datetime:
    """A time partition as an aware UTC datetime truncated to the granularity."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise UserInputError(
                f"{what} {value!r} is not an ISO date or datetime, e.g. "
                "'2026-11-01' or '2026-11-01T13:00:00Z'"
            ) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, datetime):
        raise UserInputError(
            f"{what} must be a datetime, date or ISO string, got {type(value).__name__}"
        )
    value = check_datetime(value, what)
    g = granularity or Granularity.DAY
    if g is Granularity.MONTH:
        return value.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if g is Granularity.DAY:
        return value.replace(hour=0, minute=0, second=0, microsecond=0)
    if g is Granularity.HOUR:
        return value.replace(minute=0, second=0, microsecond=0)
    return value.replace(second=0, microsecond=0)


def time_text(value: datetime) -> str:
    """The stored, sortable form of a time partition: ``2026-11-01T00:00:00Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time_text(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def partition_key_text(partitions: dict[str, str]) -> str:
    """Canonical text for a full set of partition values (sorted, URL-encoded)."""
    return urlencode(sorted(partitions.items()))


@dataclass(frozen=True)
class ArtifactURI:
    """A parsed ``hw://project/domain/name@version`` or ``hw://project/domain/name?k=v`` URI."""

    project: str
    domain: str
    name: str
    version: str | None = None
    partitions: dict[str, str] = field(default_factory=dict)
    time_partition: str | None = None

    @property
    def is_query(self) -> bool:
        return self.version is None

    def __str__(self) -> str:
        base = f"hw://{self.project}/{self.domain}/{self.name}"
        if self.version is not None:
            return f"{base}@{self.version}"
        params = sorted(self.partitions.items())
        if self.time_partition:
            params.append(("time_partition", self.time_partition))
        return f"{base}?{urlencode(params, quote_via=quote)}" if params else base


def is_uri(text: object) -> bool:
    return isinstance(text, str) and text.startswith("hw://")


def parse_uri(text: str) -> ArtifactURI:
    """Parse an artifact URI; a malformed one is refused with the expected form."""
    form = (
        "artifact URIs look like 'hw://<project>/<domain>/<name>@<version>' or "
        "'hw://<project>/<domain>/<name>?region=EU&time_partition=2026-11-01'"
    )
    if not is_uri(text):
        raise UserInputError(f"{text!r} is not an artifact URI: {form}")
    rest = text[len("hw://") :]
    query = ""
    if "?" in rest:
        rest, query = rest.split("?", 1)
    version = None
    if "@" in rest:
        rest, version = rest.rsplit("@", 1)
        if not version or query:
            raise UserInputError(f"{text!r}: give either @<version> or ?<partitions>. {form}")
        check_name(version, "version")
    parts = rest.split("/")
    if len(parts) != 3:
        raise UserInputError(f"{text!r} is not an artifact URI: {form}")
    project, domain, name = parts
    check_name(project, "project")
    check_name(domain, "domain")
    check_name(name)
    partitions: dict[str, str] = {}
    time_partition = None
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise UserInputError(f"{text!r} has a malformed query part: {form}") from None
    for key, value in pairs:
        if key == "time_partition":
            time_partition = value
        else:
            partitions[check_partition_key(key)] = check_partition_value(key, value)
    return ArtifactURI(project, domain, name, version, partitions, time_partition)
