"""Fuzzing: random bodies, headers and content types at the event endpoint, extreme times,
lone surrogates and NUL at every entrance, rows stored before the checks, and schemathesis
cases from the app's own OpenAPI schema at every route. Never a 5xx; a refused request
stores nothing; the lists always answer."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater.api import ApiConfig, create_app

from .conftest import count, serve

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
names = st.sampled_from(["ok.event", "a", "headwater.x", "bad name", "", "x" * 200]) | st.text(
    max_size=12
)
plain_events = st.fixed_dictionaries(
    {"name": names},
    optional={
        "payload": json_values,
        "id": st.text(max_size=8) | st.integers(),
        "source": st.text(max_size=8) | st.none(),
        "time": st.text(max_size=25) | st.floats() | st.integers(),
        "project": st.text(max_size=8),
        "extra": json_values,
    },
)
cloud_events = st.fixed_dictionaries(
    {},
    optional={
        "specversion": st.sampled_from(["1.0", "0.3", "", 1]),
        "id": st.text(max_size=8) | st.integers(),
        "source": st.text(max_size=8),
        "type": names,
        "time": st.sampled_from(["2026-11-01T00:00:00Z", "now", "2026-13-40"]),
        "subject": st.text(max_size=5) | st.integers(),
        "data": json_values,
        "data_base64": st.text(max_size=8),
        "datacontenttype": st.sampled_from(["application/json", "text/plain", "x"]),
        "ext": json_values,
    },
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/cloudevents+json",
        "application/cloudevents-batch+json",
        "text/plain",
        "application/json; charset=utf-8",
        "",
    ]
)
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    plain_events.map(lambda v: json.dumps(v).encode()),
    st.lists(plain_events, max_size=4).map(lambda v: json.dumps(v).encode()),
    cloud_events.map(lambda v: json.dumps(v).encode()),
    st.lists(cloud_events, max_size=4).map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
    st.integers(2_000, 5_000).map(
        lambda n: json.dumps({"name": "big", "payload": {"x": "y" * n}}).encode()
    ),
)
ce_headers = st.dictionaries(
    st.sampled_from(["ce-specversion", "ce-id", "ce-source", "ce-type", "ce-time", "ce-x"]),
    st.sampled_from(
        ["1.0", "0.3", "id-1", "/s", "ok.event", "bad name", "2026-11-01T00:00:00Z", "%zz"]
    ),
    max_size=6,
)


def test_random_event_requests_never_5xx_and_refusals_store_nothing(instance):
    ran = {"cases": 0, "accepted": 0}
    with serve(instance, ApiConfig(max_event_bytes=2_000, max_batch_bytes=8_000)) as api:

        @FUZZ
        @given(body=bodies, content_type=content_types, extra=ce_headers)
        def run(body: bytes, content_type: str, extra: dict[str, str]) -> None:
            before = count(instance, "events")
            headers = {"content-type": content_type, **extra} if content_type else dict(extra)
            r = api.post("/api/v1/events", headers=headers, content=body)
            ran["cases"] += 1
            assert r.status_code < 500, r.text
            if r.status_code == 202:
                ran["accepted"] += 1
                new = len(r.json()["ids"]) - len(r.json()["duplicates"])
                assert count(instance, "events") == before + new
            else:
                assert set(r.json()) == {"error"}, r.text
                assert count(instance, "events") == before, r.text

        run()
    print(f"event fuzz: {ran['cases']} cases, {ran['accepted']} accepted")
    assert ran["cases"] >= 100 and ran["accepted"] > 0


# -- extreme times, lone surrogates and NUL at every entrance --------------------------------
# A lone surrogate travels as a \udxxx escape: json.dumps' default (ensure_ascii) output.
FEW = settings(FUZZ, max_examples=120)
LISTS = ("/api/v1/events", "/api/v1/executions", "/api/v1/artifacts")

bad_text = st.text(
    st.sampled_from(["\x00", "\ud800", "\udbff", "\udc80", "\udfff", "a", "é", "\U0001f600"]),
    min_size=1,
    max_size=4,
) | st.text(st.characters(categories=["Cs", "Cc"]), min_size=1, max_size=3)
texts = bad_text | st.text(max_size=6)
offsets = st.integers(-24 * 60 + 1, 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
edge_datetimes = (
    st.sampled_from(
        [
            datetime(1, 1, 1),
            datetime(1, 1, 2),
            datetime(9999, 12, 31, 23, 59, 59),
            datetime(9999, 12, 30),
        ]
    )
    | st.datetimes()
)
iso_times = st.builds(lambda d, tz: d.replace(tzinfo=tz).isoformat(), edge_datetimes, offsets)
number_times = (
    st.floats()
    | st.sampled_from(
        [1e300, -1e18, -62135596800.0, -62135596801.0, 253402300799.0, 253402300800.0]
    )
    | st.integers(-(10**20), 10**20)
    | st.just(10**400)
)
extreme_times = iso_times | number_times
payloads = st.recursive(
    st.none() | st.integers() | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)


def _json(value: Any) -> dict[str, Any]:
    return {"headers": {"content-type": "application/json"}, "content": json.dumps(value)}


plain_bad = st.fixed_dictionaries(
    {"name": st.just("fuzz.event")},
    optional={
        "id": texts,
        "source": texts,
        "subject": texts,
        "time": extreme_times,
        "payload": st.dictionaries(texts, payloads, max_size=3),
        "attributes": st.dictionaries(texts, payloads, max_size=2),
    },
)
ce_bad = st.fixed_dictionaries(
    {
        "specversion": st.just("1.0"),
        "type": st.just("fuzz.event"),
        "id": texts.filter(bool),
        "source": texts.filter(bool),
    },
    optional={
        "subject": texts,
        "time": iso_times | texts,
        "data": st.dictionaries(texts, payloads, max_size=3),
        "fuzzext": texts,
    },
)
percent = texts.map(lambda t: quote(t.encode("utf-8", "surrogatepass"), safe=""))
binary_bad = st.fixed_dictionaries(
    {
        "ce-specversion": st.just("1.0"),
        "ce-type": st.just("fuzz.event"),
        "ce-id": percent.filter(bool),
        "ce-source": percent.filter(bool),
    },
    optional={"ce-subject": percent, "ce-time": iso_times, "ce-fuzzext": percent},
)
artifact_bad = st.fixed_dictionaries(
    {"name": st.just("fuzzed")},
    optional={
        "value": payloads,
        "partitions": st.dictionaries(st.just("k"), texts.filter(bool), max_size=1),
        "time_partition": iso_times | texts,
        "cards": st.lists(
            st.fixed_dictionaries({"kind": st.just("data"), "text": texts}), max_size=1
        ),
    },
)
requests = st.one_of(
    plain_bad.map(lambda b: ("POST", "/api/v1/events", _json(b))),
    st.lists(plain_bad, min_size=1, max_size=3).map(
        lambda b: ("POST", "/api/v1/events", _json({"events": b}))
    ),
    ce_bad.map(
        lambda b: (
            "POST",
            "/api/v1/events",
            {"headers": {"content-type": CE_STRUCTURED}, "content": json.dumps(b)},
        )
    ),
    st.lists(ce_bad, min_size=1, max_size=3).map(
        lambda b: (
            "POST",
            "/api/v1/events",
            {"headers": {"content-type": CE_BATCH}, "content": json.dumps(b)},
        )
    ),
    st.tuples(binary_bad, st.dictionaries(texts, payloads, max_size=2)).map(
        lambda hb: (
            "POST",
            "/api/v1/events",
            {
                "headers": {"content-type": "application/json", **hb[0]},
                "content": json.dumps(hb[1]),
            },
        )
    ),
    artifact_bad.map(lambda b: ("POST", "/api/v1/artifacts", _json(b))),
    percent.map(lambda t: ("GET", f"/api/v1/events/{t or 'x'}", {})),
    percent.map(lambda t: ("GET", f"/api/v1/executions/{t or 'x'}", {})),
    st.tuples(percent, iso_times.map(lambda t: quote(t, safe=""))).map(
        lambda pt: (
            "GET",
            f"/api/v1/artifacts/get?uri=hw://default/development/fuzzed%3Fk%3D{pt[0]}"
            f"%26time_partition%3D{pt[1]}",
            {},
        )
    ),
    iso_times.map(lambda t: ("GET", "/api/v1/events?since=" + quote(t, safe=""), {})),
)
CE_STRUCTURED, CE_BATCH = "application/cloudevents+json", "application/cloudevents-batch+json"


def test_extreme_times_surrogates_and_nul_never_5xx_and_never_break_the_lists(instance):
    ran = {"cases": 0, "accepted": 0}
    with serve(instance, ApiConfig()) as api:

        @FEW
        @given(request=requests)
        def run(request: tuple[str, str, dict[str, Any]]) -> None:
            method, url, kwargs = request
            before = count(instance, "events") + count(instance, "artifact_versions")
            r = api.request(method, url, **kwargs)
            ran["cases"] += 1
            assert r.status_code < 500, (request, r.text)
            if method == "POST" and r.status_code >= 400:
                after = count(instance, "events") + count(instance, "artifact_versions")
                assert after == before, (request, r.text)
            elif method == "POST":
                ran["accepted"] += 1
            for path in LISTS:
                listed = api.get(path, params={"limit": 10_000})
                assert listed.status_code == 200, (request, path, listed.text)

        run()
    print(f"extreme fuzz: {ran['cases']} cases, {ran['accepted']} accepted")
    assert ran["cases"] >= 100 and ran["accepted"] > 0


def test_rows_stored_before_the_checks_never_break_reads(instance):
    """Rows an older version could write (any float time, JSON text holding lone surrogate
    escapes): listed and shown with 200, and every response is valid UTF-8 JSON."""
    seq = {"n": 0}
    with serve(instance, ApiConfig()) as api:

        @settings(FUZZ, max_examples=60)
        @given(
            when=number_times.filter(lambda t: t == t),
            payload=st.dictionaries(texts, payloads, max_size=3),
        )
        def run(when: float, payload: dict[str, Any]) -> None:
            seq["n"] += 1
            event_id = f"old-{seq['n']}"
            with instance.db.transaction() as tx:
                tx.execute(
                    "INSERT INTO events (id, name, source, project, domain, time, payload, "
                    "attributes) VALUES (:id, 'old.event', 'headwater://old', 'default', "
                    "'development', :t, :p, :p)",
                    {
                        "id": event_id,
                        "t": when
                        if isinstance(when, float)
                        else float(max(-(10**308), min(when, 10**308))),
                        "p": json.dumps(payload),
                    },
                )
            for path in (*LISTS, f"/api/v1/events/{event_id}"):
                r = api.get(path, params={"limit": 10_000} if path in LISTS else None)
                assert r.status_code == 200, (when, payload, path, r.text)
                json.loads(r.content.decode("utf-8"))

        run()
    assert seq["n"] >= 50


def _httpx_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    out = {k: kwargs[k] for k in ("method", "headers", "params") if kwargs.get(k) is not None}
    out["url"] = kwargs["url"]
    if "json" in kwargs:
        out["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        out["content"] = data if isinstance(data, bytes | str) else json.dumps(data)
    return out


def fuzz_operation(api: Any, op: Any, ran: dict[str, int]) -> None:
    @settings(
        max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(case=op.as_strategy())
    def run(case: Any) -> None:
        kwargs = _httpx_kwargs(case.as_transport_kwargs(base_url="http://headwater.test"))
        r = api.request(**kwargs)
        ran[op.label] = ran.get(op.label, 0) + 1
        assert r.status_code < 500, (op.label, kwargs, r.text)

    run()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_schemathesis_cases_from_the_openapi_schema_never_5xx(instance):
    app = create_app(instance, config=ApiConfig())
    schema = schemathesis.openapi.from_dict(app.openapi())
    operations = [r.ok() for r in schema.get_all_operations()]
    ran: dict[str, int] = {}
    with serve(instance, ApiConfig()) as api:
        for op in operations:
            fuzz_operation(api, op, ran)
    total = sum(ran.values())
    print(f"schemathesis: {total} cases over {len(ran)} operations")
    assert len(ran) == len(operations) >= 14 and total >= 200
