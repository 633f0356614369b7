"""Tasks and workflows the engine tests run (module level, as users write them)."""

from __future__ import annotations

import dataclasses
import os
from datetime import datetime
from typing import Annotated, NamedTuple

from headwater import (
    Artifact,
    DataCard,
    Granularity,
    Inputs,
    ModelCard,
    current,
    task,
    workflow,
)

Daily = Artifact(
    name="daily",
    partition_keys=["region"],
    time_partitioned=True,
    time_partition_granularity=Granularity.DAY,
)
Model = Artifact(name="model", partition_keys=["region", "algo"])
Plain = Artifact(name="plain")


@dataclasses.dataclass
class Stats:
    n: int
    mean: float


class Split(NamedTuple):
    train: list[int]
    test: list[int]


@task
def add(a: int, b: int = 1) -> int:
    return a + b


@workflow
def add_wf(a: int, b: int = 1) -> int:
    return add(a=add(a=a, b=b), b=b)


@task
def make_daily(
    region: str, day: datetime
) -> Annotated[list[int], Daily(region=Inputs.region, time_partition=Inputs.day)]:
    return Daily.create_from([1, 2, 3], DataCard("# daily"), DataCard("# second card"))


@workflow
def daily_wf(region: str, day: datetime) -> list[int]:
    return make_daily(region=region, day=day)


@task
def fit(data: list[int], region: str) -> Annotated[Stats, Model(region=Inputs.region)]:
    stats = Stats(len(data), sum(data) / len(data))
    return Model.create_from(stats, ModelCard(f"# model {region}"), algo="mean")


@workflow
def train_wf(region: str = "EU", data: list[int] = Daily.query(region=Inputs.region)) -> Stats:
    return fit(data=data, region=region)


@task
def unbound(x: int) -> Annotated[int, Model(region="EU")]:
    return x  # "algo" is never given a value


@workflow
def unbound_wf(x: int) -> int:
    return unbound(x=x)


@task
def boom(x: int) -> int:
    raise ValueError(f"bad x {x}")


@task
def mark(x: int) -> int:
    """Appends ``x`` to the file ``HW_TEST_MARKS`` names: shows whether its code ran."""
    with open(os.environ["HW_TEST_MARKS"], "a") as f:
        f.write(f"{x}\n")
    return x


@workflow
def mark_wf(x: int) -> int:
    return mark(x=x)


@workflow
def boom_wf(x: int) -> int:
    first = add(a=x)
    return boom(x=first)


@task
def split(n: int) -> Split:
    items = list(range(n))
    return Split(items[: n // 2], items[n // 2 :])


@workflow
def split_wf(n: int = 4) -> Split:
    return split(n=n)


ATTEMPTS: list[int] = []


@task(retries=2)
def flaky(x: int) -> int:
    ATTEMPTS.append(x)
    if len(ATTEMPTS) < 3:
        raise RuntimeError("transient")
    return x


@workflow
def flaky_wf(x: int) -> int:
    return flaky(x=x)


CALLS: list[int] = []


@task(cache=True, cache_version="1")
def expensive(x: int) -> int:
    CALLS.append(x)
    return x * 10


@workflow
def cached_wf(x: int) -> int:
    return expensive(x=x)


@task(timeout=0.2)
def slow(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds


@workflow
def slow_wf(seconds: float) -> float:
    return slow(seconds=seconds)


@task
def where_am_i() -> dict:
    return {
        "execution": current.execution_id,
        "workflow": current.workflow_name,
        "task": current.task_name,
        "project": current.project,
        "domain": current.domain,
    }


@workflow
def context_wf() -> dict:
    return where_am_i()


@workflow
def plain_wf(x: int) -> Annotated[int, Plain]:
    return add(a=x)


@task
def consume_plain(x: int = Plain.query()) -> int:
    return x * 2


@workflow
def chain_wf(x: int = Plain.query()) -> Annotated[int, Plain]:
    return consume_plain(x=x)


@task
def make_dict() -> dict:
    return {"a": 1}


@workflow
def mutating_wf() -> dict:
    d = make_dict()
    d["b"] = 2
    return d
