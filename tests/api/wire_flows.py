"""Workflows of the wire round-trip test: a version consumed, a version produced with cards."""

from __future__ import annotations

from typing import Annotated

from headwater import Artifact, DataCard, Inputs, ModelCard, task, workflow

Raw = Artifact(name="wire_raw", partition_keys=["region"])
Model = Artifact(name="wire_model", partition_keys=["region"])


@task
def train(raw: dict, region: str) -> Annotated[dict, Model(region=Inputs.region)]:
    return Model.create_from({"w": raw["rows"]}, ModelCard("# model"), DataCard("rows"))


@workflow
def pipeline(raw: dict = Raw.query(region="EU"), region: str = "EU") -> dict:
    return train(raw=raw, region=region)
