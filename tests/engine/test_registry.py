"""Registration snapshots code by content: same code, same version; changed code, new one."""

from __future__ import annotations

import textwrap

import pytest

import headwater
from headwater.engine.registry import take_snapshot

WF = """
from headwater import task, workflow

@task
def double(x: int) -> int:
    return x * {factor}

@workflow
def wf(x: int = 1) -> int:
    return double(x=x)
"""


def _write(path, factor):
    path.write_text(textwrap.dedent(WF.format(factor=factor)))


def test_same_code_same_version_changed_code_new_version(instance, tmp_path):
    mod = tmp_path / "reg_mod_a.py"
    _write(mod, 2)
    registered = headwater.register(mod)
    first = {r.name: r for r in registered if r.kind in ("task", "workflow")}
    assert set(first) == {"reg_mod_a.double", "reg_mod_a.wf"}
    assert first["reg_mod_a.wf"].kind == "workflow"
    assert [r.name for r in registered if r.kind == "launch plan"] == ["reg_mod_a.wf"]
    assert take_snapshot(mod).digest == first["reg_mod_a.wf"].snapshot

    copy = tmp_path / "other" / "reg_mod_a.py"
    copy.parent.mkdir()
    _write(copy, 2)
    assert take_snapshot(copy).digest == first["reg_mod_a.wf"].snapshot

    mod2 = tmp_path / "reg_mod_b.py"
    _write(mod2, 2)
    _write(copy, 3)
    assert take_snapshot(copy).digest != first["reg_mod_a.wf"].snapshot


def test_register_stores_snapshot_and_entities(instance, tmp_path):
    mod = tmp_path / "reg_mod_c.py"
    _write(mod, 2)
    regs = [r for r in headwater.register(mod) if r.kind in ("task", "workflow")]
    with instance.db.read() as tx:
        names = {r["name"] for r in tx.all("SELECT name FROM entities")}
        snap = tx.one("SELECT * FROM code_snapshots")
    assert names == {r.name for r in regs}
    assert b"return x * 2" in instance.blobs.get_bytes(snap["blob_key"])
    again = [r for r in headwater.register(mod) if r.kind in ("task", "workflow")]
    assert [r.version for r in again] == [r.version for r in regs]


def test_register_unknown_path(instance, tmp_path):
    with pytest.raises(headwater.NotFoundError, match="cannot import"):
        headwater.register("no_such_module_xyz")
    with pytest.raises(headwater.NotFoundError, match="not a Python file"):
        headwater.register(tmp_path)
