"""Auth of the launch plan reads added with the launch plan pages (in-process, no browser):
the decisions REST route and the pages of plans in other projects (``?project=&domain=``)
answer a token only for its own project; the list shows a project token its project's plans
only. The activate/deactivate forms are covered by test_auth_pages.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

import headwater
from headwater import LaunchPlan, OnEvent
from headwater.api import tokens
from headwater.engine.register.launch_plans import register_launch_plan
from headwater.instance import Instance
from headwater.settings import Settings
from tests.api.conftest import Api, serve

from . import flows, plans

OTHER = "/launch-plans/elsewhere?project=other&domain=staging"


@dataclass
class World:
    api: Api
    secrets: dict[str, str]

    def get(self, who: str, path: str) -> httpx.Response:
        headers = {} if who == "none" else {"Authorization": f"Bearer {self.secrets[who]}"}
        return self.api.get(path, headers=headers)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("plan-auth") / "home"
    inst = Instance(Settings.from_env({}, home=home))
    with inst.use():
        headwater.register("tests.ui.flows", activate=True)
    plans.register_two_versions(inst)
    register_launch_plan(
        inst,
        LaunchPlan("elsewhere", flows.review, trigger=OnEvent("other.demo")),
        project="other",
        domain="staging",
    )
    secrets = {r: tokens.create(inst, f"t-{r}", "default", r)[0] for r in ("viewer", "editor")}
    secrets["other"] = tokens.create(inst, "t-other", "other", "admin")[0]
    with serve(inst) as api:
        yield World(api, secrets)
    inst.close()


DECISIONS = f"/api/v1/launch-plans/{plans.NAME}/decisions"


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        ("none", DECISIONS, 401),
        ("other", DECISIONS, 403),
        ("viewer", DECISIONS, 200),
        ("editor", DECISIONS, 200),
        ("viewer", "/api/v1/launch-plans/elsewhere/decisions?project=other", 403),
        ("other", "/api/v1/launch-plans/elsewhere/decisions?project=other&domain=staging", 200),
    ],
)
def test_the_decisions_route_answers_a_token_for_its_project_only(
    world: World, who: str, path: str, status: int
) -> None:
    r = world.get(who, path)
    assert r.status_code == status, r.text
    if status == 200:
        assert r.json()["decisions"] == []


def test_a_plan_page_in_another_project_needs_a_token_for_it(world: World) -> None:
    refused = world.get("viewer", OTHER)
    assert refused.status_code == 403
    assert "'default'" in refused.text.replace("&#39;", "'")  # names the token's project
    allowed = world.get("other", OTHER)
    assert allowed.status_code == 200 and "other/staging" in allowed.text
    # activation works on the server's own project only: no controls for this one
    assert 'id="activate-form"' not in allowed.text
    assert world.get("other", f"/launch-plans/{plans.NAME}").status_code == 403
    assert world.get("none", OTHER).status_code == 303  # to /login


def test_the_list_shows_a_project_token_its_plans_only(world: World) -> None:
    mine = world.get("viewer", "/launch-plans").text
    theirs = world.get("other", "/launch-plans").text
    assert f'data-launch-plan="{plans.NAME}"' in mine
    assert 'data-launch-plan="elsewhere"' not in mine
    assert 'data-launch-plan="elsewhere"' in theirs
    assert f'data-launch-plan="{plans.NAME}"' not in theirs
