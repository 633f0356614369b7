"""Text and times no backend can store are refused at every HTTP entrance with a 400 naming
the field (the same on SQLite and PostgreSQL), and rows stored before these checks still
render. Events have their own cases in test_events.py."""

from __future__ import annotations

import json
from datetime import datetime

import headwater

from ..engine import pipelines as p
from .conftest import dumps, error_of, stored


def _post_json(api, url: str, body: object):
    # json.dumps escapes a lone surrogate as \udxxx: what an attacker sends
    return api.post(url, headers={"content-type": "application/json"}, content=dumps(body))


def test_nul_in_path_and_query_parameters_is_a_400_naming_the_parameter(instance, api):
    for url, name in [
        ("/api/v1/executions/a%00b", "execution_id"),
        ("/api/v1/executions/a%00b/produced", "execution_id"),
        ("/api/v1/executions?workflow=%00", "workflow"),
        ("/api/v1/artifacts/get?uri=hw://default/development/x%3Fk%3Da%00", "uri"),
        ("/api/v1/artifacts?name=a%00", "name"),
        ("/api/v1/artifacts?project=a%00", "project"),
        ("/api/v1/blobs/a%00b", "key"),
    ]:
        err = error_of(api.get(url), 400)
        assert f"parameter {name!r} contains a NUL" in err["message"], (url, err)
    before = stored(instance)
    err = error_of(api.post("/api/v1/launch-plans/a%00/activate"), 400)
    assert "'name'" in err["message"]
    err = error_of(api.post("/api/v1/events?note=a%00", json={"name": "a.b"}), 400)
    assert "parameter 'note' contains a NUL" in err["message"], err
    assert stored(instance) == before


def test_artifact_bodies_with_unstorable_text_or_times_are_refused(instance, api):
    before = stored(instance)
    base = {"name": "daily", "value": 1, "partitions": {"region": "EU"}}
    for body, words in [
        ({**base, "time_partition": "0001-01-01T00:00:00+14:00"}, "time_partition"),
        ({**base, "time_partition": "9999-12-31T23:59:59-12:00"}, "time_partition"),
        ({**base, "partitions": {"region": "\ud800"}}, "body.partitions.region"),
        ({**base, "value": {"k": "a\udfffb"}}, "body.value.k"),
        ({**base, "value": "a\x00"}, "body.value"),
        ({**base, "cards": [{"kind": "data", "text": "\x00"}]}, "body.cards[0].text"),
        ({**base, "description": "\ud800"}, "body.description"),
    ]:
        err = error_of(_post_json(api, "/api/v1/artifacts", body), 400)
        assert err["message"].startswith(words), (body, err)
        assert "out of range" in err["message"] or "contains" in err["message"]
    assert stored(instance) == before
    assert api.get("/api/v1/artifacts").status_code == 200


def test_relaunch_inputs_with_unstorable_text_are_refused(instance, api):
    ex = headwater.run(p.daily_wf, region="EU", day=datetime(2026, 11, 1))
    before = stored(instance)
    url = f"/api/v1/executions/{ex.id}/relaunch"
    for body in (
        {"inputs": {"region": "\ud800"}},
        {"inputs": {"region": "a\x00"}},
        {"text_inputs": {"region": "\udcff"}},
    ):
        err = error_of(_post_json(api, url, body), 400)
        assert "region" in err["message"] and "contains" in err["message"], err
    assert stored(instance) == before


def test_executions_and_artifacts_stored_with_lone_surrogates_still_list(instance, api):
    ex = headwater.run(p.daily_wf, region="EU", day=datetime(2026, 11, 1))
    lone = {"format": "json", "type": "builtins.str", "value": "\ud800", "preview": "'\ud800'"}
    with instance.db.transaction() as tx:  # as an older version could have stored them
        tx.execute(
            "UPDATE executions SET inputs = :i, trigger = :t WHERE id = :id",
            {"i": json.dumps({"region": lone}), "t": json.dumps({"k": "\udc80"}), "id": ex.id},
        )
        tx.execute("UPDATE artifact_versions SET value = :v", {"v": json.dumps(lone)})
    r = api.get("/api/v1/executions")
    assert r.status_code == 200, r.text
    [row] = r.json()
    assert row["inputs"]["region"]["value"] == "\\ud800" and row["trigger"] == {"k": "\\udc80"}
    r = api.get(f"/api/v1/executions/{ex.id}", params={"nodes": True})
    assert r.status_code == 200, r.text
    r = api.get("/api/v1/artifacts")
    assert r.status_code == 200 and r.json()[0]["value"]["preview"] == "'\\ud800'"


def test_offsets_and_sequence_numbers_past_any_table_are_refused_not_a_500(instance, api):
    huge = 2**63  # overflows a 64-bit integer in SQLite and PostgreSQL
    for url in [
        f"/api/v1/artifacts?offset={huge}",
        f"/api/v1/executions?offset={huge}",
        f"/api/v1/events?before={huge}",
    ]:
        response = api.get(url)
        assert response.status_code in (400, 422), (url, response.status_code, response.text)
        assert "offset" in response.text or "before" in response.text, response.text
    assert api.get("/api/v1/artifacts?offset=5").status_code == 200
