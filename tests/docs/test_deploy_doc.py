"""docs/deploy.md names every setting: each ``HEADWATER_*`` variable the source reads, and each
``config.toml`` key. A new setting fails this test until its row is added to the table."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from headwater.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deploy.md"
SRC = ROOT / "src" / "headwater"

# A name ending in "_" is a prefix in prose (``HEADWATER_WORKER_MAX_*``), not a variable.
_NAME = re.compile(r"\bHEADWATER_[A-Z0-9_]*[A-Z0-9]\b")


def variables_in_source() -> dict[str, list[str]]:
    """Every ``HEADWATER_*`` name in the source, with the files that mention it, plus the
    ones ``Settings.from_env`` builds from its field names."""
    found: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        for name in set(_NAME.findall(path.read_text(encoding="utf-8"))):
            found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    for key in config_keys():
        found.setdefault(f"HEADWATER_{key.upper()}", []).append("src/headwater/settings.py")
    return found


def config_keys() -> list[str]:
    return sorted(f.name for f in fields(Settings) if f.name != "home")


def settings_table(doc: str) -> str:
    start = doc.index("## Every setting")
    return doc[start : doc.index("\n## ", start + 1)]


def test_the_source_is_searched() -> None:
    found = variables_in_source()
    # guards against a pattern or a path that silently finds nothing
    for name in ("HEADWATER_DATABASE_URL", "HEADWATER_PG_NOTIFY", "HEADWATER_MAX_EVENT_BYTES"):
        assert name in found, sorted(found)
    assert "HEADWATER_WORKER_MAX" not in found


def test_every_headwater_variable_has_a_row_in_the_settings_table() -> None:
    table = settings_table(DOC.read_text(encoding="utf-8"))
    found = variables_in_source()
    missing = sorted(name for name in found if f"`{name}`" not in table)
    assert not missing, (
        f"docs/deploy.md, section 'Every setting', has no row for {', '.join(missing)}; "
        "add one per variable (`NAME` | config.toml key or — | default | meaning). Read in: "
        + "; ".join(f"{name}: {', '.join(found[name])}" for name in missing)
    )


def test_every_config_file_key_is_in_the_settings_table() -> None:
    table = settings_table(DOC.read_text(encoding="utf-8"))
    missing = [key for key in config_keys() if f"| `{key}` |" not in table]
    assert not missing, (
        f"docs/deploy.md, section 'Every setting', does not name the config.toml key(s) "
        f"{', '.join(missing)} (Settings fields) in its second column"
    )


def test_every_test_the_doc_names_exists() -> None:
    """The failure table cites tests; a renamed or removed one must not leave a stale claim."""
    doc = DOC.read_text(encoding="utf-8")
    cited = set(re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", doc))
    assert len(cited) > 10, cited
    stale = []
    for path, name in sorted(cited):
        file = ROOT / path
        if not file.is_file():
            stale.append(path)
        elif name and not re.search(rf"^def {name}\(", file.read_text(), re.M):
            stale.append(f"{path}::{name}")
    assert not stale, f"docs/deploy.md cites tests that do not exist: {stale}"


def test_every_recipe_has_its_test() -> None:
    doc = DOC.read_text(encoding="utf-8")
    recipes = set(re.findall(r"<!-- recipe: (\S+) -->\n```sh\n", doc))
    assert len(recipes) == len(re.findall(r"<!-- recipe: ", doc))  # each marks an sh block
    runner = (Path(__file__).parent / "test_deploy_recipes.py").read_text(encoding="utf-8")
    tested = set(re.findall(r'recipe\("([^"]+)"\)', runner))
    assert recipes == tested, f"recipes without a test: {sorted(recipes - tested)}"
