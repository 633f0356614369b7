"""``headwater artifacts ...`` on data produced by examples/sales_pipeline.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli.cli_helpers import EXAMPLE, Invoke, as_json, ok

PREFIX = "hw://default/development"


def test_the_pipeline_produced_versions(sales: dict[str, Any]) -> None:
    assert sales["sales_eu"] == f"{PREFIX}/daily_sales@1"
    assert sales["sales_us"] == f"{PREFIX}/daily_sales@2"
    assert sales["model"] == f"{PREFIX}/sales_model@1"
    assert sales["train"]["resolved_inputs"]["sales"]["uri"] == sales["sales_eu"]


def test_run_summary_lists_the_versions(hw: Invoke, sales: dict[str, Any]) -> None:
    result = ok(hw("run", EXAMPLE, "etl", "-i", "region=EU", "-i", "day=2026-11-02"))
    assert "artifacts:" in result.stdout
    assert f"{PREFIX}/daily_sales@3  region=EU time_partition=2026-11-02" in result.stdout
    assert "DataFrame 50 rows x 3 cols" in result.stdout


def test_list(hw: Invoke, sales: dict[str, Any]) -> None:
    result = ok(hw("artifacts", "list"))
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["URI", "PARTITIONS", "TIME"]
    assert lines[1].startswith(sales["model"])  # newest first
    assert any(
        line.startswith(sales["sales_us"]) and "region=US" in line and "2026-11-01" in line
        for line in lines
    )
    body = as_json(hw("artifacts", "list", "--json"))
    assert [v["uri"] for v in body] == [sales["model"], sales["sales_us"], sales["sales_eu"]]
    assert body[0]["partitions"] == {"region": "EU"}
    assert body[1]["time_partition"].startswith("2026-11-01")
    limited = as_json(hw("artifacts", "list", "--name", "daily_sales", "--limit", "1", "--json"))
    assert [v["uri"] for v in limited] == [sales["sales_us"]]


def test_list_empty(hw: Invoke) -> None:
    result = ok(hw("artifacts", "list"))
    assert result.stdout.strip() == "no artifact versions found"
    assert as_json(hw("artifacts", "list", "--json")) == []


def test_search(hw: Invoke, sales: dict[str, Any]) -> None:
    us = as_json(hw("artifacts", "search", "--name", "daily_*", "-p", "region=US", "--json"))
    assert [v["uri"] for v in us] == [sales["sales_us"]]
    eu = as_json(hw("artifacts", "search", "-p", "region=EU", "--json"))
    assert [v["uri"] for v in eu] == [sales["model"], sales["sales_eu"]]
    assert as_json(hw("artifacts", "search", "--until", "2000-01-01", "--json")) == []
    recent = as_json(hw("artifacts", "search", "--since", "2000-01-01T00:00:00Z", "--json"))
    assert len(recent) == 3
    text = ok(hw("artifacts", "search", "--name", "sales_*"))
    assert sales["model"] in text.stdout and "daily_sales" not in text.stdout


def test_search_bad_time_is_a_usage_error(hw: Invoke) -> None:
    result = hw("artifacts", "search", "--since", "last tuesday")
    assert result.exit_code == 2 and "ISO" in result.stderr


def test_show(hw: Invoke, sales: dict[str, Any]) -> None:
    result = ok(hw("artifacts", "show", sales["model"]))
    out = result.stdout
    assert f"uri:             {sales['model']}" in out
    assert "partitions:      region=EU" in out
    assert f"execution:       {sales['train']['id']}" in out
    assert "model card" in out
    assert "# Sales model (EU)" in out  # raw Markdown when not a terminal
    body = as_json(hw("artifacts", "show", sales["model"], "--json"))
    assert body["uri"] == sales["model"]
    assert body["cards"][0]["kind"] == "model"
    assert body["cards"][0]["text"].startswith("# Sales model (EU)")
    assert body["value"]["value"]["trained_on_rows"] == 50


def test_show_a_query_uri(hw: Invoke, sales: dict[str, Any]) -> None:
    body = as_json(hw("artifacts", "show", f"{PREFIX}/daily_sales?region=US", "--json"))
    assert body["uri"] == sales["sales_us"]
    assert body["cards"][0]["kind"] == "data"


def test_show_unknown(hw: Invoke, sales: dict[str, Any]) -> None:
    result = hw("artifacts", "show", f"{PREFIX}/daily_sales@99")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no artifact version")
    bad = hw("artifacts", "show", "not-a-uri")
    assert bad.exit_code == 2 and "hw://" in bad.stderr
    nomatch = hw("artifacts", "show", f"{PREFIX}/daily_sales?region=JP")
    assert nomatch.exit_code == 2 and "region=JP" in nomatch.stderr


def test_get(hw: Invoke, sales: dict[str, Any], tmp_path: Path) -> None:
    model = json.loads(ok(hw("artifacts", "get", sales["model"])).stdout)
    assert set(model) == {"intercept", "slope", "r2", "trained_on_rows"}
    table = ok(hw("artifacts", "get", sales["sales_eu"])).stdout
    assert "store" in table and "EU-00" in table
    out = ok(hw("artifacts", "get", sales["sales_eu"], "-o", tmp_path))
    written = tmp_path / "daily_sales-1.parquet"
    assert str(written) in out.stdout
    assert written.read_bytes()[:4] == b"PAR1"
    named = tmp_path / "sub" / "model.json"
    named.parent.mkdir()
    ok(hw("artifacts", "get", sales["model"], "--output", named))
    assert json.loads(named.read_text()) == model


def test_create_a_partitioned_version_with_a_card(
    hw: Invoke, sales: dict[str, Any], tmp_path: Path
) -> None:
    card = tmp_path / "card.md"
    card.write_text("# Backfill\n\nHand-made numbers.\n")
    body = as_json(
        hw(
            "artifacts",
            "create",
            "daily_sales",
            "--value",
            '{"units": [1, 2]}',
            "-p",
            "region=EU",
            "--time-partition",
            "2026-11-05T10:00:00Z",
            "--card-md",
            card,
            "--json",
        )
    )
    assert body["uri"] == f"{PREFIX}/daily_sales@3"
    assert body["partitions"] == {"region": "EU"}
    assert body["time_partition"].startswith("2026-11-05T00:00:00")  # cut to the day
    assert body["execution_id"] is None
    assert body["cards"] == [{"kind": "data", "text": "# Backfill\n\nHand-made numbers.\n"}]
    shown = ok(hw("artifacts", "show", body["uri"])).stdout
    assert "published from outside a workflow" in shown and "# Backfill" in shown
    events = as_json(hw("events", "list", "--name", "headwater.artifact.created", "--json"))
    assert events[0]["subject"] == body["uri"]


def test_create_refuses_to_redeclare_silently(hw: Invoke, sales: dict[str, Any]) -> None:
    result = hw("artifacts", "create", "daily_sales", "--value", "1")
    assert result.exit_code == 2
    assert "region" in result.stderr and "--time-partition" in result.stderr
    assert len(as_json(hw("artifacts", "list", "--name", "daily_sales", "--json"))) == 2


def test_create_from_a_file(hw: Invoke, tmp_path: Path) -> None:
    src = tmp_path / "report.csv"
    src.write_text("a,b\n1,2\n")
    text = ok(
        hw(
            "artifacts",
            "create",
            "report",
            "--file",
            src,
            "-p",
            "team=ops",
            "--card-md",
            src,
            "--card-kind",
            "model",
        )
    )
    assert f"published {PREFIX}/report@1" in text.stdout
    body = as_json(hw("artifacts", "show", f"{PREFIX}/report@1", "--json"))
    assert body["value"]["format"] == "file"
    assert body["partitions"] == {"team": "ops"}
    assert body["cards"][0]["kind"] == "model"
    dest = tmp_path / "copy.csv"
    ok(hw("artifacts", "get", f"{PREFIX}/report@1", "-o", dest))
    assert dest.read_text() == "a,b\n1,2\n"
    preview = ok(hw("artifacts", "get", f"{PREFIX}/report@1")).stdout
    assert "-o PATH" in preview


def test_create_usage_errors(hw: Invoke, tmp_path: Path) -> None:
    neither = hw("artifacts", "create", "x")
    assert neither.exit_code == 2 and "exactly one of" in neither.stderr
    both = hw("artifacts", "create", "x", "--value", "1", "--file", __file__)
    assert both.exit_code == 2 and "exactly one of" in both.stderr
    bad_json = hw("artifacts", "create", "x", "--value", "not json")
    assert bad_json.exit_code == 2 and "JSON" in bad_json.stderr
    bad_p = hw("artifacts", "create", "x", "--value", "1", "-p", "region")
    assert bad_p.exit_code == 2 and "KEY=VALUE" in bad_p.stderr
    undeclared = hw(
        "artifacts", "create", "x", "--value", "1", "--partition-keys", "a,b", "-p", "a=1"
    )
    assert undeclared.exit_code == 2 and "-p b=VALUE" in undeclared.stderr
    bad_name = hw("artifacts", "create", "bad name", "--value", "1")
    assert bad_name.exit_code == 2 and bad_name.stderr.startswith("error: artifact name")
    assert as_json(hw("artifacts", "list", "--json")) == []


def test_lineage_tree(hw: Invoke, sales: dict[str, Any]) -> None:
    tree = ok(hw("artifacts", "lineage", sales["model"])).stdout
    lines = tree.splitlines()
    assert lines[0] == sales["model"]
    assert "upstream:" in lines
    assert f"produced by execution {sales['train']['id']} (sales_pipeline.train" in tree
    assert f"consumed (sales) {sales['sales_eu']}" in tree
    assert f"produced by execution {sales['etl_eu']['id']} (sales_pipeline.etl" in tree
    assert sales["sales_us"] not in tree


def test_lineage_directions_and_json(hw: Invoke, sales: dict[str, Any]) -> None:
    down = ok(hw("artifacts", "lineage", sales["sales_eu"], "--direction", "down")).stdout
    assert "downstream:" in down and "upstream:" not in down
    assert f"produced (o0) {sales['model']}" in down
    up = ok(hw("artifacts", "lineage", sales["sales_eu"], "--direction", "upstream")).stdout
    assert "downstream:" not in up and sales["etl_eu"]["id"] in up
    graph = as_json(hw("artifacts", "lineage", sales["model"], "--json", "--depth", "2"))
    assert graph["root"] == sales["model"]
    assert graph["direction"] == "both" and graph["depth"] == 2
    ids = {n["id"] for n in graph["nodes"]}
    assert {sales["model"], sales["sales_eu"], sales["train"]["id"], sales["etl_eu"]["id"]} <= ids
    assert {
        "source": sales["sales_eu"],
        "target": sales["train"]["id"],
        "kind": "consumed",
        "name": "sales",
    } in graph["edges"]
    shallow = as_json(hw("artifacts", "lineage", sales["model"], "--json", "--depth", "0"))
    assert [n["id"] for n in shallow["nodes"]] == [sales["model"]]


def test_lineage_errors(hw: Invoke, sales: dict[str, Any]) -> None:
    missing = hw("artifacts", "lineage", f"{PREFIX}/nothing@1")
    assert missing.exit_code == 2 and missing.stderr.startswith("error: ")
    bad = hw("artifacts", "lineage", sales["model"], "--direction", "sideways")
    assert bad.exit_code == 2 and "Usage:" in bad.stderr


def test_lineage_depth_all_prints_as_it_walks(hw: Invoke) -> None:
    from headwater.instance import get_instance
    from tests.engine.long_chain import build

    uris = build(get_instance(), 300)
    text = ok(hw("artifacts", "lineage", uris[-1], "--direction", "up", "--depth", "all")).stdout
    lines = text.splitlines()
    assert lines[0] == uris[-1] and len(lines) == 1 + 300 + 299
    assert lines[1].startswith(f"{uris[-1]} <- produced (o0) by execution ")
    assert lines[2].startswith("execution ") and lines[2].endswith(f"<- consumed (x) {uris[-2]}")
    assert lines[-1].startswith(f"{uris[0]} <- produced (o0) by execution ")
    assert lines[-1].endswith("(tests.engine.pipelines.plain_wf, succeeded)")
    graph = as_json(hw("artifacts", "lineage", uris[-1], "--depth", "ALL", "--json"))
    assert graph["depth"] is None and len(graph["nodes"]) == 600
    deep = as_json(hw("artifacts", "lineage", uris[-1], "--depth", "120", "--json"))
    assert deep["depth"] == 120 and len(deep["nodes"]) == 1 + 120 * 2
    bad = hw("artifacts", "lineage", uris[-1], "--depth", "-2")
    assert bad.exit_code == 2 and "depth must be a whole number" in bad.stderr
