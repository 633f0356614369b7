"""The README's CloudEvents SDK example, run as written against a real `headwater up`."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import httpx
import pytest

import _procs

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
README_URL = "http://127.0.0.1:8265"


def readme_snippet() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    [snippet] = [b for b in blocks if "cloudevents" in b]
    return snippet


def test_the_readme_cloudevents_example_posts_an_event(tmp_path, database_url):
    snippet = readme_snippet()
    assert README_URL in snippet
    env = _procs.headwater_env(tmp_path / "home", database_url)
    with _procs.running_up(env, tmp_path / "up.log", workers=1) as up:
        base = f"http://127.0.0.1:{up.port}"
        _procs.wait_healthy(base, up.log)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(snippet.replace(README_URL, base), str(README), "exec"), {})
        stored = httpx.get(f"{base}/api/v1/events/load-42", timeout=10).json()
        assert up.stop() == 0, up.log()
    promised = snippet.split("# ")[-1].strip()  # what the snippet's last comment says it prints
    assert printed.getvalue().strip() == promised
    assert (stored["name"], stored["source"]) == ("table.loaded", "https://ci.example")
    assert stored["payload"] == {"name": "sales", "env": "prod"}
