"""Bad input gets a clear error naming the thing and the fix, and stores nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

import headwater
from headwater import Artifact, Inputs, PartitionError, task
from headwater.engine.react import events as events_api

from . import pipelines as p
from .conftest import stored


@pytest.fixture
def seeded(instance):
    headwater.run(p.daily_wf, region="EU", day=datetime(2026, 11, 1))
    return instance


def test_wrong_type_names_input_expected_and_actual(seeded):
    before = stored(seeded)
    with pytest.raises(headwater.TypeMismatchError) as err:
        headwater.run(p.add_wf, a="three")
    msg = str(err.value)
    assert "'a'" in msg and "int" in msg and "str" in msg
    assert stored(seeded) == before


def test_missing_required_input(seeded):
    before = stored(seeded)
    with pytest.raises(headwater.MissingInputError, match=r"needs input a \(int\)"):
        headwater.run(p.add_wf)
    assert stored(seeded) == before


def test_unknown_input_name(seeded):
    before = stored(seeded)
    with pytest.raises(headwater.UserInputError, match="has no input 'c'"):
        headwater.run(p.add_wf, a=1, c=2)
    assert stored(seeded) == before


def test_unknown_artifact_and_version(seeded):
    with pytest.raises(headwater.NotFoundError, match="no artifact 'nope'"):
        headwater.get_artifact("hw://default/development/nope?region=EU")
    with pytest.raises(headwater.NotFoundError, match="daily@99"):
        headwater.get_artifact("hw://default/development/daily@99")
    with pytest.raises(headwater.NotFoundError, match="no execution"):
        headwater.get_execution("nope")


def test_undeclared_partition_key(seeded):
    with pytest.raises(PartitionError, match=r"no partition key 'country'.*declared: region"):
        p.Daily.query(country="FR")
    with pytest.raises(PartitionError, match="no partition key 'country'"):
        headwater.get_artifact("hw://default/development/daily?country=FR")
    with pytest.raises(PartitionError, match="no partition key 'country'"):

        @task
        def t(country: str) -> p.Annotated[int, p.Daily(country=Inputs.country)]:
            return 1


@pytest.mark.parametrize("name", ["../x", "a/b", "", "has space", "..", "x" * 200, "é"])
def test_illegal_artifact_names(name):
    with pytest.raises(headwater.UserInputError, match="artifact name"):
        Artifact(name=name)


@pytest.mark.parametrize(
    "uri",
    [
        "hw://a/b",
        "http://a/b/c@1",
        "hw://a/b/c@",
        "hw://a/../c@1",
        "hw://a/b/c@1?x=1",
        "hw://a/b/c?&&=",
    ],
)
def test_malformed_uris(seeded, uri):
    with pytest.raises(headwater.UserInputError):
        headwater.get_artifact(uri)


def test_create_artifact_missing_partition(seeded):
    before = stored(seeded)
    with pytest.raises(PartitionError, match=r"no value for partition 'region': pass it"):
        headwater.create_artifact(p.Daily, [1], time_partition=datetime(2026, 1, 1))
    with pytest.raises(PartitionError, match="no time partition"):
        headwater.create_artifact(p.Daily, [1], region="EU")
    assert stored(seeded) == before


def test_run_rejects_non_entities(seeded):
    with pytest.raises(headwater.UserInputError, match="takes a @workflow or @task"):
        headwater.run(print)


# -- text and times no backend can store (NUL, lone surrogates, years outside 1-9999 UTC) --
# PostgreSQL text cannot hold NUL and no backend can write a lone surrogate as UTF-8, so
# both are refused on every backend alike, naming the field; refused input stores nothing.
NUL, SURROGATE = "a\x00b", "a\ud800b"
PLUS14 = timezone(timedelta(hours=14))
MINUS12 = timezone(timedelta(hours=-12))


@pytest.mark.parametrize(
    ("kwargs", "field", "problem"),
    [
        ({"id": NUL}, "id", "NUL"),
        ({"id": SURROGATE}, "id", "lone surrogate"),
        ({"source": NUL}, "source", "NUL"),
        ({"payload": {"k": SURROGATE}}, "payload.k", "lone surrogate"),
        ({"payload": {"k": [1, {"deep": NUL}]}}, "payload.k[1].deep", "NUL"),
        ({"payload": {NUL: 1}}, "payload key", "NUL"),
    ],
)
def test_emit_event_refuses_text_no_backend_can_store(instance, kwargs, field, problem):
    before = stored(instance)
    kwargs = dict(kwargs)
    payload = kwargs.pop("payload", {})
    with pytest.raises(headwater.UserInputError) as err:
        headwater.emit_event("data.updated", payload, **kwargs)
    assert str(err.value).startswith(field) and problem in str(err.value)
    assert stored(instance) == before


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"subject": NUL}, "subject"), ({"attributes": {"ext": SURROGATE}}, "attributes.ext")],
)
def test_engine_emit_checks_subject_and_attributes(instance, kwargs, field):
    before = stored(instance)
    with pytest.raises(headwater.UserInputError, match=rf"^{field} contains"):
        events_api.emit(instance, "data.updated", {}, **kwargs)
    assert stored(instance) == before


@pytest.mark.parametrize(
    "when",
    [
        1e300,
        -1e18,
        pytest.param(10**400, id="10**400"),
        float("nan"),
        float("inf"),
        253402300800.0,  # one second after 9999-12-31T23:59:59Z
        datetime(1, 1, 1, tzinfo=PLUS14),  # year 0 in UTC
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=MINUS12),  # year 10000 in UTC
    ],
)
def test_event_times_outside_what_utc_datetimes_hold_are_refused(instance, when):
    before = stored(instance)
    with pytest.raises(headwater.UserInputError, match=r"^time .*(out of range|finite)"):
        events_api.emit(instance, "data.updated", {}, time_=when)
    assert stored(instance) == before


def test_event_times_at_the_edges_of_the_range_are_kept(instance):
    first = events_api.emit(instance, "data.updated", {}, time_=-62135596800.0)
    last = events_api.emit(instance, "data.updated", {}, time_=253402300799.0)
    assert headwater.get_event(first).timestamp == datetime(1, 1, 1, tzinfo=UTC)
    assert headwater.get_event(last).timestamp == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    "when",
    [
        "0001-01-01T00:00:00+14:00",
        datetime(1, 1, 1, tzinfo=PLUS14),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=MINUS12),
    ],
)
def test_time_partitions_utc_cannot_hold_are_refused(seeded, when):
    before = stored(seeded)
    with pytest.raises(headwater.UserInputError, match=r"^time_partition .* out of range"):
        headwater.create_artifact(p.Daily, [1], time_partition=when, region="EU")
    with pytest.raises(headwater.UserInputError, match="out of range"):
        headwater.get_artifact(p.Daily.query(region="EU", time_partition=when))
    assert stored(seeded) == before


def test_artifact_partitions_cards_and_values_refuse_unstorable_text(seeded):
    before = stored(seeded)
    day = datetime(2026, 11, 2)
    with pytest.raises(headwater.UserInputError, match=r"partition 'region' value.*surrogate"):
        headwater.create_artifact(p.Daily, [1], time_partition=day, region=SURROGATE)
    with pytest.raises(headwater.UserInputError, match="data card's text contains a NUL"):
        headwater.create_artifact(
            p.Daily, [1], time_partition=day, cards=[headwater.DataCard(NUL)], region="EU"
        )
    with pytest.raises(headwater.UserInputError, match=r"artifact 'plain' value.*surrogate"):
        headwater.create_artifact(p.Plain, {"text": SURROGATE})
    with pytest.raises(headwater.UserInputError, match="partition 'region' value"):
        headwater.get_artifact("hw://default/development/daily?region=a%00")
    assert stored(seeded) == before


def test_run_inputs_with_unstorable_text_are_refused(seeded):
    before = stored(seeded)
    with pytest.raises(headwater.UserInputError, match=r"input 'region'.* lone surrogate"):
        headwater.run(p.daily_wf, region=SURROGATE, day=datetime(2026, 11, 2))
    with pytest.raises(headwater.UserInputError, match=r"input 'region'.* NUL"):
        headwater.run(p.daily_wf, region=NUL, day=datetime(2026, 11, 2))
    assert stored(seeded) == before


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
def test_lookups_with_unstorable_text_are_refused_not_crashed(seeded, bad):
    with pytest.raises(headwater.UserInputError, match=r"^execution id contains"):
        headwater.get_execution(bad)
    with pytest.raises(headwater.UserInputError, match=r"^event id contains"):
        headwater.get_event(bad)
    with pytest.raises(headwater.UserInputError, match=r"^name contains"):
        headwater.list_events(name=bad)
    with pytest.raises(headwater.UserInputError, match=r"^workflow contains"):
        headwater.list_executions(workflow=bad)
    with pytest.raises(headwater.UserInputError, match=r"^project contains"):
        headwater.search_artifacts(project=bad)


# -- rows stored before these checks (by an older version) must still be read ---------------
def _old_event(inst, event_id: str, when: float, payload_json: str) -> None:
    """An events row as an older version could write it: any float time, JSON as given."""
    with inst.db.transaction() as tx:
        tx.execute(
            "INSERT INTO events (id, name, source, subject, project, domain, time, payload, "
            "attributes) VALUES (:id, 'old.event', 'headwater://old', NULL, 'default', "
            "'development', :t, :p, :a)",
            {"id": event_id, "t": when, "p": payload_json, "a": '{"ext": "\\udc80"}'},
        )


def test_events_stored_with_bad_times_or_strings_still_list(instance):
    _old_event(instance, "far", 1e300, "{}")
    _old_event(instance, "past", -1e18, "{}")
    _old_event(instance, "lone", 0.0, '{"k": "x\\ud800y", "\\udfff": 1}')
    found = {e.id: e for e in headwater.list_events()}
    assert set(found) == {"far", "past", "lone"}
    assert found["far"].timestamp is None and found["far"].to_dict()["time"] is None
    body = headwater.get_event("lone").to_dict()
    assert body["payload"] == {"k": "x\\ud800y", "\\udfff": 1}  # visible, encodable text
    assert body["attributes"] == {"ext": "\\udc80"}
    assert json.dumps(body, ensure_ascii=False).encode()  # renders as UTF-8


def test_executions_stored_with_lone_surrogates_still_render(seeded):
    [ex] = headwater.list_executions()
    bad = {
        "region": {
            "format": "json",
            "type": "builtins.str",
            "value": "\ud800",
            "preview": "'\ud800'",
        }
    }
    with seeded.db.transaction() as tx:
        tx.execute(
            "UPDATE executions SET inputs = :i, error = :e WHERE id = :id",
            {"i": json.dumps(bad), "e": json.dumps({"message": "\udcff"}), "id": ex.id},
        )
        tx.execute(
            "UPDATE node_executions SET inputs = :i WHERE execution_id = :id",
            {"i": json.dumps(bad), "id": ex.id},
        )
    [again] = headwater.list_executions()
    body = again.to_dict(nodes=True)
    assert body["inputs"]["region"]["value"] == "\\ud800"
    assert body["error"] == {"message": "\\udcff"}
    assert body["nodes"][0]["inputs"]["region"]["preview"] == "'\\ud800'"
    assert json.dumps(body, ensure_ascii=False).encode()
