"""Registration snapshots code by content: same code, same version; changed code, new one."""

from __future__ import annotations

import textwrap

import pytest

import headwater
from headwater.engine.register.registry import take_snapshot

WF = """
from headwater import task, workflow

@task
def double(x: int) -> int:
    return x * {factor}

@workflow
def wf(x: int = 1) -> int:
    return double(x=x)
"""


def _write(path, factor):
    path.write_text(textwrap.dedent(WF.format(factor=factor)))


def test_same_code_same_version_changed_code_new_version(instance, tmp_path):
    mod = tmp_path / "reg_mod_a.py"
    _write(mod, 2)
    registered = headwater.register(mod)
    first = {r.name: r for r in registered if r.kind in ("task", "workflow")}
    assert set(first) == {"reg_mod_a.double", "reg_mod_a.wf"}
    assert first["reg_mod_a.wf"].kind == "workflow"
    assert [r.name for r in registered if r.kind == "launch plan"] == ["reg_mod_a.wf"]
    assert take_snapshot(mod).digest == first["reg_mod_a.wf"].snapshot

    copy = tmp_path / "other" / "reg_mod_a.py"
    copy.parent.mkdir()
    _write(copy, 2)
    assert take_snapshot(copy).digest == first["reg_mod_a.wf"].snapshot

    mod2 = tmp_path / "reg_mod_b.py"
    _write(mod2, 2)
    _write(copy, 3)
    assert take_snapshot(copy).digest != first["reg_mod_a.wf"].snapshot


def test_register_stores_snapshot_and_entities(instance, tmp_path):
    mod = tmp_path / "reg_mod_c.py"
    _write(mod, 2)
    regs = [r for r in headwater.register(mod) if r.kind in ("task", "workflow")]
    with instance.db.read() as tx:
        names = {r["name"] for r in tx.all("SELECT name FROM entities")}
        snap = tx.one("SELECT * FROM code_snapshots")
    assert names == {r.name for r in regs}
    assert b"return x * 2" in instance.blobs.get_bytes(snap["blob_key"])
    again = [r for r in headwater.register(mod) if r.kind in ("task", "workflow")]
    assert [r.version for r in again] == [r.version for r in regs]


def test_register_unknown_path(instance, tmp_path):
    with pytest.raises(headwater.NotFoundError, match="cannot import"):
        headwater.register("no_such_module_xyz")
    with pytest.raises(headwater.NotFoundError, match="not a Python file"):
        headwater.register(tmp_path)


def _module(tmp_path, name: str, source: str):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return path


def _plans(inst) -> dict[str, bool]:
    return {lp.name: lp.active for lp in headwater.list_launch_plans()}


REACTIVE = """
from datetime import datetime
from headwater import CronSchedule, LaunchPlan, OnEvent, workflow

@workflow
def on_event(n: int = 0) -> int:
    return n

@workflow
def nightly(run_at: datetime = datetime(2026, 1, 1)) -> str:
    return run_at.isoformat()

@workflow
def by_hand(n: int = 1) -> int:
    return n

# Not assigned to a variable, as in the README: registered all the same.
LaunchPlan.create("{p}on_event", on_event, trigger=OnEvent("{p}happened"))
LaunchPlan.create("{p}nightly", nightly,
                  schedule=CronSchedule("0 2 * * *", kickoff_time_input_arg="run_at"))
LaunchPlan.create("{p}with_inputs", by_hand, default_inputs={{"n": 5}})
"""


def test_launch_plans_created_without_a_variable_are_registered(instance, tmp_path):
    path = _module(tmp_path, "bare_plans_mod", REACTIVE.format(p="bare_"))
    names = {r.name for r in headwater.register(path) if r.kind.startswith("launch plan")}
    assert {"bare_on_event", "bare_nightly", "bare_with_inputs"} <= names
    plans = {lp.name: lp for lp in headwater.list_launch_plans()}
    assert plans["bare_on_event"].spec["triggers"][0]["name"] == "bare_happened"
    assert plans["bare_nightly"].spec["schedule"]["schedule"] == "0 2 * * *"


def test_a_plan_made_by_a_helper_while_a_module_is_imported_belongs_to_that_module(
    instance, tmp_path
):
    _module(
        tmp_path,
        "plan_factory_lib",
        """
        from headwater import LaunchPlan, OnEvent

        def on_event(wf, name):
            LaunchPlan.create(name, wf, trigger=OnEvent(name + ".ready"))
        """,
    )
    path = _module(
        tmp_path,
        "plan_factory_user",
        """
        from headwater import workflow
        from plan_factory_lib import on_event

        @workflow
        def made(n: int = 0) -> int:
            return n

        on_event(made, "factory_made")
        """,
    )
    names = {r.name for r in headwater.register(path) if r.kind.startswith("launch plan")}
    assert names == {"factory_made", "plan_factory_user.made"}


