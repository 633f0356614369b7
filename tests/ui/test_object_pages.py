"""Browser journey of the Object tab, in Chromium against a real `headwater up`: open the
Object tab of a DataFrame version, see its schema and first rows, download it and get the
stored bytes; a directory downloads as a zip from the keyboard."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

import headwater
from headwater.instance import Instance
from headwater.settings import Settings
from tests import _procs

from . import object_flows as f
from .conftest import SHOTS

pytestmark = pytest.mark.slow


@dataclass
class ObjectSite:
    base: str

    def shot(self, page: Page, name: str) -> None:
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def object_site(
    tmp_path_factory: pytest.TempPathFactory, browser_type_launch_args: dict[str, Any]
) -> Iterator[ObjectSite]:
    root = tmp_path_factory.mktemp("ui-object")
    url = f"sqlite:///{root}/headwater.db"
    inst = Instance(Settings.from_env({}, home=root / "home", database_url=url))
    with inst.use():
        headwater.register("tests.ui.object_flows")
        for flow in (f.table, f.bundle):
            assert headwater.run(flow).status == "succeeded"
    inst.close()
    env = _procs.headwater_env(root / "home", url)
    with _procs.running_up(env, root / "up.log", workers=1) as up:
        base = f"http://127.0.0.1:{up.port}"
        _procs.wait_healthy(base, up.log)
        yield ObjectSite(base)
        assert up.stop() == 0, up.log()


def test_see_a_dataframe_and_download_it(object_site: ObjectSite, page: Page) -> None:
    site = object_site
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(site.base + "/artifacts/default/development/sales_table@1")
    page.click("#tab-object")
    expect(page.locator("#tab-object")).to_have_attribute("aria-current", "page")
    schema = page.locator("#schema tbody tr")
    expect(schema).to_have_count(3)
    expect(schema.nth(1)).to_contain_text("units")
    expect(schema.nth(1)).to_contain_text("int64")
    expect(page.locator("#rows thead th")).to_have_text(["region", "units", "price"])
    expect(page.locator("#rows tbody tr")).to_have_count(20)
    expect(page.locator("#rows tbody tr").nth(3)).to_contain_text("region-3")
    expect(page.locator("#preview-facts")).to_contain_text("30")
    site.shot(page, "object-dataframe")
    with page.expect_download() as info:
        page.click("#download")
    download = info.value
    assert download.suggested_filename == "sales_table-1.parquet"
    data = Path(download.path()).read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(data)), f.sales(30))
    page.set_viewport_size({"width": 420, "height": 800})
    expect(page.locator("#download")).to_be_in_viewport()
    # Nothing wider than the window: the rows scroll inside their own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= 420
    expect(page.locator("#rows thead th").first).to_be_visible()
    site.shot(page, "object-dataframe-narrow")


def test_a_directory_downloads_as_a_zip_from_the_keyboard(
    object_site: ObjectSite, page: Page
) -> None:
    site = object_site
    page.goto(site.base + "/artifacts/default/development/model_bundle@1?tab=object")
    expect(page.locator("#entries tbody tr")).to_have_count(len(f.FILES))
    site.shot(page, "object-directory")
    page.locator("#download").focus()
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    download = info.value
    assert download.suggested_filename == "bundle.zip"
    zipped = zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes()))
    assert {n: zipped.read(n) for n in zipped.namelist()} == f.FILES
