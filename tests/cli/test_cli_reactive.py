"""`headwater launchplans`, `events emit|show|replay` as a user types them."""

from __future__ import annotations

from headwater.engine.react.reactor import Reactor
from headwater.instance import get_instance
from tests.cli.cli_helpers import EXAMPLE, as_json, ok

FLOW = """
from headwater import LaunchPlan, OnEvent, workflow

@workflow
def loaded(table: str, rows: int = 0) -> str:
    return f"{table}:{rows}"

on_load = LaunchPlan.create("on_load", loaded,
                            trigger=OnEvent("table.loaded", parameters={"table": "name"}))
"""


def test_launch_plans_and_events_end_to_end(hw, write_module):
    path = write_module("loads", FLOW)
    ok(hw("register", path))
    plans = {p["name"]: p for p in as_json(ok(hw("launchplans", "list", "--json")))}
    assert plans["on_load"]["active"] is False
    assert plans["on_load"]["triggers"][0]["name"] == "table.loaded"

    early = ok(hw("events", "emit", "table.loaded", "--payload", '{"name": "a"}')).output.strip()
    Reactor(get_instance()).run_once()
    shown = ok(hw("events", "show", early)).output
    assert "on_load [0] not_fired: launch plan 'on_load' is inactive" in shown

    activated = as_json(ok(hw("launchplans", "activate", "on_load", "--json")))
    assert activated[0]["active"] is True
    late = as_json(
        ok(
            hw(
                "events",
                "emit",
                "table.loaded",
                "--payload",
                '{"name": "b"}',
                "--id",
                "load-b",
                "--json",
            )
        )
    )
    assert late == {"id": "load-b", "name": "table.loaded"}
    Reactor(get_instance()).run_once()
    decision = as_json(ok(hw("events", "show", "load-b", "--json")))["decisions"][0]
    assert decision["outcome"] == "fired" and decision["execution_id"]

    replayed = as_json(
        ok(hw("events", "replay", "--since", "2000-01-01", "--launch-plan", "on_load", "--json"))
    )
    assert [(d["event_id"], d["outcome"]) for d in replayed] == [
        (early, "fired"),
        ("load-b", "not_fired"),
    ]
    assert ok(hw("launchplans", "list", "--active")).output.count("on_load") == 1
    ok(hw("launchplans", "deactivate", "on_load"))
    assert "on_load" not in hw("launchplans", "list", "--active").output


def test_bad_event_input_is_refused(hw):
    result = hw("events", "emit", "x", "--payload", "{not json")
    assert result.exit_code == 2 and "not valid JSON" in result.output
    result = hw("events", "emit", "headwater.fake")
    assert result.exit_code == 2 and "Headwater's own" in result.output
    result = hw("launchplans", "activate", "ghost")
    assert result.exit_code == 2 and "no launch plan 'ghost'" in result.output


def test_relaunch_repeats_with_recorded_inputs(hw, sales):
    from headwater.client import get_execution, search_artifacts

    train = sales["train"]
    consumed = train["resolved_inputs"]["sales"]["uri"]
    ok(hw("run", EXAMPLE, "etl", "-i", "region=EU", "-i", "day=2026-11-09"))
    again = as_json(ok(hw("executions", "relaunch", train["id"], "--json")))
    assert again["status"] == "succeeded"
    assert again["resolved_inputs"]["sales"]["uri"] == consumed  # not the newer EU version
    assert again["trigger"] == {
        "kind": "relaunch",
        "of": train["id"],
        "overrides": [],
        "events": [],
        "artifacts": [],
        "runs": [],
    }
    assert again["outputs"]["o0"]["value"] == train["outputs"]["o0"]["value"]
    other = as_json(ok(hw("executions", "relaunch", train["id"], "-i", "region=US", "--json")))
    assert other["inputs"]["region"]["value"] == "US"
    queued = ok(hw("executions", "relaunch", train["id"], "--queue")).output
    new_id = queued.split()[0]
    assert get_execution(new_id).status == "queued"
    assert len(search_artifacts(name="sales_model")) >= 3
    bad = hw("executions", "relaunch", train["id"], "-i", "nope=1")
    assert bad.exit_code == 2 and "no input 'nope'" in bad.output
    assert hw("executions", "relaunch", "ghost").exit_code == 2


FLOWSPEC = """
from headwater.flows import FlowSpec, Parameter, step, trigger


@trigger(event="numbers.ready")
class DoubleFlow(FlowSpec):
    n = Parameter("n", default=2)

    @step
    def start(self):
        self.doubled = self.n * 2
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_flowspec_files_register_run_and_deploy_through_headwater(hw, write_module):
    path = write_module("double_flow", FLOWSPEC)
    registered = as_json(ok(hw("register", path, "--json")))
    assert ("workflow", "DoubleFlow") in {(r["kind"], r["name"]) for r in registered}
    ran = as_json(ok(hw("run", path, "DoubleFlow", "-i", "n=5", "--json")))
    assert ran["status"] == "succeeded" and ran["outputs"]["doubled"]["value"] == 10
    deployed = as_json(ok(hw("register", path, "--activate", "--json")))
    flow_plan = [r for r in deployed if r["kind"] == "launch_plan" and r["triggers"]]
    assert flow_plan and flow_plan[0]["active"]
    assert flow_plan[0]["triggers"][0]["name"] == "numbers.ready"


README_SNIPPET = """
from headwater import CronSchedule, LaunchPlan, OnEvent, workflow

@workflow
def load_wf(table: str = "t") -> str:
    return table

@workflow
def report_wf(run_at: str = "") -> str:
    return run_at

