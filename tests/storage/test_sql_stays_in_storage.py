"""Nothing outside ``storage/`` writes SQL: every statement lives in the module of its table."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "headwater"
SQL = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b", re.S)
TX_CALLS = {"execute", "one", "all", "scalar", "many"}


def _offences(path: Path) -> list[str]:
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if SQL.search(node.value):
                found.append(f"line {node.lineno}: SQL text {node.value[:60]!r}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in TX_CALLS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "tx"
        ):
            found.append(f"line {node.lineno}: tx.{node.func.attr}(...)")
    return found


def test_no_sql_outside_storage() -> None:
    offences = {
        str(path.relative_to(SRC)): found
        for path in sorted(SRC.rglob("*.py"))
        if "storage" not in path.relative_to(SRC).parts[:1]
        if (found := _offences(path))
    }
    assert not offences, (
        "move these statements into storage/<table>.py (the module of the table whose rows "
        f"they return) and call that function: {offences}"
    )


def test_the_check_sees_sql(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text(
        'def f(tx):\n    tx.one("SELECT id FROM executions WHERE id = :i", {})\n'
        '    return "UPDATE executions SET status = 1"\n'
    )
    found = _offences(sample)
    assert len(found) == 3, found
