"""POST /api/v1/events: CloudEvents (structured, binary, batch) and plain JSON, end to end."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import headwater
from headwater.api import ApiConfig
from headwater.daemon.worker import Worker
from headwater.engine.execute import queue
from headwater.engine.react.reactor import Reactor

from .conftest import (
    batch,
    binary,
    cloud_event,
    count,
    dumps,
    error_of,
    registration,
    serve,
    stored,
    structured,
)

MODULE = "tests.api.sensors"


def react_and_run(inst) -> list[headwater.Execution]:
    reactor, worker, done = Reactor(inst), Worker(inst), []
    while reactor.run_once():
        pass
    while (row := queue.claim(inst, worker.name, 30)) is not None:
        worker.run_one(row)
        done.append(headwater.get_execution(row.id))
    return done


def test_a_cloudevent_over_http_fires_an_active_launch_plan(instance, api):
    r = api.post("/api/v1/registrations", json=registration(MODULE, activate=True))
    assert r.status_code == 201, r.text
    assert any(x["name"] == "on_sensor" and x["active"] for x in r.json()["registered"])
    when = datetime(2026, 11, 1, 12, 30, tzinfo=UTC)
    event = cloud_event(
        "sensor.reading", {"reading": 21}, id="r-1", source="/plant/7", subject="t1", time=when
    )
    r = api.post("/api/v1/events", **structured(event))
    assert r.status_code == 202 and r.json() == {"accepted": 1, "ids": ["r-1"], "duplicates": []}
    assert api.get("/api/v1/events/r-1").json()["decided"] is False

    [ex] = react_and_run(instance)
    assert ex.status == "succeeded", ex.error
    assert ex.launch_plan == "on_sensor" and ex.inputs["value"] == 21
    assert ex.output == {"scaled": 42, "event": "r-1"}

    shown = api.get("/api/v1/events/r-1").json()
    assert shown["decided"] is True
    assert shown["source"] == "/plant/7" and shown["subject"] == "t1"
    assert shown["time"] == when.isoformat() and shown["payload"] == {"reading": 21}
    [decision] = shown["decisions"]
    assert decision["outcome"] == "fired" and decision["execution_id"] == ex.id
    assert api.get(f"/api/v1/executions/{ex.id}").json()["status"] == "succeeded"


def test_binary_mode_keeps_attributes_and_extensions(instance, api):
    event = cloud_event("sensor.reading", {"reading": 3}, id="b-1", subject="s", tenant="acme")
    r = api.post("/api/v1/events", **binary(event))
    assert r.status_code == 202, r.text
    rec = headwater.get_event("b-1")
    assert rec.name == "sensor.reading" and rec.payload == {"reading": 3}
    assert rec.source == "/tests" and rec.subject == "s"
    assert rec.attributes["tenant"] == "acme" and rec.attributes["specversion"] == "1.0"
    assert abs(rec.timestamp.timestamp() - event.get_time().timestamp()) < 1e-3


def test_a_cloudevents_batch_is_stored_and_an_id_seen_before_is_a_duplicate(instance, api):
    events = [cloud_event("sensor.reading", {"reading": i}, id=f"e{i}") for i in range(5)]
    assert api.post("/api/v1/events", **structured(events[0])).status_code == 202
    r = api.post("/api/v1/events", **batch(events))
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": 5, "ids": [f"e{i}" for i in range(5)], "duplicates": ["e0"]}
    assert count(instance, "events") == 5


def test_plain_json_forms(instance, api):
    one = {"name": "data.updated", "payload": {"table": "sales"}, "id": "p-1"}
    assert api.post("/api/v1/events", json=one).json()["ids"] == ["p-1"]
    as_list = [{"name": "data.updated", "id": "p-2"}, {"name": "data.updated", "id": "p-3"}]
    assert api.post("/api/v1/events", json=as_list).json()["ids"] == ["p-2", "p-3"]
    wrapped = {"events": [{"name": "data.updated", "id": "p-4", "time": 1700000000}]}
    assert api.post("/api/v1/events", json=wrapped).status_code == 202
    assert headwater.get_event("p-4").timestamp.timestamp() == 1700000000
    generated = api.post("/api/v1/events", json={"name": "x"}).json()["ids"][0]
    assert headwater.get_event(generated).source == "headwater://http"
    assert count(instance, "events") == 5


def test_a_batch_with_one_bad_event_stores_nothing_and_names_its_index(instance, api):
    events = [cloud_event("ok.event", {"i": i}) for i in range(3)]
    body = batch(events)
    bodies = [structured(e)["content"].decode() for e in events]
    bodies[2] = bodies[2].replace('"type": "ok.event"', '"type": "no spaces allowed"')
    r = api.post(
        "/api/v1/events", headers=body["headers"], content=("[" + ",".join(bodies) + "]").encode()
    )
    err = error_of(r, 400)
    assert err["index"] == 2 and "event 2" in err["message"]
    plain = [{"name": "fine"}, {"name": "fine", "payload": [1]}]
    assert error_of(api.post("/api/v1/events", json=plain), 400)["index"] == 1
    assert count(instance, "events") == 0


def test_malformed_cloudevents_are_refused_with_the_reason(instance, api):
    before = stored(instance)
    ce = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}
    headers = {"content-type": "application/cloudevents+json"}
    for missing in ("id", "source", "type", "specversion"):
        body = {k: v for k, v in ce.items() if k != missing}
        err = error_of(api.post("/api/v1/events", headers=headers, content=dumps(body)), 400)
        assert repr(missing) in err["message"]
    err = error_of(
        api.post("/api/v1/events", headers=headers, content=dumps({**ce, "specversion": "0.3"})),
        400,
    )
    assert "specversion" in err["message"]
    err = error_of(api.post("/api/v1/events", headers=headers, content=b'{"id": '), 400)
    assert "not valid JSON" in err["message"]
    err = error_of(
        api.post("/api/v1/events", headers=headers, content=dumps({**ce, "time": "yesterday"})),
        400,
    )
    assert "RFC 3339" in err["message"]
    binary_missing = {"ce-specversion": "1.0", "ce-id": "1", "ce-type": "t"}
    err = error_of(api.post("/api/v1/events", headers=binary_missing, content=b"{}"), 400)
    assert "ce-source" in err["message"]
    err = error_of(api.post("/api/v1/events", headers={"content-type": "text/plain"}), 415)
    assert "application/json" in err["message"]
    assert stored(instance) == before


def test_oversized_bodies_get_413_and_store_nothing(instance):
    with serve(instance, ApiConfig(max_event_bytes=1000, max_batch_bytes=5000)) as api:
        big = {"name": "big", "payload": {"blob": "x" * 2000}}
        assert (
            "HEADWATER_MAX_EVENT_BYTES"
            in error_of(api.post("/api/v1/events", json=big), 413)["message"]
        )
        event = cloud_event("big", {"blob": "x" * 2000})
        error_of(api.post("/api/v1/events", **structured(event)), 413)
        error_of(api.post("/api/v1/events", **binary(event)), 413)
        many = [{"name": "small", "payload": {"blob": "x" * 500}} for _ in range(20)]
        error_of(api.post("/api/v1/events", json=many), 413)
        one_big = [{"name": "small"}, {"name": "big", "payload": {"blob": "x" * 2000}}]
        assert error_of(api.post("/api/v1/events", json=one_big), 413)["index"] == 1
        # Content-Length is checked before the body is read.
        r = api.post(
            "/api/v1/events",
            headers={"content-type": "application/json", "content-length": "999999"},
            content=b"{}",
        )
        assert r.status_code in (400, 413)
    assert count(instance, "events") == 0


def test_the_payload_limit_counts_utf8_bytes(instance):
    """900 characters of 2 bytes each are 1,800 bytes of UTF-8 (over 1,000) but 5,400
    characters of escaped JSON; 300 of them are 600 bytes (stored as sent)."""
    with serve(instance, ApiConfig(max_event_bytes=1000, max_batch_bytes=50_000)) as api:
        over = {"name": "accents", "payload": {"text": "é" * 900}}
        assert error_of(api.post("/api/v1/events", json=over), 413)["type"] == "PayloadTooLarge"
        under = {"name": "accents", "id": "a1", "payload": {"text": "é" * 300, "a": 1}}
        assert api.post("/api/v1/events", json=under).status_code == 202
        stored_event = api.get("/api/v1/events/a1").json()
    assert stored_event["payload"] == {"a": 1, "text": "é" * 300}
    assert count(instance, "events") == 1


def test_the_same_id_from_two_sources_is_two_events_that_each_fire(instance, api):
    api.post("/api/v1/registrations", json=registration(MODULE, activate=True))
    a = cloud_event("sensor.reading", {"reading": 1}, id="r-7", source="/plant/a")
    b = cloud_event("sensor.reading", {"reading": 2}, id="r-7", source="/plant/b")
    r = api.post("/api/v1/events", **batch([a, b]))
    assert r.json() == {"accepted": 2, "ids": ["r-7", "r-7"], "duplicates": []}
    r = api.post("/api/v1/events", **structured(a))  # a redelivery of the same pair
    assert r.json() == {"accepted": 1, "ids": ["r-7"], "duplicates": ["r-7"]}
    assert count(instance, "events") == 2
    runs = react_and_run(instance)
    assert sorted(ex.inputs["value"] for ex in runs) == [1, 2]

    err = error_of(api.get("/api/v1/events/r-7"), 409)
    assert "'/plant/a'" in err["message"] and "'/plant/b'" in err["message"]
    assert "?source=" in err["message"]
    shown = api.get("/api/v1/events/r-7", params={"source": "/plant/b"}).json()
    assert shown["source"] == "/plant/b" and shown["payload"] == {"reading": 2}
    [decision] = shown["decisions"]
    assert decision["outcome"] == "fired"
    assert headwater.get_execution(decision["execution_id"]).inputs["value"] == 2
    error_of(api.get("/api/v1/events/r-7", params={"source": "/plant/c"}), 404)


def test_a_known_source_and_id_with_another_payload_is_409_and_stores_nothing(instance, api):
    first = {"name": "sensor.reading", "payload": {"reading": 1}, "id": "c-1", "source": "/s"}
    assert api.post("/api/v1/events", json=first).status_code == 202
    before = stored(instance)
    changed = {**first, "payload": {"reading": 2}}
    err = error_of(api.post("/api/v1/events", json=changed), 409)
    assert "'c-1' from source '/s' was stored before with another payload" in err["message"]
    new = {"name": "sensor.reading", "id": "c-2", "source": "/s"}
    err = error_of(api.post("/api/v1/events", json=[new, first, changed]), 409)
    assert err["index"] == 2 and err["message"].startswith("event 2: ")
    ce = cloud_event("other.name", {"reading": 1}, id="c-1", source="/s")
    assert "another name" in error_of(api.post("/api/v1/events", **structured(ce)), 409)["message"]
    assert stored(instance) == before
    assert api.post("/api/v1/events", json=first).json()["duplicates"] == ["c-1"]


def test_metrics_count_events_decisions_and_executions(instance, api):
    api.post("/api/v1/registrations", json=registration(MODULE, activate=True))
    api.post("/api/v1/events", **binary(cloud_event("sensor.reading", {"reading": 1})))
    react_and_run(instance)
    text = api.get("/metrics").text
    assert 'headwater_events_received_total{transport="binary"}' in text
    assert 'headwater_trigger_decisions_total{outcome="fired"} 1.0' in text
    assert "headwater_firings_total 1.0" in text
    assert 'headwater_executions{status="succeeded"} 1.0' in text
    assert "headwater_queue_depth 0.0" in text
    assert "headwater_reactor_backlog " in text  # the run's own events wait for the reactor
    assert 'headwater_firing_latency_seconds_bucket{launch_plan="on_sensor",le="+Inf"} 1.0' in text


def test_metrics_add_what_happened_since_the_previous_scrape(instance, api):
    api.post("/api/v1/registrations", json=registration(MODULE, activate=True))

    def scrape() -> str:
        return api.get("/metrics").text

    def stored() -> dict[str, int]:
        with instance.db.read() as tx:
            rows = tx.all("SELECT outcome, COUNT(*) AS n FROM trigger_decisions GROUP BY outcome")
        return {r["outcome"]: int(r["n"]) for r in rows}

    assert "headwater_firings_total 0.0" in scrape()
    for round_, readings in enumerate(([1], [2, 3, 4]), start=1):
        for reading in readings:
            api.post(
                "/api/v1/events", json={"name": "sensor.reading", "payload": {"reading": reading}}
            )
        react_and_run(instance)
        text = scrape()
        fired = 1 if round_ == 1 else 4
        assert f"headwater_firings_total {fired}.0" in text
        latency = 'headwater_firing_latency_seconds_bucket{launch_plan="on_sensor",le="+Inf"}'
        assert f"{latency} {fired}.0" in text
        for outcome, n in stored().items():  # the same as counting the whole table
            assert f'headwater_trigger_decisions_total{{outcome="{outcome}"}} {n}.0' in text


def test_firing_latency_is_by_launch_plan_without_replays(instance, api):
    from prometheus_client import CollectorRegistry, generate_latest

    from headwater.api.metrics import EngineCollector

    api.post("/api/v1/registrations", json=registration(MODULE, activate=True))
    api.post("/api/v1/registrations", json=registration("tests.api.extra_flows"))
    old = "2026-01-01T00:00:00Z"  # hours before: a replay's latency would land in +Inf only
    api.post("/api/v1/events", json={"name": "sensor.replayed", "time": old, "payload": {}})
    api.post("/api/v1/events", json={"name": "sensor.reading", "payload": {"reading": 1}})
    react_and_run(instance)
    assert api.post("/api/v1/launch-plans/on_replayed/activate").status_code == 200
    [fired] = api.post(REPLAY, json={"launch_plan": "on_replayed", "since": "2000-01-01"}).json()
    assert fired["outcome"] == "fired" and fired["reason"].endswith("(replay)")
    api.post("/api/v1/events", json={"name": "sensor.replayed", "payload": {"reading": 2}})
    react_and_run(instance)

    text = api.get("/metrics").text
    assert "headwater_firings_total 3.0" in text  # the replay fired, and is counted there
    for name in ("on_sensor", "on_replayed"):  # but not in the latency
        assert f'_count{{launch_plan="{name}"}} 1.0' in text
        assert f'_bucket{{launch_plan="{name}",le="300.0"}} 1.0' in text

    capped = CollectorRegistry(auto_describe=False)
    capped.register(EngineCollector(instance, max_launch_plans=1))
    text = generate_latest(capped).decode()
    assert 'headwater_firing_latency_seconds_count{launch_plan="on_replayed"} 1.0' in text
    assert 'headwater_firing_latency_seconds_count{launch_plan="other"} 1.0' in text
    assert 'launch_plan="on_sensor"' not in text


REPLAY = "/api/v1/events/replay"


def test_replay_fires_past_events_once_and_records_already_fired(instance, api):
    r = api.post("/api/v1/registrations", json=registration("tests.api.extra_flows"))
    assert r.status_code == 201, r.text
    r = api.post("/api/v1/events", json={"name": "sensor.replayed", "payload": {"reading": 3}})
    event_id = r.json()["ids"][0]
    Reactor(instance).run_once()  # decided while the launch plan is inactive: not fired
    [early] = api.get(f"/api/v1/events/{event_id}").json()["decisions"]
    assert early["outcome"] == "not_fired" and "inactive" in early["reason"]
    assert api.post("/api/v1/launch-plans/on_replayed/activate").status_code == 200

    body = {"launch_plan": "on_replayed", "since": "2000-01-01"}
    r = api.post(REPLAY, json=body)
    assert r.status_code == 200, r.text
    [fired] = r.json()
    assert set(fired) == {
        "event_id",
        "launch_plan",
        "launch_plan_version",
        "trigger",
        "outcome",
        "reason",
        "execution_id",
    }
    assert (fired["event_id"], fired["launch_plan"], fired["outcome"]) == (
        event_id,
        "on_replayed",
        "fired",
    )
    ex = headwater.get_execution(fired["execution_id"])
    assert ex.status == "queued" and ex.inputs["value"] == 3

    [again] = api.post(REPLAY, json=body).json()
    assert again["outcome"] == "not_fired" and "already fired" in again["reason"]
    assert again["execution_id"] is None
    outcomes = [d["outcome"] for d in api.get(f"/api/v1/events/{event_id}").json()["decisions"]]
    assert outcomes == ["not_fired", "fired", "not_fired"]
    assert len(headwater.list_executions(launch_plan="on_replayed")) == 1
    before_it = {"launch_plan": "on_replayed", "since": "2000-01-01", "until": "2000-01-02"}
    assert api.post(REPLAY, json=before_it).json() == []


def test_replay_refusals_name_the_problem_and_store_nothing(instance, api):
    api.post("/api/v1/registrations", json=registration("tests.api.extra_flows"))
    api.post("/api/v1/events", json={"name": "sensor.replayed", "payload": {"reading": 1}})
    Reactor(instance).run_once()
    before = stored(instance)
    since = "2000-01-01T00:00:00Z"
    err = error_of(api.post(REPLAY, json={"launch_plan": "ghost", "since": since}), 404)
    assert err["type"] == "NotFoundError" and "'ghost'" in err["message"]
    err = error_of(api.post(REPLAY, json={"launch_plan": "on_replayed", "since": since}), 404)
    assert "activate it first" in err["message"]  # registered, but not active
    assert (
        "since" in error_of(api.post(REPLAY, json={"launch_plan": "on_replayed"}), 400)["message"]
    )
    error_of(api.post(REPLAY, json={"launch_plan": "on_replayed", "since": "yesterday"}), 400)
    error_of(api.post(REPLAY, json={"launch_plan": "x", "since": since, "extra": 1}), 400)
    assert stored(instance) == before


# -- bad input that used to be accepted and then broke reads --------------------------------
# Lone surrogates reach the server as \udxxx escapes (json.dumps' default ensure_ascii
# output); NUL as \u0000 in JSON or %00 in a header. Both are refused on every backend
# (PostgreSQL text cannot hold NUL), and so are times no UTC datetime can hold.
def _plain(body: dict) -> dict:
    return {"headers": {"content-type": "application/json"}, "content": dumps(body)}


OUT_OF_RANGE_TIMES = [
    1e300,
    -1e18,
    10**400,
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+14:00",
]


def test_event_times_no_utc_datetime_holds_are_refused_in_every_form(instance, api):
    before = stored(instance)
    for when in OUT_OF_RANGE_TIMES:
        err = error_of(api.post("/api/v1/events", **_plain({"name": "a.b", "time": when})), 400)
        assert err["message"].startswith("time ") and "out of range" in err["message"], err
    for when in OUT_OF_RANGE_TIMES[3:]:
        ce = cloud_event("a.b", {}, time=datetime(2026, 1, 1, tzinfo=UTC))
        msg = structured(ce)
        body = json.loads(msg["content"])
        body["time"] = when
        err = error_of(api.post("/api/v1/events", headers=msg["headers"], content=dumps(body)), 400)
        assert "time" in err["message"] and "out of range" in err["message"]
        msg = binary(ce)
        headers = {**msg["headers"], "ce-time": when}
        err = error_of(api.post("/api/v1/events", headers=headers, content=msg["content"]), 400)
        assert "time" in err["message"] and "out of range" in err["message"]
        good = json.loads(structured(cloud_event("a.b", {}))["content"])
        items = [good, {**good, "id": "second", "time": when}]
        r = api.post(
            "/api/v1/events",
            headers={"content-type": "application/cloudevents-batch+json"},
            content=dumps(items),
        )
        assert error_of(r, 400)["index"] == 1
    assert stored(instance) == before
    assert api.get("/api/v1/events").status_code == 200


BAD_TEXT = [("\x00", "NUL"), ("\ud800", "lone surrogate"), ("x\udfff", "lone surrogate")]


def test_unstorable_text_in_plain_and_structured_events_is_refused(instance, api):
    before = stored(instance)
    for bad, problem in BAD_TEXT:
        for body, field in [
            ({"name": "a.b", "id": bad}, "id"),
            ({"name": "a.b", "source": bad}, "source"),
            ({"name": "a.b", "subject": bad}, "subject"),
            ({"name": "a.b", "payload": {"k": [bad]}}, "payload.k[0]"),
            ({"name": "a.b", "payload": {bad: 1}}, "payload key"),
            ({"name": "a.b", "attributes": {"ext": bad}}, "attributes.ext"),
            ({"name": "a.b", "time": bad}, "time"),
        ]:
            err = error_of(api.post("/api/v1/events", **_plain(body)), 400)
            assert err["message"].startswith(field) and problem in err["message"], (body, err)
        ce = json.loads(structured(cloud_event("a.b", {"k": 1}))["content"])
        for key in ("id", "source", "subject"):
            r = api.post(
                "/api/v1/events",
                headers={"content-type": "application/cloudevents+json"},
                content=dumps({**ce, key: bad}),
            )
            assert problem in error_of(r, 400)["message"]
        r = api.post(
            "/api/v1/events",
            headers={"content-type": "application/cloudevents+json"},
            content=dumps({**ce, "myext": bad, "data": {"k": bad}}),
        )
        assert problem in error_of(r, 400)["message"]
    assert stored(instance) == before
    assert api.get("/api/v1/events").status_code == 200
    assert api.get("/api/v1/executions").status_code == 200


def test_nul_in_binary_mode_headers_is_refused(instance, api):
    before = stored(instance)
    msg = binary(cloud_event("a.b", {"k": 1}))
    for header in ("ce-id", "ce-source", "ce-subject", "ce-myext"):
        headers = {**msg["headers"], header: "a%00b"}
        err = error_of(api.post("/api/v1/events", headers=headers, content=msg["content"]), 400)
        assert "NUL" in err["message"], err
    headers = {**msg["headers"]}
    r = api.post("/api/v1/events", headers=headers, content=dumps({"k": "\ud800"}))
    assert "payload.k" in error_of(r, 400)["message"]
    assert stored(instance) == before


def test_nul_in_an_event_path_or_query_parameter_is_a_400(instance, api):
    for url in ("/api/v1/events/a%00b", "/api/v1/events?name=a%00"):
        err = error_of(api.get(url), 400)
        assert "NUL" in err["message"] and "parameter" in err["message"]


def test_events_stored_before_the_checks_still_list_and_show(instance, api):
    with instance.db.transaction() as tx:
        for event_id, when, payload in [
            ("far", 1e300, "{}"),
            ("before", -1e18, "{}"),
            ("lone", 1.0, '{"k": "\\ud800"}'),
        ]:
            tx.execute(
                "INSERT INTO events (id, name, source, project, domain, time, payload, "
                "attributes) VALUES (:id, 'old.event', 'headwater://old', 'default', "
                "'development', :t, :p, '{}')",
                {"id": event_id, "t": when, "p": payload},
            )
    r = api.get("/api/v1/events")
    assert r.status_code == 200, r.text
    times = {e["id"]: e["time"] for e in r.json()}
    assert times == {"far": None, "before": None, "lone": "1970-01-01T00:00:01+00:00"}
    shown = api.get("/api/v1/events/lone")
    assert shown.status_code == 200 and shown.json()["payload"] == {"k": "\\ud800"}
    assert api.get("/api/v1/events/far").json()["time"] is None
