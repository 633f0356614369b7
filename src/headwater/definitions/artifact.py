"""Artifacts: named, versioned, partitioned outputs, and the references that point at them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from headwater.definitions import context as _context
from headwater.definitions.cards import Card
from headwater.definitions.names import (
    Granularity,
    check_name,
    check_partition_key,
    check_partition_value,
)
from headwater.errors import PartitionError, TypeMismatchError


@dataclass(frozen=True)
class InputRef:
    """``Inputs.<name>``: the value of an input of the task or workflow, bound at run time."""

    name: str

    def __repr__(self) -> str:
        return f"Inputs.{self.name}"


class _Inputs:
    """Refer to an input by name: ``Daily(region=Inputs.region)``."""

    def __getattr__(self, name: str) -> InputRef:
        if name.startswith("__"):
            raise AttributeError(name)
        return InputRef(name)


Inputs = _Inputs()


@dataclass(frozen=True)
class PartitionRef:
    """``A.partitions.<key>``: a partition value of the artifact version that fired a trigger."""

    artifact: Artifact
    key: str

    def __repr__(self) -> str:
        return f"{self.artifact.name}.partitions.{self.key}"


@dataclass(frozen=True)
class TimePartitionRef:
    """``A.time_partition`` (optionally +/- a timedelta) of a triggering artifact version."""

    artifact: Artifact
    offset: timedelta = timedelta(0)

    def __add__(self, delta: timedelta) -> TimePartitionRef:
        return TimePartitionRef(self.artifact, self.offset + delta)

    def __sub__(self, delta: timedelta) -> TimePartitionRef:
        return TimePartitionRef(self.artifact, self.offset - delta)

    def __repr__(self) -> str:
        sign = "" if not self.offset else (" + " if self.offset > timedelta(0) else " - ")
        return f"{self.artifact.name}.time_partition{sign}{abs(self.offset) if sign else ''}"


class _Partitions:
    def __init__(self, artifact: Artifact) -> None:
        self._artifact = artifact

    def __getattr__(self, key: str) -> PartitionRef:
        if key.startswith("__"):
            raise AttributeError(key)
        self._artifact.check_keys([key])
        return PartitionRef(self._artifact, key)


@dataclass(frozen=True)
class ArtifactBinding:
    """``A(region=Inputs.region)`` in an output annotation: which partitions the output gets."""

    artifact: Artifact
    partitions: dict[str, Any] = field(default_factory=dict)
    time_partition: Any = None

    def __hash__(self) -> int:
        return hash((self.artifact.name, tuple(sorted(self.partitions))))


@dataclass(frozen=True)
class ArtifactQuery:
    """The latest version of an artifact matching partition values (unset keys match anything).

    Use it as a workflow input default to get a "smart default"::

        @workflow
        def train(df: pd.DataFrame = Daily.query(region="EU")) -> ...
    """

    artifact: Artifact
    partitions: dict[str, Any] = field(default_factory=dict)
    time_partition: Any = None
    project: str | None = None
    domain: str | None = None

    def __hash__(self) -> int:
        return hash((self.artifact.name, tuple(sorted(self.partitions))))

    def is_static(self) -> bool:
        """True when every value is a literal (no ``Inputs.x`` or trigger reference)."""
        values = [*self.partitions.values(), self.time_partition]
        return not any(isinstance(v, InputRef | PartitionRef | TimePartitionRef) for v in values)

    def __repr__(self) -> str:
        args = [f"{k}={v!r}" for k, v in self.partitions.items()]
        if self.time_partition is not None:
            args.append(f"time_partition={self.time_partition!r}")
        return f"{self.artifact.name}.query({', '.join(args)})"


class Artifact:
    """A named, versioned output shared between teams::

    Daily = Artifact(name="daily_sales", partition_keys=["region"],
                     time_partitioned=True, time_partition_granularity=Granularity.DAY)

    @task
    def etl(region: str, day: datetime) -> Annotated[pd.DataFrame, Daily(region=Inputs.region)]:
        ...
        return Daily.create_from(df, DataCard("# Sales"), time_partition=day)
    """

    def __init__(
        self,
        name: str,
        partition_keys: list[str] | None = None,
        partitions: dict[str, Any] | None = None,
        time_partitioned: bool = False,
        time_partition_granularity: Granularity | None = None,
        project: str | None = None,
        domain: str | None = None,
        description: str = "",
    ) -> None:
        self.name = check_name(name)
        keys = list(partition_keys or [])
        for key in partitions or {}:
            if key not in keys:
                keys.append(key)
        self.partition_keys: tuple[str, ...] = tuple(check_partition_key(k) for k in keys)
        if len(set(self.partition_keys)) != len(self.partition_keys):
            raise PartitionError(
                f"artifact {name!r} declares a partition key twice: {list(self.partition_keys)}"
            )
        self.default_partitions: dict[str, Any] = dict(partitions or {})
        self.time_partitioned = bool(time_partitioned or time_partition_granularity)
        self.granularity = (
            Granularity(time_partition_granularity)
            if time_partition_granularity
            else (Granularity.DAY if self.time_partitioned else None)
        )
        self.project = check_name(project, "project") if project else None
        self.domain = check_name(domain, "domain") if domain else None
        self.description = description

    # -- checks ------------------------------------------------------------------------------
    def check_keys(self, keys: Any) -> None:
        unknown = [k for k in keys if k not in self.partition_keys]
        if unknown:
            declared = ", ".join(self.partition_keys) or "none"
            raise PartitionError(
                f"artifact {self.name!r} has no partition key {', '.join(map(repr, unknown))} "
                f"(declared: {declared}); add it to partition_keys or use a declared key"
            )

    def _check_time(self, value: Any) -> None:
        if value is not None and not self.time_partitioned:
            raise PartitionError(
                f"artifact {self.name!r} is not time partitioned; declare it "
                "with time_partitioned=True to give it a time_partition"
            )

    # -- references --------------------------------------------------------------------------
    def __call__(self, time_partition: Any = None, **partitions: Any) -> ArtifactBinding:
        """Bind partition values for a task/workflow output annotation."""
        self.check_keys(partitions)
        self._check_time(time_partition)
        bound = {**self.default_partitions, **partitions}
        for key, value in bound.items():
            if not isinstance(value, InputRef):
                bound[key] = check_partition_value(key, value)
        return ArtifactBinding(self, bound, time_partition)

    def query(
        self,
        time_partition: Any = None,
        project: str | None = None,
        domain: str | None = None,
        **partitions: Any,
    ) -> ArtifactQuery:
        """The latest version whose partitions match; unset keys match anything."""
        self.check_keys(partitions)
        self._check_time(time_partition)
        values = {
            k: v
            if isinstance(v, InputRef | PartitionRef | TimePartitionRef)
            else check_partition_value(k, v)
            for k, v in partitions.items()
        }
        return ArtifactQuery(
            self, values, time_partition, project or self.project, domain or self.domain
        )

    @property
    def partitions(self) -> _Partitions:
        """``A.partitions.region``: a trigger binding to the triggering version's partition."""
        return _Partitions(self)

    @property
    def time_partition(self) -> TimePartitionRef:
        """``A.time_partition``: a trigger binding to the triggering version's time partition."""
        if not self.time_partitioned:
            raise PartitionError(f"artifact {self.name!r} is not time partitioned")
        return TimePartitionRef(self)

    # -- emission -----------------------------------------------------------------------------
    def create_from(
        self,
        value: Any,
        *cards: Card,
        time_partition: datetime | None = None,
        **partition_values: Any,
    ) -> Any:
        """Attach partition values and cards to ``value`` for the output it is returned as.

        Returns ``value`` unchanged. Outside an execution it does nothing else.
        """
        for card in cards:
            if not isinstance(card, Card):
                raise TypeMismatchError(
                    f"create_from takes ModelCard/DataCard objects as positional "
                    f"arguments, got {type(card).__name__}; pass partition values by "
                    f"name (region='EU') and text as a card (DataCard('# Notes'))"
                )
        self.check_keys(partition_values)
        self._check_time(time_partition)
        values = {k: check_partition_value(k, v) for k, v in partition_values.items()}
        frame = _context.ACTIVE.get()
        if frame is not None:
            frame.add_output_metadata(self, value, list(cards), time_partition, values)
        return value

    def spec(self) -> dict[str, Any]:
        return {
            "partition_keys": list(self.partition_keys),
            "time_partitioned": self.time_partitioned,
            "granularity": self.granularity.value if self.granularity else None,
            "description": self.description,
        }

    def __repr__(self) -> str:
        return f"Artifact({self.name!r})"
