"""Helpers shared by the CLI tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "sales_pipeline.py"

Invoke = Callable[..., Result]


def ok(result: Result) -> Result:
    assert result.exit_code == 0, f"exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
    return result


def as_json(result: Result) -> Any:
    """stdout parsed as JSON: it must hold nothing else."""
    ok(result)
    return json.loads(result.stdout)
