"""``headwater run`` and ``headwater register``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.cli_helpers import Invoke, as_json, ok

FLOWS = """
from datetime import datetime
from headwater import task, workflow


@task
def add(a: int, b: int = 1) -> int:
    return a + b


@workflow
def plus_one(a: int = 1) -> int:
    return add(a=a)


@task
def describe(when: datetime, n: int) -> str:
    return f"{when.isoformat()}|{n}|{type(n).__name__}|{type(when).__name__}"


@workflow
def typed(when: datetime, n: int = 2) -> str:
    return describe(when=when, n=n)


@task
def boom(n: int) -> int:
    raise ValueError(f"boom {n}")


@workflow
def failing(n: int = 1) -> int:
    return boom(n=n)


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@workflow
def summed(xs: list[int]) -> int:
    return total(xs=xs)
"""


@pytest.fixture
def flows(write_module: Callable[[str, str], Path]) -> Path:
    return write_module("cli_flows", FLOWS)


def test_run_prints_a_summary(hw: Invoke, flows: Path) -> None:
    result = ok(hw("run", flows, "plus_one", "-i", "a=41"))
    first = result.stdout.splitlines()[0]
    assert first.startswith("execution ") and "cli_flows.plus_one" in first
    assert "succeeded" in first
    assert "o0  42  [int]" in result.stdout
    assert result.stderr == ""


def test_run_json_is_the_execution(hw: Invoke, flows: Path) -> None:
    body = as_json(hw("run", flows, "plus_one", "-i", "a=2", "--json"))
    assert body["status"] == "succeeded"
    assert body["workflow"] == "cli_flows.plus_one"
    assert body["outputs"]["o0"]["value"] == 3
    assert body["inputs"]["a"]["value"] == 2
    assert [n["name"] for n in body["nodes"]] == ["cli_flows.add"]
    assert body["artifacts"] == []
    listed = as_json(hw("executions", "list", "--json"))
    assert [e["id"] for e in listed] == [body["id"]]


def test_run_coerces_int_and_datetime(hw: Invoke, flows: Path) -> None:
    body = as_json(
        hw("run", flows, "typed", "-i", "when=2026-01-02T03:04:05", "-i", "n=7", "--json")
    )
    assert body["outputs"]["o0"]["value"] == "2026-01-02T03:04:05|7|int|datetime"


def test_run_a_task_directly(hw: Invoke, flows: Path) -> None:
    body = as_json(hw("run", flows, "add", "-i", "a=5", "-i", "b=6", "--json"))
    assert body["status"] == "succeeded"
    assert body["outputs"]["o0"]["value"] == 11


def test_failing_task_exits_1_with_the_traceback(hw: Invoke, flows: Path) -> None:
    result = hw("run", flows, "failing", "-i", "n=3")
    assert result.exit_code == 1
    assert "failed" in result.stdout.splitlines()[0]
    assert "Traceback (most recent call last)" in result.stderr
    assert 'raise ValueError(f"boom {n}")' in result.stderr
    assert "ValueError: boom 3" in result.stderr
    assert "error: execution" in result.stderr and "(cli_flows.boom)" in result.stderr
    # the engine's own frames are left out of what the user sees
    assert "runner.py" not in result.stderr
    failed = as_json(hw("executions", "list", "--status", "failed", "--json"))
    assert len(failed) == 1 and failed[0]["error"]["type"] == "ValueError"


def test_failing_task_json_exits_1(hw: Invoke, flows: Path) -> None:
    result = hw("run", flows, "failing", "--json")
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["status"] == "failed"
    assert "ValueError: boom 1" in body["error"]["traceback"]


def test_wrong_input_type_exits_2_and_stores_nothing(hw: Invoke, flows: Path) -> None:
    result = hw("run", flows, "typed", "-i", "when=2026-01-01", "-i", "n=seven")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: input 'n' expects int")
    assert "'seven'" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert as_json(hw("executions", "list", "--json")) == []


def test_bad_datetime_names_the_input(hw: Invoke, flows: Path) -> None:
    result = hw("run", flows, "typed", "-i", "when=yesterday")
    assert result.exit_code == 2
    assert "input 'when'" in result.stderr and "datetime" in result.stderr


def test_missing_required_input(hw: Invoke, flows: Path) -> None:
    result = hw("run", flows, "typed")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "when" in result.stderr
    assert as_json(hw("executions", "list", "--json")) == []


def test_unknown_input_name_is_refused_by_the_engine(hw: Invoke, flows: Path) -> None:
    result = hw("run", flows, "plus_one", "-i", "zz=1")
    assert result.exit_code == 2
    assert "'zz'" in result.stderr and "a" in result.stderr


def test_unknown_workflow_lists_the_known_names(hw: Invoke, flows: Path) -> None:
    result = hw("run", flows, "nope")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert "'nope'" in result.stderr
    for name in ("plus_one", "typed", "failing", "add"):
        assert name in result.stderr
    assert "Traceback" not in result.stderr


def test_input_without_equals_is_a_usage_error(hw: Invoke, flows: Path) -> None:
    result = hw("run", flows, "plus_one", "-i", "a")
    assert result.exit_code == 2
    assert "Usage:" in result.stderr and "KEY=VALUE" in result.stderr


def test_input_given_twice_is_a_usage_error(hw: Invoke, flows: Path) -> None:
    result = hw("run", flows, "plus_one", "-i", "a=1", "-i", "a=2")
    assert result.exit_code == 2
    assert "given twice" in result.stderr


def test_missing_file(hw: Invoke, tmp_path: Path) -> None:
    result = hw("run", tmp_path / "nothere.py", "wf")
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_import_error_in_user_code(hw: Invoke, write_module: Callable[[str, str], Path]) -> None:
    path = write_module("cli_broken", "import headwater_no_such_module\n")
    result = hw("run", path, "wf")
    assert result.exit_code == 2
    assert "ModuleNotFoundError" in result.stderr
    assert "cli_broken.py" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("error: could not import")


def test_hw_uri_input_is_resolved_by_the_engine(hw: Invoke, flows: Path) -> None:
    version = as_json(hw("artifacts", "create", "numbers", "--value", "[1, 2, 3]", "--json"))
    body = as_json(hw("run", flows, "summed", "-i", f"xs={version['uri']}", "--json"))
    assert body["outputs"]["o0"]["value"] == 6
    assert body["resolved_inputs"]["xs"]["uri"] == version["uri"]


def test_list_input_as_text(hw: Invoke, flows: Path) -> None:
    body = as_json(hw("run", flows, "summed", "-i", "xs=1,2,3,4", "--json"))
    assert body["outputs"]["o0"]["value"] == 10


def test_register(hw: Invoke, flows: Path) -> None:
    result = ok(hw("register", flows))
    assert "cli_flows.plus_one" in result.stdout and "workflow" in result.stdout
    body = as_json(hw("register", flows, "--activate-all", "--json"))
    kinds = {(r["kind"], r["name"]) for r in body}
    assert ("task", "cli_flows.add") in kinds
    assert ("workflow", "cli_flows.typed") in kinds
    assert ("launch_plan", "cli_flows.typed") in kinds  # each workflow's default launch plan
    assert all(r["version"] for r in body)
    assert all(r["active"] for r in body if r["kind"] == "launch_plan")


def test_register_needs_a_path(hw: Invoke) -> None:
    result = hw("register")
    assert result.exit_code == 2 and "Usage:" in result.stderr
