"""``POST /api/v1/registrations`` takes uploaded code, never a path on the server's machine,
and runs the user's module in a child process: its errors, exits and crashes are a 422 that
names the file, while the server answers on."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.engine.register.registry import MAX_SNAPSHOT_BYTES

from .conftest import count, dumps, error_of, registration, stored

URL = "/api/v1/registrations"


def upload(module: str, files: dict[str, str], **options: Any) -> dict[str, Any]:
    return {"module": module, "files": files, **options}


def nothing_changed(instance: Any, before: dict[str, int]) -> bool:
    return stored(instance) == before and count(instance, "code_snapshots") == 0


GOOD = """
from headwater import LaunchPlan, OnEvent, task, workflow

@task
def inc(n: int) -> int:
    return n + 1

@workflow
def bumped(n: int = 0) -> int:
    return inc(n=n)

LaunchPlan.create("on_bump", bumped, trigger=OnEvent("bump.requested"))
"""


def test_uploaded_code_is_registered_with_its_bare_launch_plans_and_warnings(instance, api):
    r = api.post(URL, json=upload("uploaded_good", {"uploaded_good.py": GOOD}, activate=True))
    assert r.status_code == 201, r.text
    body = r.json()
    kinds = {(x["kind"], x["name"]) for x in body["registered"]}
    assert ("workflow", "uploaded_good.bumped") in kinds
    assert ("launch_plan", "on_bump") in kinds
    active = {x["name"] for x in body["registered"] if x.get("active")}
    assert active == {"on_bump"}  # the default plan of `bumped` has no trigger: not activated
    assert len(body["warnings"]) == 1 and "'bump.requested'" in body["warnings"][0]
    with instance.db.read() as tx:
        snaps = tx.all("SELECT root, files, digest FROM code_snapshots")
        [entity_snapshot] = {r["snapshot"] for r in tx.all("SELECT snapshot FROM entities")}
    # the child registered the very snapshot the server stored (no second copy)
    assert [(s["root"], s["files"], s["digest"]) for s in snaps] == [
        ("<upload>", 1, entity_snapshot)
    ]


def test_a_request_naming_a_server_path_is_refused(instance, api):
    before = stored(instance)
    for body in ({"path": "tests.api.sensors"}, {"path": "/etc/passwd.py", "activate": True}):
        err = error_of(api.post(URL, json=body), 400)
        assert "does not import paths on its machine" in err["message"]
        assert "headwater register FILE" in err["message"]
    err = error_of(api.post(URL, json={"module": "x"}), 400)
    assert "give `module`" in err["message"]
    assert nothing_changed(instance, before)


@pytest.mark.parametrize(
    "name",
    [
        "/tmp/evil.py",
        "../evil.py",
        "pkg/../../evil.py",
        "pkg/./mod.py",
        "pkg//mod.py",
        "evil\0.py",
        "pkg\\mod.py",
        "C:/evil.py",
        "~/evil.py",
        "evil.sh",
        "",
    ],
)
def test_hostile_file_names_are_refused(instance, api, name):
    before = stored(instance)
    files = {"safe_mod.py": "x = 1\n", name: "x = 2\n"}
    err = error_of(api.post(URL, json=upload("safe_mod", files)), 400)
    # NUL is refused with every other unstorable text, before the upload is read
    assert ("refusing the uploaded file name" if "\0" not in name else "NUL") in err["message"]
    assert nothing_changed(instance, before)


def test_bad_modules_and_limits_are_refused(instance, api):
    before = stored(instance)
    cases = [
        (upload("missing", {"other.py": "x = 1\n"}), 400, "not in the upload"),
        (upload("os", {"os.py": "x = 1\n"}), 400, "name of a standard"),
        (upload("a b", {"a b.py": ""}), 400, "not a module name"),
        (upload("m", {}), 400, "holds no files"),
        (upload("m", {"m.py": ""}, activate="some"), 400, "activate"),
    ]
    for body, status, text in cases:
        assert text in error_of(api.post(URL, json=body), status)["message"]
    surrogate = dumps(upload("m", {"m.py": "\ud800"}))  # ASCII JSON, with an escape
    headers = {"content-type": "application/json"}
    error_of(api.post(URL, content=surrogate, headers=headers), 400)
    huge = "#" * (MAX_SNAPSHOT_BYTES + 5 * 1024 * 1024)
    err = error_of(api.post(URL, json=upload("big", {"big.py": huge})), 413)
    assert "limit" in err["message"]  # the route's or the server-wide body limit
    assert nothing_changed(instance, before)


BROKEN = {
    "raises": ("import headwater\n\nx = 1 / 0\n", "raises.py, line 3: ZeroDivisionError"),
    "exits": ("import sys\nsys.exit(4)\n", "exits.py, line 2: SystemExit (sys.exit(4))"),
    "syntax": ("def f(:\n    pass\n", "syntax.py, line 1: SyntaxError"),
    "dies": ("import os\nos._exit(3)\n", "(dies.py) ended the registration process with exit"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_module_that_fails_at_import_is_a_422_and_the_server_answers_on(instance, api, name):
    source, expected = BROKEN[name]
    before = stored(instance)
    err = error_of(api.post(URL, json=upload(f"hw_{name}", {f"hw_{name}.py": source})), 422)
    assert expected.replace(name, f"hw_{name}") in err["message"], err["message"]
    assert err["type"] == "DefinitionError"
    assert api.get("/healthz").status_code == 200
    assert stored(instance) == before
    with instance.db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) FROM entities") == 0


def test_activate_all_or_by_name_over_http(instance, api):
    files = {"uploaded_act.py": GOOD.replace("on_bump", "on_bump_act")}
    r = api.post(URL, json=upload("uploaded_act", files, activate=["uploaded_act.bumped"]))
    assert r.status_code == 201, r.text
    assert {x["name"] for x in r.json()["registered"] if x.get("active")} == {"uploaded_act.bumped"}
    r = api.post(URL, json=upload("uploaded_act", files, activate="all"))
    assert {x["name"] for x in r.json()["registered"] if x.get("active")} == {
        "uploaded_act.bumped",
        "on_bump_act",
    }
    err = error_of(api.post(URL, json=upload("uploaded_act", files, activate=["nope"])), 400)
    assert "cannot activate nope" in err["message"]


def test_a_package_module_is_uploaded_with_its_package(instance, api):
    body = registration("tests.api.sensors")
    assert "tests/api/sensors.py" in body["files"] and "tests/__init__.py" in body["files"]
    r = api.post(URL, json=body)
    assert r.status_code == 201, r.text
    assert "on_sensor" in {x["name"] for x in r.json()["registered"]}


PLAIN_FLOW = """
from headwater.flows import FlowSpec, step


class PlainUploadFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_a_flow_without_trigger_is_deployed_only_when_named(instance, api):
    files = {"plain_upload_flow.py": PLAIN_FLOW}
    r = api.post(URL, json=upload("plain_upload_flow", files, activate=True))
    assert r.status_code == 201, r.text
    assert [x for x in r.json()["registered"] if x.get("active")] == []
    # what `python flow.py deploy` sends to a server: the flow by name
    r = api.post(URL, json=upload("plain_upload_flow", files, activate=["PlainUploadFlow"]))
    assert r.status_code == 201, r.text
    active = [x for x in r.json()["registered"] if x.get("active")]
    assert [(x["name"], x["triggers"]) for x in active] == [("PlainUploadFlow", [])]


GUARDED = """
import os

from headwater import LaunchPlan, OnEvent, workflow

if os.environ.get("HEADWATER_TEST_SERVER_PID") == str(os.getpid()):
    os._exit(3)  # imported inside the API server's process: end it, as a hostile module would

@workflow
def doubled(n: int = 0) -> int:
    return n * 2

LaunchPlan.create("on_double", doubled, trigger=OnEvent("double.requested"))
"""


def test_relaunch_over_http_converts_inputs_without_importing_user_code(instance, api, monkeypatch):
    import os
    import sys

    from headwater.engine.react.reactor import Reactor

    monkeypatch.setenv("HEADWATER_TEST_SERVER_PID", str(os.getpid()))
    body = upload("guarded_mod", {"guarded_mod.py": GUARDED}, activate=True)
    assert api.post(URL, json=body).status_code == 201
    api.post("/api/v1/events", json={"name": "double.requested", "payload": {"n": 2}})
    while Reactor(instance).run_once():
        pass
    (first,) = api.get("/api/v1/executions").json()

    url = f"/api/v1/executions/{first['id']}/relaunch"
    r = api.post(url, json={"text_inputs": {"n": "21"}})
    assert r.status_code == 201, r.text
    again = r.json()
    assert again["status"] == "queued" and again["inputs"]["n"]["value"] == 21
    assert "guarded_mod" not in sys.modules  # the types came from a child process

    before = stored(instance)
    err = error_of(api.post(url, json={"text_inputs": {"n": "many"}}), 422)
    assert "'n'" in err["message"] and "int" in err["message"]
    err = error_of(api.post(url, json={"inputs": {"nope": 1}}), 400)
    assert "no input 'nope'" in err["message"]
    assert stored(instance) == before
