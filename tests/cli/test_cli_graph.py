"""``headwater graph``: text, JSON, DOT and Mermaid name the same edges; warnings go to stderr
in the text formats and into the JSON."""

from __future__ import annotations

import json
import re

from tests.cli.cli_helpers import Invoke, as_json, ok

MOD = "tests.engine.graph_flows"
RAW = "artifact:default/development/graph_raw"
INGEST = f"workflow:default/development/{MOD}.ingest"
ON_RAW = "launch_plan:default/development/on_raw"


def _registered(hw: Invoke) -> None:
    ok(hw("register", "tests.engine.graph_helpers"))
    ok(hw("register", MOD, "--activate"))


def test_json_has_the_edges_and_the_warnings(hw: Invoke) -> None:
    _registered(hw)
    body = as_json(hw("graph", "--format", "json"))
    edges = {(e["source"], e["kind"], e["target"]) for e in body["edges"]}
    assert {(INGEST, "produces", RAW), (RAW, "triggers", ON_RAW)} <= edges
    assert {w["name"] for w in body["warnings"]} >= {"graph_claen", "graph.kikc"}


def test_dot_and_mermaid_draw_the_edges_and_warn_on_stderr(hw: Invoke) -> None:
    _registered(hw)
    dot = ok(hw("graph", "--format", "dot"))
    assert dot.stdout.startswith("digraph headwater {")
    assert f'"{INGEST}" -> "{RAW}" [label="produces"];' in dot.stdout
    assert f'"{RAW}" -> "{ON_RAW}" [label="triggers"];' in dot.stdout
    assert "warning: launch plan 'typo_artifact' listens to artifact 'graph_claen'" in dot.stderr
    assert "graph_claen" in dot.stdout  # the node is drawn (dashed), the warning is not

    mermaid = ok(hw("graph", "--format", "mermaid"))
    lines = mermaid.stdout.splitlines()
    assert lines[0] == "flowchart LR"
    ids = dict(re.findall(r"^  (n\d+)\S*?\"([^\"<]+)", mermaid.stdout, re.M))
    by_label = {label: nid for nid, label in ids.items()}
    assert f'{by_label["ingest"]} -->|"produces"| {by_label["graph_raw"]}' in lines[1:] or any(
        line.strip() == f'{by_label["ingest"]} -->|"produces"| {by_label["graph_raw"]}'
        for line in lines
    )
    assert any(
        line.strip() == f'{by_label["graph_raw"]} -->|"triggers"| {by_label["on_raw"]}'
        for line in lines
    )
    assert "graph.kikc" in mermaid.stderr

    text = ok(hw("graph"))
    assert f"workflow {MOD}.ingest -produces-> artifact graph_raw" in text.stdout
    assert "warning:" in text.stderr and "warning:" not in text.stdout


def test_scope_options_and_an_empty_graph(hw: Invoke) -> None:
    empty = ok(hw("graph"))
    assert "nothing registered" in empty.stdout and empty.stderr == ""
    _registered(hw)
    none = as_json(hw("graph", "--format", "json", "--domain", "production"))
    assert none["nodes"] == [] and none["domain"] == "production"
    other = as_json(hw("graph", "--format", "json", "--project", "other"))
    assert other["project"] == "other" and other["nodes"] == []
    everything = as_json(hw("graph", "--format", "json", "--project", "*"))
    assert everything["project"] == "*" and everything["nodes"]
    bad = hw("graph", "--format", "png")
    assert bad.exit_code == 2 and "png" in bad.stderr
    assert json.loads(ok(hw("graph", "--format", "json")).stdout)["project"] == "default"
