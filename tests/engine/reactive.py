"""Launch plans and triggers the reactor tests register (module level, as users write them)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from headwater import (
    AllOf,
    AnyOf,
    Artifact,
    ConcurrencyPolicy,
    Inputs,
    LaunchPlan,
    OnArtifact,
    OnEvent,
    OnFinish,
    task,
    workflow,
)

Raw = Artifact(name="raw", partition_keys=["region"], time_partitioned=True)
Ref = Artifact(name="ref", partition_keys=["region"])
Clean = Artifact(name="clean", partition_keys=["region"])


@task
def make_raw(
    region: str, day: datetime
) -> Annotated[list[int], Raw(region=Inputs.region, time_partition=Inputs.day)]:
    return [1, 2, 3]


@workflow
def upstream(region: str, day: datetime) -> list[int]:
    return make_raw(region=region, day=day)


@task
def make_ref(region: str) -> Annotated[int, Ref(region=Inputs.region)]:
    return 100


@workflow
def ref_wf(region: str) -> int:
    return make_ref(region=region)


@task
def clean(
    data: list[int], region: str, day: datetime, ref: int
) -> Annotated[int, Clean(region=Inputs.region)]:
    return sum(data) + ref


@workflow
def downstream(data: list[int], region: str, day: datetime, ref: int = 0) -> int:
    return clean(data=data, region=region, day=day, ref=ref)


on_raw_eu = LaunchPlan.create(
    "on_raw_eu",
    downstream,
    trigger=OnArtifact(
        trigger_on=Raw.query(region="EU"),
        inputs={
            "data": Raw,
            "region": Raw.partitions.region,
            "day": Raw.time_partition - timedelta(days=1),
            "ref": Ref.query(region=Raw.partitions.region),
        },
    ),
)


@workflow
def table_loaded(table: str, rows: int = 0) -> str:
    return f"{table}:{rows}"


on_table = LaunchPlan.create(
    "on_table",
    table_loaded,
    trigger=OnEvent(
        "data.updated",
        parameters={"table": "table_name", "rows": "row_count"},
        filter={"env": "prod"},
    ),
)

on_same_names = LaunchPlan.create("on_same_names", table_loaded, trigger=OnEvent("table.done"))

after_upstream = LaunchPlan.create(
    "after_upstream",
    table_loaded,
    default_inputs={"table": "after"},
    trigger=OnFinish(upstream, status="any"),
)

both = LaunchPlan.create(
    "both",
    table_loaded,
    default_inputs={"table": "joined"},
    trigger=AllOf(
        OnEvent("left.ready"), OnEvent("right.ready"), key="region", within=timedelta(hours=1)
    ),
)

either = LaunchPlan.create(
    "either",
    table_loaded,
    default_inputs={"table": "either"},
    trigger=AnyOf(OnEvent("a.ready"), OnEvent("b.ready")),
)

one_at_a_time = LaunchPlan.create(
    "one_at_a_time",
    table_loaded,
    default_inputs={"table": "single"},
    trigger=OnEvent("busy.event"),
    concurrency=ConcurrencyPolicy(1, behavior="skip"),
)
