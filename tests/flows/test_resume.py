"""``resume``: a new run that reuses the steps that succeeded in the origin run."""

from __future__ import annotations

import pytest

from headwater.errors import NotFoundError, UserInputError
from headwater.flows import Run, resume, run
from headwater.storage.execution_links import links_of
from tests.flows.parallel_flows import Resumable, WideForeach, count


def counts(workdir: str) -> dict[str, int]:
    names = ["start", "each-0", "each-1", "each-2", "join", "end"]
    return {n: count(workdir, n) for n in names}


def test_resume_reruns_from_the_failed_step_and_reuses_the_rest(instance, tmp_path):
    workdir = str(tmp_path)
    (tmp_path / "break").write_text("")
    first = run(Resumable, workdir=workdir)
    assert first.status == "failed"
    assert counts(workdir) == {
        "start": 1,
        "each-0": 1,
        "each-1": 1,
        "each-2": 1,
        "join": 0,
        "end": 0,
    }

    (tmp_path / "break").unlink()
    again = resume(Resumable)  # the latest run by default, with its parameters
    assert again.status == "succeeded", again.error
    assert again.id != first.id
    assert counts(workdir) == {
        "start": 1,
        "each-0": 1,
        "each-1": 1,
        "each-2": 2,
        "join": 1,
        "end": 1,
    }
    data = Run(f"Resumable/{again.id}").data
    assert data.doubled == [0, 2, 4]
    assert (
        Run(f"Resumable/{again.id}")["start"].task.data.run_of_start == first.id
    )  # the reused step's outputs, as the origin made them

    by_name = {}
    for n in again.nodes:
        by_name.setdefault(n.name.split(".")[-1], []).append(n)
    assert [len(by_name[s]) for s in ("start", "each", "join", "end")] == [1, 3, 1, 1]
    reused = sorted(n.cached_from.split("/")[0] for n in again.nodes if n.cached_from)
    assert reused == [first.id] * 3  # start and the two items that succeeded
    with instance.db.read() as tx:
        links = links_of(tx, [again.id], upstream=True)
    assert [(link.upstream_id, link.kind) for link in links] == [(first.id, "resumed")]


def test_resume_of_a_given_run_reuses_all_of_a_succeeded_one(instance, tmp_path):
    first = run(Resumable, workdir=str(tmp_path))
    run(WideForeach, width=2, pause=0)
    again = resume(Resumable, origin_run_id=f"Resumable/{first.id}")
    assert again.status == "succeeded", again.error
    assert count(str(tmp_path), "start") == 1 and count(str(tmp_path), "end") == 1
    assert all(n.cached_from for n in again.nodes)


def test_resume_from_a_step_runs_it_and_what_follows_again(instance, tmp_path):
    workdir = str(tmp_path)
    first = run(Resumable, workdir=workdir)
    again = resume(Resumable, origin_run_id=first.id, step="each")
    assert again.status == "succeeded", again.error
    assert counts(workdir) == {
        "start": 1,
        "each-0": 2,
        "each-1": 2,
        "each-2": 2,
        "join": 2,
        "end": 2,
    }
    assert [n.name for n in again.nodes if n.cached_from] == ["Resumable.start"]


def test_resume_refuses_what_it_cannot_resume(instance, tmp_path):
    with pytest.raises(UserInputError, match="no step 'nope'"):
        resume(Resumable, step="nope")
    with pytest.raises(NotFoundError, match="no run to resume"):
        resume(Resumable)
    other = run(WideForeach, width=2, pause=0)
    with pytest.raises(UserInputError, match="not Resumable"):
        resume(Resumable, origin_run_id=other.id)
    with pytest.raises(NotFoundError, match="no such run"):
        resume(Resumable, origin_run_id="nope")
