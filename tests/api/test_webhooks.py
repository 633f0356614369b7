"""Webhook signatures on POST /api/v1/events (Standard Webhooks), on both backends.

Signatures are computed here, from the scheme (HMAC-SHA256 over "{id}.{timestamp}.{body}",
base64, "v1," prefix), not with the server's code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest

import headwater
from headwater.api import ApiConfig
from headwater.errors import UserInputError

from .conftest import binary, cloud_event, count, error_of, registration, serve, structured
from .test_events import MODULE, react_and_run

KEY = bytes(range(32))
SECRET = "whsec_" + base64.b64encode(KEY).decode()
CI = "https://ci.example"
RULES = [{"secret": SECRET, "names": ["sensor.*"], "sources": [CI]}]
JSON = {"content-type": "application/json"}


def sign(
    body: bytes,
    *keys: bytes,
    msg_id: str = "msg_1",
    at: int | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, str]:
    stamp = int(time.time()) if at is None else at
    signed = f"{msg_id}.{stamp}.".encode() + body
    sigs = [
        "v1," + base64.b64encode(hmac.new(k, signed, hashlib.sha256).digest()).decode()
        for k in keys
    ]
    return {
        **(headers or JSON),
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": " ".join(sigs),
    }


def plain(**event: Any) -> bytes:
    return json.dumps({"name": "sensor.reading", **event}).encode()


@pytest.fixture
def api(instance):
    with serve(instance, ApiConfig(webhook_secrets=RULES)) as client:
        yield client


def test_a_protected_name_is_refused_unsigned_from_any_source(instance, api):
    for source in (None, "/elsewhere", "headwater://http", CI):
        body = plain(payload={"reading": 1}, **({"source": source} if source else {}))
        err = error_of(api.post("/api/v1/events", headers=JSON, content=body), 401)
        assert "names sensor.*" in err["message"]
        for header in ("webhook-id", "webhook-timestamp", "webhook-signature"):
            assert header in err["message"]
    as_ce = structured(cloud_event("sensor.reading", {"reading": 1}, source="/spoofed"))
    error_of(api.post("/api/v1/events", **as_ce), 401)
    mixed = json.dumps([{"name": "free.event"}, {"name": "sensor.reading"}]).encode()
    error_of(api.post("/api/v1/events", headers=JSON, content=mixed), 401)
    # The protected source, with any name, needs the signature too.
    from_ci = json.dumps({"name": "free.event", "source": CI}).encode()
    assert (
        "source https://ci.example"
        in (error_of(api.post("/api/v1/events", headers=JSON, content=from_ci), 401)["message"])
    )
    # Binary mode: the ce-* headers (name, source, id) are outside the signed body.
    req = binary(cloud_event("sensor.reading", {"reading": 1}, source=CI))
    err = error_of(
        api.post(
            "/api/v1/events",
            headers=sign(req["content"], KEY, headers=req["headers"]),
            content=req["content"],
        ),
        401,
    )
    assert "structured mode" in err["message"]
    assert count(instance, "events") == 0
    free = json.dumps({"name": "free.event", "source": "/elsewhere"}).encode()
    assert api.post("/api/v1/events", headers=JSON, content=free).status_code == 202


def test_the_old_signature_header_is_refused_naming_the_new_ones(instance, api):
    body = plain(payload={"reading": 1})
    old = hmac.new(KEY, body, hashlib.sha256).hexdigest()
    for content in (body, json.dumps({"name": "free.event"}).encode()):
        headers = {**JSON, "X-Headwater-Signature": f"sha256={old}"}
        err = error_of(api.post("/api/v1/events", headers=headers, content=content), 401)
        assert "X-Headwater-Signature" in err["message"] and "webhook-signature" in err["message"]
    assert count(instance, "events") == 0


def test_timestamps_outside_five_minutes_either_way_are_refused(instance, api):
    body = plain(payload={"reading": 1})
    now = int(time.time())
    for at, why in ((now - 400, "old"), (now + 400, "in the future")):
        r = api.post("/api/v1/events", headers=sign(body, KEY, at=at), content=body)
        assert why in error_of(r, 401)["message"]
    headers = {**sign(body, KEY), "webhook-timestamp": "soon"}
    error_of(api.post("/api/v1/events", headers=headers, content=body), 401)
    assert count(instance, "events") == 0
    r = api.post("/api/v1/events", headers=sign(body, KEY, at=now - 200), content=body)
    assert r.status_code == 202, r.text


def test_a_signed_event_fires_once_and_its_replay_stores_nothing(instance, api):
    api.post("/api/v1/registrations", json=registration(MODULE, activate=True))
    body = plain(payload={"reading": 5})  # no event id: the server would assign a new one
    headers = sign(body, KEY, msg_id="msg_42")
    first = api.post("/api/v1/events", headers=headers, content=body)
    assert first.status_code == 202, first.text
    assert first.json()["accepted"] == 1 and "redelivered" not in first.json()
    again = api.post("/api/v1/events", headers=headers, content=body)
    assert again.status_code == 202
    assert again.json() == {"accepted": 0, "ids": [], "duplicates": [], "redelivered": True}
    assert count(instance, "events") == 1
    [ex] = react_and_run(instance)
    assert ex.status == "succeeded" and ex.inputs["value"] == 5
    # Remembered in the database, not in the process: another server refuses it as well.
    with serve(instance, ApiConfig(webhook_secrets=RULES)) as other:
        assert other.post("/api/v1/events", headers=headers, content=body).json()["redelivered"]
    assert len(headwater.list_events(name="sensor.reading")) == 1


def test_wrong_secrets_are_refused_and_any_listed_secret_signs(instance):
    body = plain(payload={"reading": 1})
    rotating = [{"secret": ["new-secret", "old-secret"], "names": ["sensor.*"]}]
    with serve(instance, ApiConfig(webhook_secrets=rotating)) as api:
        r = api.post("/api/v1/events", headers=sign(body, b"guess"), content=body)
        assert "no valid v1 signature" in error_of(r, 401)["message"]
        r = api.post("/api/v1/events", headers=sign(body, b"guess", b"old-secret"), content=body)
        assert r.status_code == 202, r.text
        tampered = body.replace(b"1", b"9")
        headers = sign(body, b"new-secret", msg_id="msg_2")
        error_of(api.post("/api/v1/events", headers=headers, content=tampered), 401)
    assert count(instance, "events") == 1


def test_every_rule_protecting_an_event_must_sign_it(instance):
    rules = [
        {"secret": "deploy-key", "names": ["deploy.*"]},
        {"secret": "ci-key", "sources": [CI]},
    ]
    body = json.dumps({"name": "deploy.prod", "source": CI}).encode()
    with serve(instance, ApiConfig(webhook_secrets=rules)) as api:
        r = api.post("/api/v1/events", headers=sign(body, b"ci-key"), content=body)
        assert "names deploy.*" in error_of(r, 401)["message"]
        headers = sign(body, b"ci-key", b"deploy-key")
        assert api.post("/api/v1/events", headers=headers, content=body).status_code == 202


def test_two_senders_may_use_the_same_webhook_id(instance):
    rules = [{"secret": "a-key", "names": ["a.*"]}, {"secret": "b-key", "names": ["b.*"]}]
    with serve(instance, ApiConfig(webhook_secrets=rules)) as api:
        for name, key in (("a.done", b"a-key"), ("b.done", b"b-key")):
            body = json.dumps({"name": name}).encode()
            r = api.post("/api/v1/events", headers=sign(body, key, msg_id="1"), content=body)
            assert r.json()["accepted"] == 1, r.text
    assert count(instance, "events") == 2


def test_the_old_object_form_protects_a_source(instance):
    with serve(instance, ApiConfig(webhook_secrets={CI: "s3cret"})) as api:
        body = json.dumps({"name": "push", "source": CI}).encode()
        error_of(api.post("/api/v1/events", headers=JSON, content=body), 401)
        r = api.post("/api/v1/events", headers=sign(body, b"s3cret"), content=body)
        assert r.status_code == 202, r.text


def test_secrets_come_from_the_environment(tmp_path):
    path = tmp_path / "secrets.json"
    path.write_text('{"a": "1", "b": "2"}')
    cfg = ApiConfig.from_env(
        {
            "HEADWATER_WEBHOOK_SECRETS_FILE": str(path),
            "HEADWATER_WEBHOOK_SECRETS": '{"b": "3"}',
            "HEADWATER_MAX_EVENT_BYTES": "2048",
        }
    )
    assert cfg.max_event_bytes == 2048
    assert [(r.sources, r.keys, r.names) for r in cfg.webhook_rules] == [
        (("a",), (b"1",), ()),
        (("b",), (b"3",), ()),
    ]
    cfg = ApiConfig.from_env(
        {
            "HEADWATER_WEBHOOK_SECRETS_FILE": str(path),
            "HEADWATER_WEBHOOK_SECRETS": json.dumps(RULES),
        }
    )
    rule = cfg.webhook_rules[-1]
    assert len(cfg.webhook_rules) == 3
    assert rule.keys == (KEY,) and rule.names == ("sensor.*",) and rule.sources == (CI,)
    assert rule.covers("sensor.x", "/any") and rule.covers("other", CI)
    assert not rule.covers("other", "/any")
    for bad, why in (
        ('[{"secret": "x"}]', "protects nothing"),
        ('[{"names": ["a"]}]', "no 'secret'"),
        ('[{"secret": "whsec_%%%", "names": ["a"]}]', "base64"),
        ('[{"secret": "x", "names": "a", "extra": 1}]', "a rule is"),
        ('"x"', "JSON list of rules"),
    ):
        with pytest.raises(UserInputError, match=why):
            ApiConfig.from_env({"HEADWATER_WEBHOOK_SECRETS": bad})
