"""Workflows that populate an instance for the browser tests: a partitioned model with a
Markdown card, a consumer of it, a card with hostile HTML, and two launch plans on one event
(one filtered out)."""

from __future__ import annotations

from typing import Annotated

from headwater import Artifact, Inputs, LaunchPlan, ModelCard, OnEvent, task, workflow

BlessedModel = Artifact(name="blessed_model", partition_keys=["blessed"])
Notes = Artifact(name="release_notes")
Score = Artifact(name="model_score")

CARD = """# Blessed model, seed {seed}

| metric | value |
|---|---|
| accuracy | 0.9{seed} |
| seed | {seed} |
"""


@task
def fit(seed: int, blessed: str) -> Annotated[dict, BlessedModel(blessed=Inputs.blessed)]:
    return BlessedModel.create_from(
        {"seed": seed, "weights": [seed, seed * 2]}, ModelCard(CARD.format(seed=seed))
    )


@workflow
def training(seed: int = 1, blessed: str = "true") -> dict:
    return fit(seed=seed, blessed=blessed)


@task
def score(model: dict) -> Annotated[float, Score]:
    return float(sum(model["weights"]))


@workflow
def evaluate(model: dict = BlessedModel.query(blessed="true")) -> float:
    return score(model=model)


@task
def write_notes(text: str) -> Annotated[str, Notes]:
    return Notes.create_from(text, ModelCard(text))


@workflow
def release(text: str = "# Notes") -> str:
    return write_notes(text=text)


@task
def review_task(seed: int) -> int:
    return seed


@workflow
def review(seed: int = 0) -> int:
    return review_task(seed=seed)


LaunchPlan.create(
    "review_any", review, trigger=OnEvent("model.review", parameters={"seed": "seed"})
)
LaunchPlan.create(
    "review_prod",
    review,
    trigger=OnEvent("model.review", parameters={"seed": "seed"}, filter={"env": "prod"}),
)


@task
def explode(reason: str) -> int:
    raise ValueError(f"cannot review: {reason}")


@workflow
def broken(reason: str = "no data") -> int:
    return explode(reason=reason)
