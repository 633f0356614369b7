"""``headwater executions ...`` and ``headwater events ...``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.cli.cli_helpers import Invoke, as_json, ok

FAILING = """
from headwater import task, workflow


@task
def explode(n: int) -> int:
    raise RuntimeError(f"exploded with {n}")


@workflow
def doomed(n: int = 5) -> int:
    return explode(n=n)
"""


def test_executions_list(hw: Invoke, sales: dict[str, Any]) -> None:
    text = ok(hw("executions", "list")).stdout.splitlines()
    assert text[0].split()[:3] == ["ID", "WORKFLOW", "STATUS"]
    assert text[1].startswith(sales["train"]["id"])  # newest first
    assert "sales_pipeline.train" in text[1] and "succeeded" in text[1]
    body = as_json(hw("executions", "list", "--json"))
    assert [e["id"] for e in body] == [
        sales["train"]["id"],
        sales["etl_us"]["id"],
        sales["etl_eu"]["id"],
    ]
    assert all(e["status"] == "succeeded" for e in body)
    etl = as_json(hw("executions", "list", "--workflow", "sales_pipeline.etl", "--json"))
    assert {e["id"] for e in etl} == {sales["etl_us"]["id"], sales["etl_eu"]["id"]}
    one = as_json(hw("executions", "list", "--limit", "1", "--json"))
    assert len(one) == 1
    assert as_json(hw("executions", "list", "--status", "failed", "--json")) == []


def test_executions_list_empty_and_bad_status(hw: Invoke) -> None:
    assert ok(hw("executions", "list")).stdout.startswith("no executions found in this project")
    bad = hw("executions", "list", "--status", "exploded")
    assert bad.exit_code == 2 and "succeeded" in bad.stderr


def test_executions_show(hw: Invoke, sales: dict[str, Any]) -> None:
    ex = sales["train"]
    out = ok(hw("executions", "show", ex["id"])).stdout
    assert f"id:           {ex['id']}" in out
    assert "workflow:     sales_pipeline.train" in out
    assert "status:       succeeded" in out
    assert f"<- {sales['sales_eu']} (query)" in out
    assert "sales_pipeline.fit" in out  # the node
    assert "artifacts produced" in out and sales["model"] in out
    body = as_json(hw("executions", "show", ex["id"], "--json"))
    assert body["id"] == ex["id"] and body["status"] == "succeeded"
    assert body["nodes"][0]["name"] == "sales_pipeline.fit"
    assert body["artifacts"] == [sales["model"]]


def test_executions_show_failed(hw: Invoke, write_module: Callable[[str, str], Path]) -> None:
    path = write_module("cli_doomed", FAILING)
    run = hw("run", path, "doomed", "--json")
    assert run.exit_code == 1
    ex_id = as_json(hw("executions", "list", "--json"))[0]["id"]
    out = ok(hw("executions", "show", ex_id)).stdout
    assert "status:       failed" in out
    assert "error" in out and "RuntimeError: exploded with 5" in out
    assert "Traceback (most recent call last)" in out
    assert "(cli_doomed.explode)" in out
    body = as_json(hw("executions", "show", ex_id, "--json"))
    assert body["error"]["type"] == "RuntimeError"
    assert body["nodes"][0]["status"] == "failed"


def test_executions_show_unknown(hw: Invoke) -> None:
    result = hw("executions", "show", "nope")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: no execution 'nope'; list them with `headwater executions list`\n"
    )


def test_events_list(hw: Invoke, sales: dict[str, Any]) -> None:
    text = ok(hw("events", "list")).stdout
    assert "headwater.artifact.created" in text
    assert "headwater.execution.succeeded" in text
    body = as_json(hw("events", "list", "--json", "--limit", "100"))
    names = [e["name"] for e in body]
    assert names.count("headwater.artifact.created") == 3
    assert names.count("headwater.execution.succeeded") == 3
    created = as_json(hw("events", "list", "--name", "headwater.artifact.created", "--json"))
    assert [e["subject"] for e in created] == [sales["model"], sales["sales_us"], sales["sales_eu"]]
    assert created[0]["payload"]["execution_id"] == sales["train"]["id"]
    assert len(as_json(hw("events", "list", "--limit", "2", "--json"))) == 2


def test_events_show(hw: Invoke, sales: dict[str, Any]) -> None:
    done = as_json(hw("events", "list", "--name", "headwater.execution.succeeded", "--json"))
    event = done[0]
    out = ok(hw("events", "show", event["id"])).stdout
    assert f"id:        {event['id']}" in out
    assert "name:      headwater.execution.succeeded" in out
    assert f'"execution_id": "{sales["train"]["id"]}"' in out
    body = as_json(hw("events", "show", event["id"], "--json"))
    assert {k: v for k, v in body.items() if k not in ("decided", "decisions")} == {
        k: v for k, v in event.items() if k not in ("decided", "decisions")
    }
    assert body["decided"] is False and body["decisions"] == []  # no reactor ran
    assert "not decided yet" in out


def test_events_show_unknown(hw: Invoke) -> None:
    result = hw("events", "show", "nope")
    assert result.exit_code == 2 and result.stderr.startswith("error: no event 'nope'")
    assert ok(hw("events", "list")).stdout.strip() == "no events found"
