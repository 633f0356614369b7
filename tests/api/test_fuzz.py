"""Fuzzing: random bodies, headers and content types at the event endpoint, and schemathesis
cases from the app's own OpenAPI schema at every route. Never a 5xx; a refused request
stores nothing."""

from __future__ import annotations

import json
from typing import Any

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
