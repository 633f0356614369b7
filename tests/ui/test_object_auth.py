"""The auth matrix of the Object tab and the download, in-process on SQLite and PostgreSQL:
no session -> login, a viewer may read and download, a token for another project gets 403."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import headwater
from headwater.api import tokens
from headwater.instance import Instance
from tests.api.conftest import Api, serve

from ..engine.conftest import instance  # noqa: F401  (fixture)
from . import object_flows as f
from .test_session import jar

TAB = "/artifacts/default/development/run_settings@1?tab=object"
DOWNLOAD = "/artifacts/default/development/run_settings@1/download"


@dataclass
class Site:
    api: Api
    secrets: dict[str, str]

    def login(self, role: str) -> dict[str, str]:
        """A browser session for the role's token: the header its cookie makes."""
        r = self.api.post("/login", data={"token": self.secrets[role], "next": "/"})
        assert r.status_code == 303, r.text
        self.api.client.cookies.clear()
        return jar(str(r.cookies["hw_session"]))

    def bearer(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[role]}"}


@pytest.fixture
def site(instance: Instance) -> Iterator[Site]:  # noqa: F811
    headwater.register("tests.ui.object_flows")
    assert headwater.run(f.config).status == "succeeded"
    secrets = {r: tokens.create(instance, f"obj-{r}", "default", r)[0] for r in ("viewer",)}
    secrets["other"] = tokens.create(instance, "obj-other", "other", "admin")[0]
    with serve(instance) as api:
        yield Site(api, secrets)


def test_without_a_session_both_redirect_to_login(site: Site) -> None:
    for path in (TAB, DOWNLOAD):
        r = site.api.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
        assert "attachment" not in r.headers.get("content-disposition", "")


def test_a_viewer_sees_the_tab_and_downloads(site: Site) -> None:
    for headers in (site.login("viewer"), site.bearer("viewer")):
        page = site.api.get(TAB, headers=headers)
        assert page.status_code == 200 and 'id="download"' in page.text
        r = site.api.get(DOWNLOAD, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json() == f.settings(1)


def test_a_token_for_another_project_is_refused(site: Site) -> None:
    for headers in (site.login("other"), site.bearer("other")):
        for path in (TAB, DOWNLOAD):
            r = site.api.get(path, headers=headers)
            assert r.status_code == 403, (path, r.text)
            assert "seed" not in r.text
