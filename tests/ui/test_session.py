"""Browser sessions and CSRF in-process (no browser), on SQLite and PostgreSQL: login with a
good or a bad token, the cookie's flags, forged posts refused with nothing changed, a viewer
refused, and no login at all with auth off."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import headwater
from headwater.api import tokens
from headwater.instance import Instance
from tests.api.conftest import Api, serve

from ..engine.conftest import instance  # noqa: F401  (fixture)
from . import plans

DETAIL = f"/launch-plans/{plans.NAME}"


@dataclass
class Site:
    inst: Instance
    api: Api
    secrets: dict[str, str]
    first: str
    second: str

    def login(self, role: str) -> str:
        """Log in with the role's token; the session cookie's value."""
        r = self.api.post(
            "/login",
            data={"token": self.secrets[role], "next": DETAIL},
        )
        assert r.status_code == 303, r.text
        assert r.headers["location"] == DETAIL
        self.api.client.cookies.clear()  # each call names its session itself
        return str(r.cookies["hw_session"])

    def page(self, cookie: str, path: str = DETAIL) -> str:
        r = self.api.get(path, headers=jar(cookie))
        assert r.status_code == 200, r.text
        return r.text

    def active(self) -> list[str]:
        with self.inst.use():
            return [
                lp.version
                for lp in headwater.list_launch_plans(active_only=True)
                if lp.name == plans.NAME
            ]


def jar(cookie: str) -> dict[str, str]:
    """The header a browser holding this session cookie sends."""
    return {"Cookie": f"hw_session={cookie}"}


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def _populate(inst: Instance) -> tuple[str, str]:
    with inst.use():
        headwater.register("tests.ui.flows", activate=True)
    first, second = plans.register_two_versions(inst)
    return first.version, second.version


@pytest.fixture
def site(instance: Instance) -> Iterator[Site]:  # noqa: F811
    first, second = _populate(instance)
    secrets = {
        role: tokens.create(instance, f"ui-{role}", "default", role)[0]
        for role in ("viewer", "editor")
    }
    secrets["other"] = tokens.create(instance, "ui-other", "other", "admin")[0]
    with serve(instance) as api:
        yield Site(instance, api, secrets, first, second)


def test_pages_without_a_session_redirect_to_login(site: Site) -> None:
    r = site.api.get(DETAIL + "?x=1")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Flaunch-plans%2Freview_versions%3Fx%3D1"
    login = site.api.get(r.headers["location"])
    assert login.status_code == 200 and 'id="token"' in login.text
    assert site.api.get("/static/ui.css").status_code == 200  # the login page's style
    # The API keeps answering 401 (bearer tokens only).
    assert site.api.get("/api/v1/launch-plans").status_code == 401


def test_login_sets_a_strict_http_only_cookie_without_the_token(site: Site) -> None:
    r = site.api.post("/login", data={"token": site.secrets["editor"], "next": "/events"})
    assert r.status_code == 303 and r.headers["location"] == "/events"
    header = r.headers["set-cookie"]
    assert "HttpOnly" in header and "SameSite=strict" in header and "Max-Age=" in header
    assert "Secure" not in header  # plain HTTP here; over TLS it is Secure
    value = r.cookies["hw_session"]
    site.api.client.cookies.clear()
    assert site.secrets["editor"] not in header
    assert tokens.hash_secret(site.secrets["editor"]) not in header
    html = site.page(value)
    assert "Launch plan" in html and 'id="logout-link"' in html and "ui-editor" in html


def test_the_cookie_is_secure_over_tls(site: Site) -> None:
    r = site.api.post("https://headwater.test/login", data={"token": site.secrets["viewer"]})
    assert r.status_code == 303
    assert "Secure" in r.headers["set-cookie"]


def test_a_bad_token_is_refused_with_the_form_again(site: Site) -> None:
    r = site.api.post("/login", data={"token": "hw_not-a-token", "next": DETAIL})
    assert r.status_code == 401
    assert "unknown or revoked API token" in r.text and "set-cookie" not in r.headers
    assert site.api.get(DETAIL, headers=jar("made-up")).status_code == 303


def test_login_never_redirects_to_another_site(site: Site) -> None:
    r = site.api.post("/login", data={"token": site.secrets["viewer"], "next": "//evil.test/"})
    assert r.headers["location"] == "/"


def test_an_editor_activates_an_older_version_from_the_list(site: Site) -> None:
    cookie = site.login("editor")
    html = site.page(cookie)
    assert 'id="activate-form"' in html and site.first in html and site.second in html
    assert site.active() == [site.second]
    r = site.api.post(
        DETAIL + "/activate",
        data={"csrf": csrf_of(html), "version": site.first},
        headers=jar(cookie),
    )
    assert r.status_code == 303, r.text
    assert site.active() == [site.first]
    r = site.api.post(DETAIL + "/deactivate", data={"csrf": csrf_of(html)}, headers=jar(cookie))
    assert r.status_code == 303, r.text
    assert site.active() == []


@pytest.mark.parametrize("csrf", [None, "", "wrong"])
def test_a_post_without_the_right_csrf_token_is_refused_and_changes_nothing(
    site: Site, csrf: str | None
) -> None:
    cookie = site.login("editor")
    data = {"version": site.first} | ({} if csrf is None else {"csrf": csrf})
    for path in ("/activate", "/deactivate"):
        r = site.api.post(DETAIL + path, data=data, headers=jar(cookie))
        assert r.status_code == 403, r.text
        assert "CSRF" in r.text
    assert site.active() == [site.second]


def test_another_sessions_csrf_token_is_wrong(site: Site) -> None:
    mine, theirs = site.login("editor"), site.login("editor")
    r = site.api.post(
        DETAIL + "/activate",
        data={"csrf": csrf_of(site.page(theirs)), "version": site.first},
        headers=jar(mine),
    )
    assert r.status_code == 403
    assert site.active() == [site.second]


def test_a_viewer_sees_no_controls_and_is_refused(site: Site) -> None:
    cookie = site.login("viewer")
    html = site.page(cookie)
    assert "activate-form" not in html and "deactivate-form" not in html
    assert site.first in html  # but the versions, yes
    editor_html = site.page(site.login("editor"))
    # Even with a valid CSRF token of its own session, the role is too low.
    logout = site.api.get("/logout", headers=jar(cookie)).text
    r = site.api.post(
        DETAIL + "/activate",
        data={"csrf": csrf_of(logout), "version": site.first},
        headers=jar(cookie),
    )
    assert r.status_code == 403 and "viewer" in r.text
    assert 'id="activate-form"' in editor_html
    assert site.active() == [site.second]


def test_a_token_for_another_project_is_refused(site: Site) -> None:
    cookie = site.login("other")
    r = site.api.get(DETAIL, headers=jar(cookie))
    assert r.status_code == 403


def test_logout_and_revocation_end_the_session(site: Site) -> None:
    cookie = site.login("editor")
    form = site.api.get("/logout", headers=jar(cookie)).text
    assert site.api.post("/logout", headers=jar(cookie)).status_code == 403
    r = site.api.post("/logout", data={"csrf": csrf_of(form)}, headers=jar(cookie))
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert 'hw_session=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]
    assert site.api.get(DETAIL, headers=jar(cookie)).status_code == 303
    again = site.login("editor")
    tokens.revoke(site.inst, "ui-editor")
    assert site.api.get(DETAIL, headers=jar(again)).status_code == 303


def test_auth_off_needs_no_login_but_forms_still_carry_csrf(instance: Instance) -> None:  # noqa: F811
    first, second = _populate(instance)
    with serve(instance) as api:
        assert api.get("/login").status_code == 303  # nothing to log in to
        html = api.get(DETAIL).text
        assert 'id="activate-form"' in html and "logout-link" not in html
        forged = api.post(DETAIL + "/activate", data={"version": first})
        assert forged.status_code == 403
        r = api.post(DETAIL + "/activate", data={"version": first, "csrf": csrf_of(html)})
        assert r.status_code == 303, r.text
    with instance.use():
        active = [lp.version for lp in headwater.list_launch_plans(True) if lp.name == plans.NAME]
    assert active == [first] and second != first


def test_unknown_launch_plan_is_a_404_page(instance: Instance) -> None:  # noqa: F811
    with serve(instance) as api:
        r = api.get("/launch-plans/no_such_plan")
        assert r.status_code == 404 and "no launch plan" in r.text
