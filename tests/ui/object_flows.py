"""Workflows whose outputs are one value of each kind the Object tab previews: a pandas
DataFrame, a dict, a numpy array, a directory, a file and a str."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd

from headwater import Artifact, Directory, File, task, workflow

Sales = Artifact(name="sales_table")
Settings = Artifact(name="run_settings")
Weights = Artifact(name="weights_matrix")
Bundle = Artifact(name="model_bundle")
Report = Artifact(name="report_file")
Summary = Artifact(name="summary_text")

FILES = {"weights.bin": b"\x00\x01\x02" * 10, "docs/README.md": b"# Model\n"}
REPORT = "region,units\nnorth,3\n"


def sales(rows: int) -> pd.DataFrame:
    """``rows`` rows of made-up sales (the value the table workflow stores)."""
    return pd.DataFrame(
        {
            "region": [f"region-{i % 4}" for i in range(rows)],
            "units": list(range(rows)),
            "price": [i * 0.25 for i in range(rows)],
        }
    )


def settings(seed: int) -> dict:
    return {"seed": seed, "layers": [64, 32], "name": "<small> & fast"}


def weights(seed: int) -> np.ndarray:
    return np.arange(12, dtype=np.float32).reshape(3, 4) * seed


@task
def make_sales(rows: int) -> Annotated[pd.DataFrame, Sales]:
    return sales(rows)


@workflow
def table(rows: int = 30) -> pd.DataFrame:
    return make_sales(rows=rows)


@task
def make_settings(seed: int) -> Annotated[dict, Settings]:
    return settings(seed)


@workflow
def config(seed: int = 1) -> dict:
    return make_settings(seed=seed)


@task
def make_weights(seed: int) -> Annotated[np.ndarray, Weights]:
    return weights(seed)


@workflow
def matrix(seed: int = 2) -> np.ndarray:
    return make_weights(seed=seed)


@task
def make_bundle(tag: str) -> Annotated[Directory, Bundle]:
    root = Path(tempfile.mkdtemp(prefix="hw-bundle-")) / "bundle"
    for rel, data in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return Directory(str(root))


@workflow
def bundle(tag: str = "v1") -> Directory:
    return make_bundle(tag=tag)


@task
def make_report(tag: str) -> Annotated[File, Report]:
    path = Path(tempfile.mkdtemp(prefix="hw-report-")) / "report.csv"
    path.write_text(REPORT)
    return File(str(path))


@workflow
def report(tag: str = "v1") -> File:
    return make_report(tag=tag)


@task
def make_summary(text: str) -> Annotated[str, Summary]:
    return text


@workflow
def summary(text: str = "plain <text>") -> str:
    return make_summary(text=text)
