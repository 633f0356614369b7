"""Tasks that ``graph_flows`` imports from another module (the graph resolves
``from x import f`` and ``x.f(...)`` calls through the registered snapshot)."""

from __future__ import annotations

from typing import Annotated

from headwater import Artifact, task

Clean = Artifact(name="graph_clean")
Report = Artifact(name="graph_report")


@task
def clean_task(raw: dict) -> Annotated[dict, Clean]:
    return {"clean": raw}


@task
def summarize(clean: dict) -> Annotated[float, Report]:
    return float(len(clean))