def test_activate_turns_on_only_plans_that_run_by_themselves(instance, tmp_path):
    path = _module(tmp_path, "activate_mod", REACTIVE.format(p="act_"))
    headwater.register(path, activate=True)
    active = {n for n, a in _plans(instance).items() if a}
    assert active == {"act_on_event", "act_nightly"}  # no default plan, no by-hand plan

    headwater.register(path, activate=["act_with_inputs"])
    assert {n for n, a in _plans(instance).items() if a} == active | {"act_with_inputs"}

    headwater.register(path, activate="all")
    assert all(_plans(instance).values()) and len(_plans(instance)) == 6


def test_activating_an_unknown_plan_name_is_refused_before_anything_is_stored(instance, tmp_path):
    path = _module(tmp_path, "activate_bad_mod", REACTIVE.format(p="bad_"))
    with pytest.raises(headwater.UserInputError, match=r"no launch plan of that name.*bad_nightly"):
        headwater.register(path, activate=["bad_nightlyy"])
    with pytest.raises(headwater.UserInputError, match="not understood"):
        headwater.register(path, activate="some")
    with instance.db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM entities") == 0
        assert tx.scalar("SELECT COUNT(*) FROM launch_plans") == 0


UNDECLARED = """
from headwater import Artifact, LaunchPlan, OnArtifact, OnEvent, OnFinish, workflow

@workflow
def react(n: int = 0) -> int:
    return n

LaunchPlan.create("on_typo_event", react, trigger=OnEvent("orders.creatd"))
LaunchPlan.create("on_unmade", react, trigger=OnArtifact(trigger_on=Artifact(name="unmade")))
LaunchPlan.create("after_ghost", react, trigger=OnFinish("ghost_workflow"))
LaunchPlan.create("after_react", react, trigger=OnFinish(react))
"""


def test_registration_warns_about_triggers_on_names_nothing_declares(instance, tmp_path):
    path = _module(tmp_path, "undeclared_mod", UNDECLARED)
    found = headwater.register(path)
    text = "\n".join(found.warnings)
    assert len(found.warnings) == 3, text
    assert "'on_typo_event' listens to event 'orders.creatd', which has never been received" in text
    assert "'on_unmade' listens to artifact 'unmade'" in text
    assert "'after_ghost' waits for workflow 'ghost_workflow'" in text
    assert "--no-warnings" in text  # how to silence them

    headwater.emit_event("orders.creatd", {})
    headwater.create_artifact(headwater.Artifact(name="unmade"), 1)
    again = headwater.register(path)
    assert [w for w in again.warnings if "ghost_workflow" not in w] == []


def test_a_module_that_hangs_at_import_is_stopped_and_named(instance, tmp_path):
    from headwater.engine.register.register_process import register_uploaded
    from headwater.engine.register.uploads import check_upload

    source = "import time\nwhile True:\n    time.sleep(0.05)\n"
    snap = check_upload("hangs_forever", "", {"hangs_forever.py": source})
    with pytest.raises(headwater.DefinitionError, match=r"hangs_forever\.py.*within 3 s"):
        register_uploaded(instance, snap, "hangs_forever", None, None, False, timeout=3)
    with instance.db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM entities") == 0


def test_each_plan_of_a_module_stores_the_attempts_its_own_workflows_module_allows(
    instance, tmp_path
):
    # max_attempts follows the most patient task of the module defining the plan's workflow,
    # also when one registration holds plans on workflows of two modules.
    (tmp_path / "reg_patient.py").write_text(
        textwrap.dedent(
            """
            from headwater import task, workflow

            @task(retries=4)
            def slow(x: int) -> int:
                return x

            @workflow
            def patient(x: int = 1) -> int:
                return slow(x=x)
            """
        )
    )
    mod = tmp_path / "reg_plans.py"
    mod.write_text(
        textwrap.dedent(
            """
            from headwater import LaunchPlan, task, workflow
            from reg_patient import patient

            @task(retries=1)
            def quick(x: int) -> int:
                return x

            @workflow
            def hasty(x: int = 1) -> int:
                return quick(x=x)

            plans = [LaunchPlan.create(f"p{i}", patient if i % 2 else hasty) for i in range(6)]
            """
        )
    )
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        out = headwater.register(mod)
    finally:
        sys.path.remove(str(tmp_path))
    attempts = {r.name: r.spec["max_attempts"] for r in out if r.kind == "launch plan"}
    assert {k: v for k, v in attempts.items() if k.startswith("p")} == {
        f"p{i}": 5 if i % 2 else 2 for i in range(6)
    }
