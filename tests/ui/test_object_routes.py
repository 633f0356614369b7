"""The Object tab and the download of an artifact version in-process (no browser), on SQLite
and PostgreSQL: a preview for every kind of value real workflows store, download bytes equal
to the value, table facts in the Versions comparison, and hostile addresses refused."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile

import numpy as np
import pandas as pd
import pytest

import headwater
from headwater.instance import Instance
from headwater.storage.blobs import BlobStore
from headwater.ui import objects
from tests.api.conftest import Api, serve

from ..engine.conftest import instance  # noqa: F401  (fixture)
from . import object_flows as f

PAGE = "/artifacts/default/development/{}?tab=object"
DOWNLOAD = "/artifacts/default/development/{}/download"


@pytest.fixture
def populated(instance: Instance) -> Instance:  # noqa: F811
    headwater.register("tests.ui.object_flows")
    for flow in (f.table, f.config, f.matrix, f.bundle, f.report, f.summary):
        assert headwater.run(flow).status == "succeeded", flow
    assert headwater.run(f.table, rows=5).status == "succeeded"  # sales_table@2
    return instance


def text_of(page: str, element_id: str) -> str:
    """The unescaped text inside the element with this id."""
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:pre|table|dl)>', page, re.S)
    assert found, f"no #{element_id} in the page"
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(1)))


def object_page(api: Api, ref: str) -> str:
    r = api.get(PAGE.format(ref))
    assert r.status_code == 200, r.text
    assert 'id="tab-object" aria-current="page"' in r.text
    return r.text


def test_a_dataframe_shows_schema_row_count_and_first_rows(populated: Instance) -> None:
    with serve(populated) as api:
        page = object_page(api, "sales_table@1")
    literal = text_of(page, "literal")
    assert "parquet-pandas" in literal and "pandas.DataFrame" in literal
    key = re.search(r"sha256/[0-9a-f]{2}/[0-9a-f]{62}", literal)
    assert key and str(populated.blobs.folder / key.group(0)) in literal
    schema = text_of(page, "schema")
    assert re.search(r"region\s+str", schema) and re.search(r"units\s+int64", schema)
    assert re.search(r"price\s+float64", schema)
    assert "First 20 of 30 rows" in page
    rows = text_of(page, "rows")
    assert "region-1" in rows and "19" in rows and "4.75" in rows  # row 19: 19 * 0.25
    assert " 20 " not in rows  # the 21st row (units 20) is not shown
    assert 'id="preview-truncated"' in page
    assert f'href="{DOWNLOAD.format("sales_table@1")}"' in page


def test_a_dict_is_pretty_json_escaped(populated: Instance) -> None:
    with serve(populated) as api:
        page = object_page(api, "run_settings@1")
    assert "&lt;small&gt; &amp; fast" in page and "<small>" not in page
    shown = text_of(page, "preview-text")
    assert json.loads(shown) == f.settings(1)
    assert '\n  "layers": [' in shown
    assert "none: the value is held in the literal itself" in page


def test_an_array_shows_shape_dtype_and_values(populated: Instance) -> None:
    with serve(populated) as api:
        page = object_page(api, "weights_matrix@1")
    facts = text_of(page, "preview-facts")
    assert "(3, 4)" in facts and "float32" in facts and "12" in facts
    assert "[[ 0.  2.  4.  6.]" in text_of(page, "preview-text")


def test_a_directory_lists_its_files(populated: Instance) -> None:
    with serve(populated) as api:
        page = object_page(api, "model_bundle@1")
    entries = text_of(page, "entries")
    assert re.search(r"docs/README.md\s+8 bytes", entries)
    assert re.search(r"weights.bin\s+30 bytes", entries)


def test_a_file_shows_its_name_size_and_text(populated: Instance) -> None:
    with serve(populated) as api:
        page = object_page(api, "report_file@1")
    assert re.search(rf"report.csv\s+{len(f.REPORT)} bytes", text_of(page, "entries"))
    assert text_of(page, "preview-text") == f.REPORT


def test_a_str_is_plain_text(populated: Instance) -> None:
    with serve(populated) as api:
        page = object_page(api, "summary_text@1")
    assert text_of(page, "preview-text") == "plain <text>"
    assert "plain &lt;text&gt;" in page


def download(api: Api, ref: str, filename: str) -> bytes:
    r = api.get(DOWNLOAD.format(ref))
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].startswith(f'attachment; filename="{filename}"')
    assert r.headers["x-content-type-options"] == "nosniff"
    return r.content


def test_every_download_is_the_stored_value(populated: Instance) -> None:
    with serve(populated) as api:
        frame = pd.read_parquet(io.BytesIO(download(api, "sales_table@1", "sales_table-1.parquet")))
        pd.testing.assert_frame_equal(frame, f.sales(30))
        settings = download(api, "run_settings@1", "run_settings-1.json")
        assert json.loads(settings) == f.settings(1)
        array = np.load(io.BytesIO(download(api, "weights_matrix@1", "weights_matrix-1.npy")))
        np.testing.assert_array_equal(array, f.weights(2))
        assert download(api, "report_file@1", "report.csv") == f.REPORT.encode()
        assert json.loads(download(api, "summary_text@1", "summary_text-1.json")) == (
            "plain <text>"
        )
        zipped = zipfile.ZipFile(io.BytesIO(download(api, "model_bundle@1", "bundle.zip")))
        assert {n: zipped.read(n) for n in zipped.namelist()} == f.FILES


def test_the_comparison_shows_rows_and_schema_of_tables(populated: Instance) -> None:
    with serve(populated) as api:
        r = api.get(PAGE.format("sales_table@2").replace("object", "versions") + "&compare=1")
        assert r.status_code == 200, r.text
        table = text_of(r.text, "comparison")
        other = api.get(PAGE.format("run_settings@1").replace("object", "versions") + "&compare=1")
    assert re.search(r"Rows\s+5\s+30", table)
    assert '<tr class="differs"><th scope="row">Rows</th>' in r.text
    assert re.search(r"Schema\s+region: str, units: int64, price: float64\s+region: str", table)
    assert "Rows" not in text_of(other.text, "comparison")  # not a table: no rows


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/artifacts/default/development/..%2F..%2Fetc%2Fpasswd@1/download", 404),
        ("/artifacts/default/development/sales_table@1%2F..%2F..%2Fx/download", 404),
        ("/artifacts/default/development/..@1/download", 400),
        ("/artifacts/default/development/sales_table/download", 400),
        ("/artifacts/default/development/sales_table@99/download", 404),
        ("/artifacts/%2E%2E/development/sales_table@1/download", 400),
    ],
)
def test_hostile_or_unknown_addresses_are_refused(
    populated: Instance, path: str, status: int
) -> None:
    with serve(populated) as api:
        r = api.get(path)
    assert r.status_code == status, (path, r.text)
    assert "root:" not in r.text and "attachment" not in r.headers.get("content-disposition", "")


def test_none_has_nothing_to_download(populated: Instance) -> None:
    with populated.use():
        headwater.create_artifact(headwater.Artifact("nothing"), None)
    with serve(populated) as api:
        page = object_page(api, "nothing@1")
        assert 'id="download"' not in page
        r = api.get(DOWNLOAD.format("nothing@1"))
    assert r.status_code == 404 and "holds None" in r.text


def test_a_remote_blob_is_located_by_its_url() -> None:
    key = "sha256/ab/" + "c" * 62
    assert objects.blob_location(BlobStore("memory://bucket/hw"), key) == (
        f"memory://bucket/hw/{key}"
    )


def test_a_hostile_file_name_cannot_escape_the_header() -> None:
    header = objects._disposition('../évil "name"\r\nSet-Cookie: x=1.csv')
    assert "\r" not in header and "\n" not in header
    plain = re.search(r'filename="([^"]*)"', header)
    assert plain and plain.group(1) == "_vil_name_Set-Cookie_x_1.csv"
    assert "filename*=UTF-8''..%2F%C3%A9vil%20%22name%22%0D%0ASet-Cookie" in header