@workflow
def by_hand(n: int = 1) -> int:
    return n

# As in the README: created, not assigned to a variable.
LaunchPlan.create("cli_on_load", load_wf, trigger=OnEvent("cli.table.loaded",
                                                         parameters={"table": "name"}))
LaunchPlan.create("cli_nightly", report_wf, schedule=CronSchedule("0 2 * * *"))
"""


def _active(hw) -> set[str]:
    return {p["name"] for p in as_json(ok(hw("launchplans", "list", "--active", "--json")))}


def test_register_activate_turns_on_only_triggered_and_scheduled_plans(hw, write_module):
    path = write_module("readme_plans", README_SNIPPET)
    done = hw("register", path, "--activate", "--json")
    plans = {r["name"]: r["active"] for r in as_json(done) if r["kind"] == "launch_plan"}
    assert plans == {
        "cli_on_load": True,
        "cli_nightly": True,
        "readme_plans.load_wf": False,
        "readme_plans.report_wf": False,
        "readme_plans.by_hand": False,
    }
    assert done.stderr.startswith("warning: launch plan 'cli_on_load' listens to event ")
    assert "'cli.table.loaded', which has never been received" in done.stderr
    assert "--no-warnings" in done.stderr

    quiet = ok(hw("register", path, "--activate-plan", "readme_plans.by_hand", "--no-warnings"))
    assert quiet.stderr == ""
    assert _active(hw) == {"cli_on_load", "cli_nightly", "readme_plans.by_hand"}
    ok(hw("register", path, "--activate-all"))
    assert len(_active(hw)) == 5

    both = hw("register", path, "--activate", "--activate-all")
    assert both.exit_code == 2 and "give one of --activate" in both.stderr
    several = hw("register", path, path, "--activate-plan", "cli_on_load")
    assert several.exit_code == 2 and "give one PATH" in several.stderr
    unknown = hw("register", path, "--activate-plan", "cli_on_lod")
    assert unknown.exit_code == 2
    assert "cannot activate cli_on_lod" in unknown.stderr and "cli_on_load" in unknown.stderr


def test_events_are_identified_by_source_and_id(hw):
    send = ("events", "emit", "table.loaded", "--id", "load-9", "--source")
    ok(hw(*send, "/a", "--payload", '{"name": "a"}'))
    ok(hw(*send, "/a", "--payload", '{"name": "a"}'))  # the same event again
    result = hw(*send, "/a", "--payload", '{"name": "changed"}')
    assert result.exit_code == 2
    assert "'load-9' from source '/a' was stored before with another payload" in result.output
    ok(hw(*send, "/b", "--payload", '{"name": "b"}'))
    result = hw("events", "show", "load-9")
    assert result.exit_code == 2 and "'/b', '/a'" in result.output and "--source" in result.output
    shown = as_json(ok(hw("events", "show", "load-9", "--source", "/b", "--json")))
    assert shown["source"] == "/b" and shown["payload"] == {"name": "b"}


def test_relaunch_overrides_an_input_with_an_artifact(hw, sales):
    from headwater.client import list_executions

    train = sales["train"]
    newer = as_json(ok(hw("run", EXAMPLE, "etl", "-i", "day=2026-11-09", "--json")))
    uri = newer["artifacts"][0]
    again = as_json(ok(hw("executions", "relaunch", train["id"], "-i", f"sales={uri}", "--json")))
    assert again["status"] == "succeeded", again["error"]
    assert again["resolved_inputs"]["sales"] == {"uri": uri, "via": "explicit"}
    lineage = as_json(ok(hw("artifacts", "lineage", uri, "--direction", "downstream", "--json")))
    assert again["id"] in {n["id"] for n in lineage["nodes"]}

    before = len(list_executions(limit=10_000))
    bad = hw("executions", "relaunch", train["id"], "-i", f"sales={sales['model']}")
    assert bad.exit_code == 2 and bad.stdout == ""
    assert "input 'sales' expects pandas.DataFrame" in bad.stderr and "holds a dict" in bad.stderr
    assert len(list_executions(limit=10_000)) == before


def test_executions_list_by_launch_plan_and_project(hw, write_module, monkeypatch):
    from headwater.instance import reset_default

    path = write_module("loads", FLOW)
    ok(hw("register", path, "--activate"))
    ok(hw("events", "emit", "table.loaded", "--payload", '{"name": "a"}'))
    Reactor(get_instance()).run_once()
    manual = as_json(ok(hw("run", path, "loaded", "-i", "table=x", "--json")))
    [fired] = as_json(ok(hw("executions", "list", "--launch-plan", "on_load", "--json")))
    assert fired["launch_plan"] == "on_load" and fired["status"] == "queued"
    assert fired["id"] != manual["id"]

    monkeypatch.setenv("HEADWATER_PROJECT", "other")
    reset_default()
    empty = ok(hw("executions", "list")).stdout
    assert empty == "no executions found in this project (--all-projects for every project)\n"
    theirs = as_json(ok(hw("run", path, "loaded", "-i", "table=y", "--json")))
    assert [e["id"] for e in as_json(ok(hw("executions", "list", "--json")))] == [theirs["id"]]
    every = as_json(ok(hw("executions", "list", "--all-projects", "--json")))
    assert {e["id"] for e in every} == {theirs["id"], manual["id"], fired["id"]}
    named = as_json(ok(hw("executions", "list", "--project", "default", "--json")))
    assert {e["id"] for e in named} == {manual["id"], fired["id"]}
    both = hw("executions", "list", "--project", "x", "--all-projects")
    assert both.exit_code == 2 and "not both" in both.stderr
