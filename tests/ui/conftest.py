"""Browser tests of the web UI: Playwright driving the system Chromium (Debian's `chromium`;
Playwright cannot download its own build here) against a real `headwater up`.

Without /usr/bin/chromium these tests skip with a hint locally, and fail under CI
(``CI=true``) or ``HEADWATER_TEST_BROWSER=require``: `.ci/run` installs the package.
Screenshots of every page visited go to ``.ui-screenshots/`` (git-ignored).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import headwater
from headwater.instance import Instance
from headwater.settings import Settings
from tests import _procs

from . import flows

CHROMIUM = Path(os.environ.get("HEADWATER_TEST_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SHOTS = Path(__file__).resolve().parents[2] / ".ui-screenshots"
MALICIOUS = (
    "# Release notes\n\n<script>window.pwned = 1; alert('pwned')</script>\n\n"
    '<img src=x onerror="window.pwned = 2; alert(2)">\n\n[click](javascript:window.pwned=3)\n'
)


def _browser_required() -> bool:
    return (
        os.environ.get("CI", "").lower() in ("1", "true", "yes")
        or os.environ.get("HEADWATER_TEST_BROWSER") == "require"
    )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM.exists():
        hint = f"no Chromium at {CHROMIUM}: `apt-get install chromium` (or run .ci/run)"
        if _browser_required():
            pytest.fail(f"{hint}; the browser tests must run under CI")
        pytest.skip(hint)
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": ARGS,
        "headless": True,
    }


@pytest.fixture(scope="session")
def base_url() -> None:
    """No base URL (pytest-base-url's own fixture warns under recent pytest): pages are
    opened by full URL on the server each module starts."""
    return None


@dataclass
class Site:
    """A fresh instance, populated by running real workflows, served by `headwater up`."""

    base: str
    env: dict[str, str]
    fired_execution: str

    def shot(self, page: Any, name: str) -> None:
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, browser_type_launch_args: dict[str, Any]
) -> Iterator[Site]:
    # (browser_type_launch_args first: without a browser, skip or fail before starting up)
    root = tmp_path_factory.mktemp("ui")
    url = f"sqlite:///{root}/headwater.db"
    inst = Instance(Settings.from_env({}, home=root / "home", database_url=url))
    with inst.use():
        headwater.register("tests.ui.flows", activate=True)
        for seed, blessed in ((1, "true"), (2, "false"), (3, "true"), (4, "false")):
            assert headwater.run(flows.training, seed=seed, blessed=blessed).status == "succeeded"
        assert headwater.run(flows.evaluate).status == "succeeded"
        assert headwater.run(flows.release, text=MALICIOUS).status == "succeeded"
        headwater.emit_event("model.review", {"env": "dev", "seed": 5}, id="review-1")
    inst.close()
    env = _procs.headwater_env(root / "home", url)
    with _procs.running_up(env, root / "up.log", workers=1) as up:
        base = f"http://127.0.0.1:{up.port}"
        _procs.wait_healthy(base, up.log)

        def fired() -> str | None:
            decisions = httpx.get(f"{base}/api/v1/events/review-1").json()["decisions"]
            ids = [d["execution_id"] for d in decisions if d["execution_id"]]
            return ids[0] if len(decisions) == 2 and ids else None

        ex_id = _procs.wait_for(fired, "the reactor's decisions about review-1", logs=up.log)
        yield Site(base, env, ex_id)
        assert up.stop() == 0, up.log()
