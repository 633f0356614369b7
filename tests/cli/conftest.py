"""Fixtures for the CLI tests: an isolated instance per test and a CliRunner wrapper."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from headwater.cli import main
from headwater.instance import reset_default
from tests.cli.cli_helpers import EXAMPLE, Invoke, as_json


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """HEADWATER_HOME in tmp_path, nothing else configured, default instance reset."""
    for var in [v for v in os.environ if v.startswith("HEADWATER_")]:
        monkeypatch.delenv(var)
    folder = tmp_path / "home"
    monkeypatch.setenv("HEADWATER_HOME", str(folder))
    monkeypatch.setenv("HEADWATER_FILE_CACHE", str(tmp_path / "file-cache"))
    saved_path = list(sys.path)
    reset_default()
    try:
        yield folder
    finally:
        reset_default()
        sys.path[:] = saved_path
        for name, module in list(sys.modules.items()):  # workflow files written by the test
            if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
                del sys.modules[name]


@pytest.fixture
def hw(home: Path) -> Invoke:
    """``hw("run", path, "wf", "-i", "n=1")`` -> click Result (stdout, stderr, exit_code)."""
    runner = CliRunner()

    def invoke(*args: Any) -> Result:
        return runner.invoke(
            main, [str(a) for a in args], catch_exceptions=False, prog_name="headwater"
        )

    return invoke


@pytest.fixture
def write_module(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a workflow file into tmp_path/flows/<name>.py and return its path."""

    def write(name: str, source: str) -> Path:
        folder = tmp_path / "flows"
        folder.mkdir(exist_ok=True)
        path = folder / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        return path

    return write


@pytest.fixture
def sales(hw: Invoke) -> dict[str, Any]:
    """The example pipeline run through the CLI: etl EU and US for 2026-11-01, then train."""
    etl_eu = as_json(hw("run", EXAMPLE, "etl", "-i", "region=EU", "-i", "day=2026-11-01", "--json"))
    etl_us = as_json(hw("run", EXAMPLE, "etl", "-i", "region=US", "-i", "day=2026-11-01", "--json"))
    train = as_json(hw("run", EXAMPLE, "train", "--json"))
    return {
        "etl_eu": etl_eu,
        "etl_us": etl_us,
        "train": train,
        "sales_eu": etl_eu["artifacts"][0],
        "sales_us": etl_us["artifacts"][0],
        "model": train["artifacts"][0],
    }
