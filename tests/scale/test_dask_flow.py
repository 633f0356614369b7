"""A FlowSpec foreach with ``HEADWATER_EXECUTOR=dask://``: its parallel steps run on a real
Dask cluster (a scheduler and two worker processes) and every node is recorded once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater.flows import Run, run
from headwater.instance import Instance
from headwater.settings import Settings

from . import dask_tasks as d

pytest.importorskip("distributed")


@pytest.fixture
def dask_instance(cluster: str, postgres_url: str, tmp_path: Path) -> Iterator[Instance]:
    settings = Settings.from_env(
        {}, home=tmp_path / "home", database_url=postgres_url, executor=cluster
    )
    inst = Instance(settings)
    with inst.use():
        yield inst
    inst.close()


def test_a_50_way_foreach_runs_on_the_cluster_and_records_every_node_once(
    cluster: str, dask_instance: Instance
) -> None:
    from distributed import Client

    ex = run(d.DaskForeach, width=50, max_workers=8)
    assert ex.status == "succeeded", ex.error
    data = Run(f"DaskForeach/{ex.id}").data
    assert data.values == [i * i for i in range(50)]
    with Client(cluster.replace("dask://", "tcp://"), set_as_default=False) as client:
        dask_pids = set(client.run(os.getpid).values())
    assert set(data.pids) == dask_pids  # both Dask workers, and nothing else, ran the items
    squares = [n for n in ex.nodes if n.name == "DaskForeach.square"]
    assert len(squares) == 50
    assert all((n.status, n.attempts) == ("succeeded", 1) for n in squares)
    indexes = sorted(n.input_literals["foreach_index"]["value"] for n in squares)
    assert indexes == sorted(str(i) for i in range(50))
    assert len({n.node_id for n in ex.nodes}) == len(ex.nodes) == 1 + 50 + 1 + 1
