"""@trigger: mapping forms, any/all, deploy-time callables, namespaced event names."""

from __future__ import annotations

import pytest

import headwater
from headwater.errors import DefinitionError
from headwater.flows import Event, FlowSpec, Parameter, Run, deploy, step, trigger

from . import event_flows as ef
from .helpers import of, one, react_and_run


def test_dict_mapping_keeps_json_types(instance):
    deploy(ef.OnDict)
    Event("table.updated", {"table_name": "sales", "n_rows": 12, "extra": 1}).publish()
    ex = one(react_and_run(instance), "OnDict")
    run = Run(f"OnDict/{ex.id}")
    assert run.data.seen == ("sales", 12, 1.5)
    assert run.data.payload == {"table_name": "sales", "n_rows": 12, "extra": 1}
    assert run.trigger.event.name == "table.updated"
    # a number default accepts any number, never truncated
    Event("table.updated", {"table_name": "t", "n_rows": 2.5}).publish()
    ex = one(react_and_run(instance), "OnDict")
    assert Run(f"OnDict/{ex.id}").data.rows == 2.5


def test_list_of_names_and_tuples(instance):
    deploy(ef.OnList)
    headwater.emit_event("sales.loaded", {"region": "US", "date": "2026-11-01", "count": 3})
    run = Run(f"OnList/{one(react_and_run(instance), 'OnList').id}")
    assert run.data.seen == ("US", "2026-11-01", 0)  # count is not mapped


def test_explicit_type_that_cannot_convert_is_not_fired(instance):
    deploy(ef.ByCallable)
    eid = headwater.emit_event("bycallable.go", {"n": "lots"})
    assert react_and_run(instance) == []
    [decision] = headwater.get_event(eid).decisions
    assert decision.outcome != "fired" and "'n'" in decision.reason


def test_events_list_fires_on_any(instance):
    deploy(ef.AnyPing)
    headwater.emit_event("ping.a", {"k": 1})
    headwater.emit_event("ping.b", {"k": 2})
    runs = of(react_and_run(instance), "AnyPing")
    assert sorted(Run(f"AnyPing/{r.id}").data.event_names[0] for r in runs) == ["ping.a", "ping.b"]


def test_require_all_waits_for_every_event(instance):
    deploy(ef.AllParts)
    headwater.emit_event("part.one", {"x": 1})
    assert of(react_and_run(instance), "AllParts") == []
    headwater.emit_event("part.two", {"x": 2})
    run = Run(f"AllParts/{one(react_and_run(instance), 'AllParts').id}")
    assert sorted(run.data.event_names) == ["part.one", "part.two"]


def test_deploy_time_callable(instance):
    info = deploy(ef.ByCallable)
    assert info.spec["triggers"][0]["name"] == "bycallable.go"
    headwater.emit_event("bycallable.go", {"n": 21})
    ex = one(react_and_run(instance), "ByCallable")
    assert Run(f"ByCallable/{ex.id}").data.doubled == 42


def test_namespaced_event_name(instance, monkeypatch):
    monkeypatch.setenv("HEADWATER_USER", "ana")
    info = deploy(ef.Namespaced)
    assert (info.project, info.domain) == ("nsproj", "user.ana")
    assert info.spec["triggers"][0]["name"] == "nsproj.user.ana.refresh"
    headwater.emit_event("refresh", {})  # another name: not ours
    assert of(react_and_run(instance), "Namespaced") == []
    headwater.emit_event("nsproj.user.ana.refresh", {})
    run = Run(f"Namespaced/{one(react_and_run(instance), 'Namespaced').id}")
    assert run.data.own == "nsproj.user.ana.refresh"
    assert (run.data.project_name, run.data.branch_name) == ("nsproj", "user.ana")
    assert (run.project, run.branch) == ("nsproj", "user.ana")


def test_required_parameter_without_mapping_is_a_deploy_error(instance):
    @trigger(event={"name": "x.y", "parameters": {"other": "f"}})
    class Unmapped(FlowSpec):
        needed = Parameter("needed", required=True)
        other = Parameter("other", default="")

        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    with pytest.raises(DefinitionError, match="'needed'"):
        deploy(Unmapped)


def test_mapping_to_an_unknown_parameter_is_a_deploy_error(instance):
    @trigger(event={"name": "x.y", "parameters": {"nope": "f"}})
    class Wrong(FlowSpec):
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    with pytest.raises(DefinitionError, match="'nope'"):
        deploy(Wrong)
