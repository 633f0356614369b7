"""@schedule and @trigger_on_finish forms compile into the launch plan."""

from __future__ import annotations

from headwater.flows import FlowSpec, deploy, project, schedule, step, trigger_on_finish


@project(name="shop", production=True)
@schedule(hourly=True, timezone="Europe/Paris")
@trigger_on_finish(flow={"name": "Load", "project": "shop", "project_branch": "prod"})
class Nightly(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


def test_schedule_and_dict_finish_form(instance):
    info = deploy(Nightly)
    assert (info.project, info.domain, info.active) == ("shop", "prod", True)
    assert info.spec["schedule"]["schedule"] == "@hourly"
    assert info.spec["schedule"]["timezone"] == "Europe/Paris"
    [t] = info.spec["triggers"]
    assert (t["kind"], t["workflow"], t["project"], t["domain"]) == (
        "finish",
        "Load",
        "shop",
        "prod",
    )
    info = deploy(Nightly, branch="fix")
    assert info.domain == "prod.fix"
