"""A small pipeline: an ETL task publishes daily sales per region (a time-partitioned dataset),
and a training workflow consumes the latest sales of its region through a query default and
publishes a model with a model card.

    headwater run examples/sales_pipeline.py etl -i region=EU -i day=2026-11-01
    headwater run examples/sales_pipeline.py train
    headwater artifacts lineage hw://default/development/sales_model@1

Reactive: `retrain_on_new_sales` retrains a region's model whenever a new day of that
region's sales is published (register with --activate and keep `headwater up` running).
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Annotated

import pandas as pd

from headwater import (
    Artifact,
    DataCard,
    Granularity,
    Inputs,
    LaunchPlan,
    ModelCard,
    OnArtifact,
    task,
    workflow,
)

DailySales = Artifact(
    name="daily_sales",
    partition_keys=["region"],
    time_partitioned=True,
    time_partition_granularity=Granularity.DAY,
    description="Units sold per store and day, one version per region and day.",
)
SalesModel = Artifact(
    name="sales_model",
    partition_keys=["region"],
    description="Units sold as a linear function of price, per region.",
)


@task
def extract(
    region: str, day: datetime
) -> Annotated[pd.DataFrame, DailySales(region=Inputs.region, time_partition=Inputs.day)]:
    """Pretend to read the day's sales from the warehouse (deterministic per region/day)."""
    rng = random.Random(f"{region}-{day:%Y-%m-%d}")
    prices = [round(rng.uniform(1.0, 10.0), 2) for _ in range(50)]
    units = [max(0, int(120 - 9 * p + rng.gauss(0, 6))) for p in prices]
    df = pd.DataFrame(
        {"store": [f"{region}-{i:02d}" for i in range(50)], "price": prices, "units": units}
    )
    card = DataCard(
        f"# Daily sales, {region}, {day:%Y-%m-%d}\n\n"
        f"{len(df)} stores, {int(df.units.sum())} units sold, "
        f"mean price {df.price.mean():.2f}."
    )
    return DailySales.create_from(df, card)


@task
def fit(sales: pd.DataFrame, region: str) -> Annotated[dict, SalesModel(region=Inputs.region)]:
    """Least-squares fit of units on price."""
    n = len(sales)
    mx, my = sales.price.mean(), sales.units.mean()
    slope = float(((sales.price - mx) * (sales.units - my)).sum() / ((sales.price - mx) ** 2).sum())
    intercept = float(my - slope * mx)
    pred = intercept + slope * sales.price
    r2 = 1 - float(((sales.units - pred) ** 2).sum() / ((sales.units - my) ** 2).sum())
    model = {
        "intercept": round(intercept, 4),
        "slope": round(slope, 4),
        "r2": round(r2, 4),
        "trained_on_rows": n,
    }
    card = ModelCard(
        f"# Sales model ({region})\n\nunits = {intercept:.2f} + {slope:.2f} x price"
        f"\n\n| metric | value |\n|---|---|\n| R² | {r2:.3f} |\n| rows | {n} |\n"
    )
    return SalesModel.create_from(model, card)


@workflow
def etl(region: str = "EU", day: datetime = datetime(2026, 11, 1)) -> pd.DataFrame:
    """Publish one day of sales for a region."""
    return extract(region=region, day=day)


@workflow
def train(region: str = "EU", sales: pd.DataFrame = DailySales.query(region=Inputs.region)) -> dict:
    """Train on the latest sales of the region (or any version passed as `sales`)."""
    return fit(sales=sales, region=region)


retrain_on_new_sales = LaunchPlan.create(
    "retrain_on_new_sales",
    train,
    trigger=OnArtifact(
        trigger_on=DailySales,
        inputs={"sales": DailySales, "region": DailySales.partitions.region},
    ),
)
