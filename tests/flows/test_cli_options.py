"""`python flow.py ...` parsing, help and usage errors, in-process (``run`` itself stubbed)."""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

import pytest

from headwater.flows import FlowSpec, Parameter, step
from headwater.flows._cli import main


class OptionsFlow(FlowSpec):
    """Resize the sales table.

    Longer text that the help does not show."""

    size = Parameter("size", default=3, help="how many rows")
    dry_run = Parameter("dry_run", default=False, help="only pretend")
    table = Parameter("table", required=True, type=str)

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What `run` passed to headwater.flows.run (which is not called for real)."""
    calls: list[dict[str, Any]] = []

    def fake_run(cls: type, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return SimpleNamespace(id="r1", status=SimpleNamespace(value="succeeded"), error=None)

    # the module `run` imports it from at call time (not a path: another test may have
    # replaced the `headwater` package object, which then lacks the `flows` attribute)
    monkeypatch.setattr(importlib.import_module("headwater.flows._compile"), "run", fake_run)
    return calls


def test_help_names_the_flow_its_commands_and_the_scope_options(capsys):
    assert main(OptionsFlow, ["--help"]) == 0
    out = capsys.readouterr().out
    assert "Resize the sales table." in out and "Longer text" not in out
    for text in ("run ", "show ", "deploy ", "--branch NAME", "--production"):
        assert text in out
    assert "--trigger FLOW/RUN_ID" in out
    assert "--quiet" not in out  # accepted for Metaflow's sake, not advertised


def test_run_help_lists_each_parameter_with_its_type_help_and_default(capsys):
    assert main(OptionsFlow, ["run", "-h"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # unwrapped
    assert "--size NUMBER how many rows (default 3)." in out
    assert "--dry_run, --dry-run BOOLEAN only pretend (default False)." in out
    assert "--no-dry_run, --no-dry-run Set --dry_run to false." in out
    assert "--table TEXT Parameter table (required)." in out
    assert "--trigger-event NAME" in out and "--payload JSON" in out


def test_an_unknown_flag_is_refused_naming_it_and_the_parameters(capsys, runs):
    assert main(OptionsFlow, ["run", "--nope", "1"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and runs == []
    assert "No such option '--nope'. The flow's parameters: --size, --dry_run, --table." in (
        captured.err
    )
    assert main(OptionsFlow, ["--size", "1", "run"]) == 2  # parameters follow `run`
    assert "Parameters follow the command: run --size VALUE." in capsys.readouterr().err
    assert main(OptionsFlow, ["start"]) == 2
    assert "No such command 'start'" in capsys.readouterr().err


def test_a_flag_without_its_value_is_refused(capsys, runs):
    assert main(OptionsFlow, ["run", "--table"]) == 2
    assert "Option '--table' requires an argument" in capsys.readouterr().err
    assert runs == []


def test_parameters_scope_options_and_bool_flags_reach_the_run(capsys, runs):
    assert main(OptionsFlow, ["--trigger", "Up/1", "run", "--table=t", "--size", "7"]) == 0
    assert capsys.readouterr().out == "Done! OptionsFlow/r1 succeeded\n"
    assert runs[-1] == {
        "trigger": "Up/1",
        "trigger_event": None,
        "payload": None,
        "branch": None,
        "production": None,
        "table": "t",
        "size": "7",  # converted by the run, which names the parameter when it cannot
    }
    assert main(OptionsFlow, ["run", "--table", "t", "--dry-run", "--trigger", "Up/2"]) == 0
    assert runs[-1]["dry_run"] == "true" and runs[-1]["trigger"] == "Up/2"
    assert main(OptionsFlow, ["run", "--dry_run", "no", "--table", "t"]) == 0
    assert runs[-1]["dry_run"] == "no"
    assert main(OptionsFlow, ["--quiet", "run", "--no-dry-run", "--table", "t"]) == 0
    assert runs[-1]["dry_run"] is False


def test_a_missing_required_parameter_names_its_flag(capsys, runs):
    assert main(OptionsFlow, ["run"]) == 2
    assert capsys.readouterr().err == (
        "error: OptionsFlow needs parameter 'table': give --table TEXT\n"
    )
    assert runs == []


def test_payload_without_trigger_event_is_refused(capsys, runs):
    assert main(OptionsFlow, ["run", "--table", "t", "--payload", "{}"]) == 2
    assert capsys.readouterr().err == "error: --payload goes with --trigger-event NAME\n"
    assert runs == []


def test_no_command_shows_the_usage_and_fails(capsys):
    assert main(OptionsFlow, []) == 2
    assert "Commands:" in capsys.readouterr().err


def test_max_workers_reaches_the_run_and_must_be_positive(capsys, runs):
    assert main(OptionsFlow, ["run", "--table", "t", "--max-workers", "3"]) == 0
    assert runs[-1]["max_workers"] == 3
    assert main(OptionsFlow, ["run", "--table", "t", "--max-workers", "0"]) == 2
    assert "--max-workers" in capsys.readouterr().err
    assert len(runs) == 1
