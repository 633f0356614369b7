"""The UI's own static files are well formed: a stylesheet with an unclosed block silently
drops every rule after it (the meta-workflow graph once drew as black boxes that way)."""

from __future__ import annotations

import re

import pytest

from headwater.ui.render import STATIC

STYLESHEETS = sorted(STATIC.glob("*.css"))


@pytest.mark.parametrize("path", STYLESHEETS, ids=lambda p: p.name)
def test_every_block_of_a_stylesheet_is_closed(path):
    text = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
    depth = 0
    for number, line in enumerate(text.splitlines(), 1):
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"{path.name}:{number}: a '}}' closes nothing"
    assert depth == 0, f"{path.name}: {depth} block(s) never closed"


def test_there_are_stylesheets_to_check():
    assert {p.name for p in STYLESHEETS} >= {"ui.css", "lineage.css"}
