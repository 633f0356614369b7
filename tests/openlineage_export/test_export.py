"""OpenLineage export: RunEvents recorded with each run, delivered over HTTP by the sender,
and the same events from `headwater lineage export`; every event valid against the spec."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import uuid

import pytest
from click.testing import CliRunner

import headwater
from headwater.cli import cli
from headwater.daemon.worker import Worker
from headwater.engine.execute import queue
from headwater.engine.react.reactor import Reactor
from headwater.errors import UserInputError
from headwater.instance import Instance
from headwater.integrations.openlineage import config
from headwater.integrations.openlineage.events import run_id
from headwater.integrations.openlineage.sender import Sender
from headwater.storage import openlineage_outbox

from . import chain
from .conftest import validate_event

MODULE = "tests.openlineage_export.chain"
NS = "hw://default/development"


def react_and_run(inst: Instance) -> list[headwater.Execution]:
    """Decide every pending event, then run every queued execution here."""
    reactor, worker, done = Reactor(inst), Worker(inst), []
    while reactor.run_once():
        pass
    while (row := queue.claim(inst, worker.name, 30)) is not None:
        worker.run_one(row)
        done.append(headwater.get_execution(row.id))
    return done


def run_chain(inst: Instance) -> tuple[headwater.Execution, headwater.Execution]:
    headwater.register(MODULE, activate=True)
    a = headwater.run(chain.make_sales, region="EU")
    [b] = react_and_run(inst)
    assert (a.status, b.status) == ("succeeded", "succeeded"), b.error
    return a, b


def backlog(inst: Instance) -> int:
    with inst.db.read() as tx:
        return openlineage_outbox.backlog(tx).count


def deliver(inst: Instance) -> int:
    """Send the whole outbox; how many events went out."""
    sender, total = Sender(inst), 0
    while True:
        sent, failed = sender.send_once()
        assert not failed
        total += sent
        if not sent:
            return total


def by_run(events: list[dict]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for e in events:
        found.setdefault(e["run"]["runId"], []).append(e["eventType"])
    return found


def test_a_triggered_chain_arrives_in_order_with_parent_facets(exporting, receiver):
    a, b = run_chain(exporting)
    assert backlog(exporting) == 4  # START and COMPLETE of each run, recorded with the run
    assert deliver(exporting) == 4
    assert backlog(exporting) == 0
    events = receiver.events
    for e in events:
        validate_event(e)
    assert by_run(events) == {
        run_id(a.id): ["START", "COMPLETE"],
        run_id(b.id): ["START", "COMPLETE"],
    }
    assert [e["run"]["runId"] for e in events][:2] == [run_id(a.id)] * 2  # A ended before B

    a_done = next(
        e for e in events if e["run"]["runId"] == run_id(a.id) and e["eventType"] == "COMPLETE"
    )
    assert a_done["job"] == {**a_done["job"], "namespace": NS, "name": f"{MODULE}.make_sales"}
    [sales] = a_done["outputs"]
    assert (sales["namespace"], sales["name"]) == (NS, "sales")
    facets = sales["facets"]
    assert facets["version"]["datasetVersion"] == f"{NS}/sales@1"
    assert facets["headwater_partitions"]["partitions"] == {"region": "EU"}
    assert facets["headwater_partitions"]["timePartition"].startswith("2026-12-01")
    assert [(f["name"], f["type"]) for f in facets["schema"]["fields"]][:2] == [
        ("item", facets["schema"]["fields"][0]["type"]),
        ("amount", "int64"),
    ]
    assert facets["documentation"]["description"] == "Daily sales"

    b_start = next(e for e in events if e["run"]["runId"] == run_id(b.id))
    parent = b_start["run"]["facets"]["parent"]
    assert parent["run"]["runId"] == run_id(a.id)
    assert (parent["job"]["namespace"], parent["job"]["name"]) == (NS, f"{MODULE}.make_sales")
    trigger = b_start["run"]["facets"]["headwater_trigger"]
    assert trigger["launchPlan"] == "on_sales" and trigger["kind"] == "artifact"
    assert trigger["events"][0]["name"] == "headwater.artifact.created"
    assert [i["facets"]["version"]["datasetVersion"] for i in b_start["inputs"]] == [
        f"{NS}/sales@1"
    ]
    assert b_start["run"]["facets"]["headwater_execution"]["executionId"] == b.id


def test_a_failing_workflow_ends_with_a_fail_event(exporting, receiver):
    assert headwater.run(chain.broken).status == "failed"
    deliver(exporting)
    [start, fail] = receiver.events
    for e in (start, fail):
        validate_event(e)
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    error = fail["run"]["facets"]["errorMessage"]
    assert "the input is broken" in error["message"] and error["programmingLanguage"] == "python"


def test_a_down_endpoint_delays_export_and_never_a_run(exporting, receiver, caplog):
    receiver.stop()
    a, b = run_chain(exporting)  # runs go on while nothing can be sent
    sender = Sender(exporting)
    with caplog.at_level(logging.WARNING, logger="headwater.openlineage"):
        sent, failed = sender.send_once()
    assert (sent, failed) == (0, True)
    assert backlog(exporting) == 4
    warning = caplog.records[-1].getMessage()
    assert receiver.url in warning and "4 event(s) waiting" in warning

    # A restart: another process and sender find the same backlog and deliver it.
    again = Instance(exporting.settings)
    try:
        receiver.start()
        assert deliver(again) == 4
    finally:
        again.close()
    assert backlog(exporting) == 0
    assert by_run(receiver.events) == {
        run_id(a.id): ["START", "COMPLETE"],
        run_id(b.id): ["START", "COMPLETE"],
    }


def test_without_configuration_nothing_is_recorded(exporting, monkeypatch):
    monkeypatch.setenv("HEADWATER_OPENLINEAGE", "off")
    headwater.run(chain.make_sales, region="US")
    assert backlog(exporting) == 0


def test_the_cli_export_writes_the_history_as_valid_ndjson(exporting, tmp_path, monkeypatch):
    a, b = run_chain(exporting)
    assert headwater.run(chain.broken).status == "failed"
    out = tmp_path / "lineage.ndjson"
    env = exporting.settings.to_env()
    result = CliRunner().invoke(
        cli, ["lineage", "export", "--format", "openlineage", "-o", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in out.read_text().splitlines()]
    for e in events:
        validate_event(e)
    runs = by_run(events)
    assert runs[run_id(a.id)] == ["START", "COMPLETE"] and runs[run_id(b.id)] == [
        "START",
        "COMPLETE",
    ]
    assert sorted(runs.values()) == [["START", "COMPLETE"]] * 2 + [["START", "FAIL"]]
    b_start = next(e for e in events if e["run"]["runId"] == run_id(b.id))
    assert b_start["run"]["facets"]["parent"]["run"]["runId"] == run_id(a.id)

    later = CliRunner().invoke(cli, ["lineage", "export", "--since", "2999-01-01"], env=env)
    assert later.exit_code == 0 and later.output == ""
    bad = CliRunner().invoke(cli, ["lineage", "export", "--since", "yesterday"], env=env)
    assert bad.exit_code == 2 and "not an ISO date" in bad.output


def test_run_ids_are_uuids_derived_from_execution_ids():
    assert run_id("1a23abb9f7f8a85ff4c") == run_id("1a23abb9f7f8a85ff4c")
    assert uuid.UUID(run_id("1a23abb9f7f8a85ff4c")).version == 5
    assert run_id("1a23abb9f7f8a85ff4c") != run_id("1a23abb9f7f8a85ff4d")
    same = str(uuid.uuid4())
    assert run_id(same) == same


def test_an_unusable_target_is_refused_with_the_fix(tmp_path):
    with pytest.raises(UserInputError, match="http\\(s\\)://host:port"):
        config.transport_for("ftp://somewhere")
    with pytest.raises(UserInputError, match="does not exist"):
        config.transport_for(f"file://{tmp_path}/missing/events.ndjson")


def test_export_lag_is_on_metrics(exporting, receiver):
    from prometheus_client import generate_latest

    from headwater.api.metrics import registry_for

    receiver.stop()
    headwater.run(chain.make_sales, region="US")
    text = generate_latest(registry_for(exporting, None)).decode()
    assert "headwater_openlineage_backlog 2.0" in text
    lag = next(
        line for line in text.splitlines() if line.startswith("headwater_openlineage_lag_seconds ")
    )
    assert float(lag.split()[1]) >= 0.0


def test_importing_headwater_does_not_import_the_client():
    code = "import sys, headwater; print(any(m.startswith('openlineage') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_up_runs_the_sender_only_when_export_is_configured(exporting, monkeypatch):
    from headwater.daemon.up import Supervisor

    on = Supervisor(exporting, workers=0)
    on.load_components()
    assert "openlineage" in [c.name for c in on.components]
    monkeypatch.setenv("HEADWATER_OPENLINEAGE", "off")
    off = Supervisor(exporting, workers=0)
    off.load_components()
    assert "openlineage" not in [c.name for c in off.components]


def test_up_names_a_target_it_cannot_send_to(exporting, monkeypatch):
    from headwater.daemon.up import Supervisor

    monkeypatch.setenv("HEADWATER_OPENLINEAGE_URL", "ftp://lineage.example")
    sup = Supervisor(exporting, workers=0)
    sup.load_components()
    assert "openlineage" not in [c.name for c in sup.components]
    why = sup.missing["OpenLineage export"]
    assert "ftp://lineage.example" in why and "http(s)://host:port" in why
