"""Flows for the GC tests: ``gc_raw`` (partitioned by region, a blob per version) and
``gc_derived``, made from a ``gc_raw`` version (so lineage links them)."""

from __future__ import annotations

from typing import Annotated

from headwater import Artifact, Inputs, task, workflow

Raw = Artifact(name="gc_raw", partition_keys=["region"])
Derived = Artifact(name="gc_derived")


@task
def make(n: int, region: str) -> Annotated[bytes, Raw(region=Inputs.region)]:
    return f"raw {region} {n} ".encode() * 50


@workflow
def make_wf(n: int, region: str = "eu") -> bytes:
    return make(n=n, region=region)


@task
def derive(raw: bytes) -> Annotated[bytes, Derived]:
    return b"derived from " + raw[:20]


@workflow
def derive_wf(raw: bytes = Raw.query(region="eu")) -> bytes:
    return derive(raw=raw)
