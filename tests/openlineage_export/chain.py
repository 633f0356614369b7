"""A triggered chain for the export tests: ``make_sales`` produces the table ``sales`` (with a
data card and a partition), the launch plan ``on_sales`` runs ``summarize`` on each new
version, and ``broken`` always fails."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import pandas as pd

from headwater import Artifact, DataCard, Granularity, LaunchPlan, OnArtifact, task, workflow

Sales = Artifact(
    name="sales", partition_keys=["region"], time_partition_granularity=Granularity.DAY
)
Total = Artifact(name="sales_total")


@task
def build(region: str) -> Annotated[pd.DataFrame, Sales]:
    frame = pd.DataFrame({"item": ["a", "b"], "amount": [3, 4]})
    when = datetime(2026, 12, 1, tzinfo=UTC)
    return Sales.create_from(
        frame, DataCard("# Daily sales\nby item"), time_partition=when, region=region
    )


@workflow
def make_sales(region: str = "EU") -> pd.DataFrame:
    return build(region=region)


@task
def add_up(sales: pd.DataFrame) -> Annotated[int, Total]:
    return int(sales["amount"].sum())


@workflow
def summarize(sales: pd.DataFrame) -> int:
    return add_up(sales=sales)


@task
def explode() -> int:
    raise RuntimeError("the input is broken")


@workflow
def broken() -> int:
    return explode()


on_sales = LaunchPlan.create(
    "on_sales", summarize, trigger=OnArtifact(trigger_on=Sales, inputs={"sales": Sales})
)
