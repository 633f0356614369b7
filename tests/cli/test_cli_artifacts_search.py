"""``headwater artifacts search`` by time partition, card text and latest per series, on data
produced by examples/sales_pipeline.py."""

from __future__ import annotations

from typing import Any

from tests.cli.cli_helpers import Invoke, as_json


def _uris(hw: Invoke, *args: str) -> list[str]:
    return [v["uri"] for v in as_json(hw("artifacts", "search", *args, "--json"))]


def test_search_by_time_partition_card_text_and_latest(hw: Invoke, sales: dict[str, Any]) -> None:
    day = ("--time-from", "2026-11-01", "--time-to", "2026-11-01")
    assert _uris(hw, *day) == [sales["sales_us"], sales["sales_eu"]]
    assert _uris(hw, "--time-from", "2026-11-02") == []
    assert _uris(hw, "--text", "SALES model") == [sales["model"]]
    assert _uris(hw, "--text", "no card says this") == []
    assert _uris(hw, "--latest", "--name", "daily_sales", "-p", "region=EU") == [sales["sales_eu"]]


def test_a_bad_time_partition_bound_names_the_option(hw: Invoke) -> None:
    result = hw("artifacts", "search", "--time-to", "next week")
    assert result.exit_code != 0 and "time_to 'next week' is not an ISO date" in result.stderr
