"""``headwater events emit`` refuses text and times no backend can store; ``events list``,
``events show`` and ``executions show`` still print rows stored before those checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from headwater.instance import get_instance
from tests.cli.cli_helpers import Invoke, as_json, ok

ECHO = """
from headwater import task, workflow


@task
def echo(text: str) -> str:
    return text


@workflow
def echo_wf(text: str = "hello") -> str:
    return echo(text=text)
"""


def test_events_emit_refuses_unstorable_text_and_stores_nothing(hw: Invoke) -> None:
    # "\udcff" is what Python makes of the byte 0xff in an argument (surrogateescape)
    for args, message in [
        (["--id", "x\udcff"], "error: id contains a lone surrogate"),
        (["--source", "x\udcff"], "error: source contains a lone surrogate"),
        (["--payload", '{"k": "\\ud800"}'], "error: payload.k contains a lone surrogate"),
        (["--payload", '{"k": "a\\u0000"}'], "error: payload.k contains a NUL character"),
    ]:
        result = hw("events", "emit", "data.updated", *args)
        assert result.exit_code == 2 and message in result.stderr, (args, result.stderr)
    assert as_json(hw("events", "list", "--json")) == []


def _store_old_events() -> None:
    """Rows an older version could write: times no datetime holds, lone surrogates in JSON."""
    with get_instance().db.transaction() as tx:
        for event_id, when, payload in [
            ("far", 1e300, "{}"),
            ("lone", 5.0, '{"k": "x\\ud800y"}'),
        ]:
            tx.execute(
                "INSERT INTO events (id, name, source, project, domain, time, payload, "
                "attributes) VALUES (:id, 'old.event', 'headwater://old', 'default', "
                "'development', :t, :p, '{}')",
                {"id": event_id, "t": when, "p": payload},
            )


def test_events_list_and_show_print_rows_stored_before_the_checks(hw: Invoke) -> None:
    _store_old_events()
    lines = ok(hw("events", "list")).stdout.splitlines()
    assert lines[1].split()[:3] == ["lone", "old.event", "1970-01-01"]
    assert lines[2].split()[:3] == ["far", "old.event", "-"]
    body = as_json(hw("events", "list", "--json"))
    assert [(e["id"], e["time"]) for e in body] == [
        ("lone", "1970-01-01T00:00:05+00:00"),
        ("far", None),
    ]
    assert '"k": "x\\\\ud800y"' in ok(hw("events", "show", "lone")).stdout
    assert "(out of range)" in ok(hw("events", "show", "far")).stdout
    assert as_json(hw("events", "show", "lone", "--json"))["payload"] == {"k": "x\\ud800y"}


def test_executions_show_prints_stored_lone_surrogates_escaped(
    hw: Invoke, write_module: Callable[[str, str], Path]
) -> None:
    path = write_module("echo_flow", ECHO)
    ex = as_json(hw("run", path, "echo_wf", "--json"))
    lone = {"format": "json", "type": "builtins.str", "value": "\ud800", "preview": "'\ud800'"}
    error = {"type": "OSError", "message": "no file b'\udcff'", "traceback": "\udcff"}
    with get_instance().db.transaction() as tx:
        tx.execute(
            "UPDATE executions SET inputs = :i, status = 'failed', error = :e WHERE id = :id",
            {"i": json.dumps({"text": lone}), "e": json.dumps(error), "id": ex["id"]},
        )
    out = ok(hw("executions", "show", ex["id"])).stdout
    assert "'\\ud800'" in out and "no file b'\\udcff'" in out
    assert as_json(hw("executions", "show", ex["id"], "--json"))["inputs"]["text"]["value"] == (
        "\\ud800"
    )
