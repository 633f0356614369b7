"""from_text(): -i k=v text to declared input types, and what a server refuses to convert."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from headwater import File, task
from headwater.engine.execute.text_inputs import from_text
from headwater.errors import TypeMismatchError, UserInputError


@task
def takes(n: int, f: File, maybe: File | None = None, tags: list[str] | None = None) -> int:
    return n


@task
def takes_array(a: np.ndarray) -> int:
    return 0


def test_text_converts_to_the_declared_types(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("x")
    got = from_text(takes, {"n": "3", "f": str(path), "tags": "a,b", "other": "kept"})
    assert got == {"n": 3, "f": File(str(path)), "tags": ["a", "b"], "other": "kept"}
    assert from_text(takes, {"f": "hw://p/d/a@1"}) == {"f": "hw://p/d/a@1"}
    with pytest.raises(TypeMismatchError, match="input 'n' expects int, got 'three'"):
        from_text(takes, {"n": "three"})


@pytest.mark.parametrize("name", ["f", "maybe"])
def test_a_server_does_not_read_paths_it_is_sent(tmp_path: Path, name: str) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("server only")
    with pytest.raises(UserInputError, match=f"input '{name}' expects .*does not read paths"):
        from_text(takes, {name: str(path)}, local_paths=False)
    assert from_text(takes, {"n": "4", "tags": "a"}, local_paths=False) == {"n": 4, "tags": ["a"]}


def test_arrays_from_json_text_are_fine_for_a_server() -> None:
    assert from_text(takes_array, {"a": "[1, 2]"}, local_paths=False)["a"].tolist() == [1, 2]
    with pytest.raises(UserInputError, match="input 'a'"):
        from_text(takes_array, {"a": "/tmp/a.npy"}, local_paths=False)
