"""Each family's summary of a stored value (what the web UI's Object tab previews): a table's
schema, row count and first rows, pretty JSON, an array's shape and dtype, file listings; read
from the head of the blob, never the whole of a large value, and never unpickled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from headwater import types
from headwater.storage.blobs import BlobStore
from headwater.types import families
from headwater.types.families import summaries
from headwater.types.files import Directory, File


class _Counted:
    """A blob file that counts the bytes read through it."""

    def __init__(self, fh: BinaryIO, store: CountingStore) -> None:
        self._fh, self._store = fh, store

    def read(self, n: int = -1) -> bytes:
        data = self._fh.read(n)
        self._store.bytes_read += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        n = self._fh.readinto(buffer)  # type: ignore[attr-defined]
        self._store.bytes_read += n
        return int(n)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)

    def __enter__(self) -> _Counted:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()


class CountingStore(BlobStore):
    """A local blob store that counts the bytes summaries read."""

    bytes_read = 0

    def open(self, key: str) -> Any:
        return _Counted(super().open(key), self)

    def get_bytes(self, key: str) -> bytes:
        data = super().get_bytes(key)
        self.bytes_read += len(data)
        return data


@pytest.fixture
def store(tmp_path: Path) -> CountingStore:
    return CountingStore(str(tmp_path / "counted"))


def summarize(value: Any, store: CountingStore, tp: Any = None) -> families.Summary:
    literal = types.encode(value, tp, store)
    store.bytes_read = 0
    return families.summarize(literal, store)


def test_a_pandas_frame_shows_its_dtypes_row_count_and_first_rows(store: CountingStore) -> None:
    frame = pd.DataFrame({"n": range(25), "name": [f"row {i}" for i in range(25)]})
    frame["x"] = frame["n"] * 0.5
    s = summarize(frame, store)
    assert s.kind == "table" and s.row_count == 25
    assert s.columns == [("n", "int64"), ("name", "str"), ("x", "float64")]
    assert s.facts == {"Rows": "25", "Columns": "3"}
    assert len(s.rows) == summaries.PREVIEW_ROWS and s.truncated
    assert s.rows[0] == ["0", "row 0", "0.0"] and s.rows[19] == ["19", "row 19", "9.5"]
    assert s.schema_text() == "n: int64, name: str, x: float64"


def test_a_small_table_is_shown_whole(store: CountingStore) -> None:
    s = summarize(pa.table({"q": [1.5, None], "when": pa.array([0, 1], pa.date32())}), store)
    assert s.columns == [("q", "double"), ("when", "date32[day]")]
    assert s.rows == [["1.5", "1970-01-01"], ["None", "1970-01-02"]]
    assert s.row_count == 2 and not s.truncated


def test_a_polars_frame_shows_polars_dtypes(store: CountingStore) -> None:
    pl = pytest.importorskip("polars", reason="the polars extra is not installed")
    s = summarize(pl.DataFrame({"a": [1, 2], "b": ["x", "y"]}), store)
    assert s.columns == [("a", "Int64"), ("b", "String")]
    assert s.rows == [["1", "x"], ["2", "y"]]


def test_a_large_table_is_summarized_from_the_start_of_its_file(store: CountingStore) -> None:
    rng = np.random.default_rng(0)
    frame = pa.table({"v": rng.random(400_000), "w": rng.random(400_000)})
    literal = types.encode(frame, None, store)
    # Several row groups: only the footer and the first group's pages are read.
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(frame, sink, row_group_size=50_000)
    raw = sink.getvalue().to_pybytes()
    literal = {**literal, "blob": store.put_bytes(raw), "size": len(raw)}
    store.bytes_read = 0
    s = families.summarize(literal, store)
    assert s.row_count == 400_000 and len(s.rows) == summaries.PREVIEW_ROWS
    assert store.bytes_read < len(raw) / 4, (store.bytes_read, len(raw))


def test_wide_tables_show_the_first_columns_of_their_rows(store: CountingStore) -> None:
    frame = pa.table({f"c{i}": [i] for i in range(summaries.PREVIEW_COLUMNS + 5)})
    s = summarize(frame, store)
    assert len(s.columns) == summaries.PREVIEW_COLUMNS + 5
    assert len(s.rows[0]) == summaries.PREVIEW_COLUMNS and s.truncated


def test_json_is_pretty_and_a_str_is_plain_text(store: CountingStore) -> None:
    s = summarize({"weights": [1, 2], "name": "m"}, store)
    assert s.kind == "json" and s.facts == {"Keys": "2"}
    assert json.loads(s.text or "") == {"weights": [1, 2], "name": "m"}
    assert '\n  "weights": [\n' in (s.text or "")
    text = summarize("line one\nline <two>", store, str)
    assert text.kind == "text" and text.text == "line one\nline <two>"
    assert summarize(None, store).kind == "none"


def test_json_in_a_blob_is_read_and_huge_json_is_not_parsed(store: CountingStore) -> None:
    items = list(range(5_000))  # over the inline limit: a blob
    s = summarize(items, store)
    assert s.kind == "json" and s.facts == {"Items": "5,000"}
    assert json.loads(s.text or "") == items
    huge = ["x" * 100] * 30_000  # about 3 MB
    s = summarize(huge, store)
    assert s.truncated and "not parsed" in s.note
    assert (s.text or "").startswith('["xxxx')
    assert len(s.text or "") == summaries.TEXT_LIMIT
    assert store.bytes_read <= summaries.PARSE_LIMIT + 1


def test_long_text_is_cut(store: CountingStore) -> None:
    s = summarize("é" * (summaries.TEXT_LIMIT + 10), store, str)
    assert s.kind == "text" and s.truncated and len(s.text or "") == summaries.TEXT_LIMIT


def test_a_small_array_shows_shape_dtype_and_values(store: CountingStore) -> None:
    s = summarize(np.arange(12, dtype=np.int32).reshape(3, 4), store)
    assert s.kind == "array"
    assert s.facts == {"Shape": "(3, 4)", "dtype": "int32", "Elements": "12"}
    assert s.text == "[[ 0  1  2  3]\n [ 4  5  6  7]\n [ 8  9 10 11]]"
    assert not s.truncated


def test_a_large_array_shows_its_first_values_from_the_head_of_the_blob(
    store: CountingStore,
) -> None:
    array = np.arange(2_000_000, dtype=np.float64).reshape(1000, 2000)
    s = summarize(array, store)
    assert s.facts["Shape"] == "(1000, 2000)" and s.facts["Elements"] == "2,000,000"
    assert s.truncated and "first 20 of 2,000,000" in s.note
    assert (s.text or "").startswith("[ 0.  1.  2.")
    assert store.bytes_read < 4096


def test_bytes_are_text_or_a_hex_dump(store: CountingStore) -> None:
    assert summarize(b"plain words", store).text == "plain words"
    s = summarize(bytes(range(40)), store)
    assert s.kind == "bytes" and s.facts == {"Size": "40 B"}
    assert (s.text or "").splitlines()[0] == "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f"
    assert "hexadecimal" in s.note


def test_a_file_shows_its_name_size_and_first_text(store: CountingStore, tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text("a,b\n1,2\n")
    s = summarize(File(str(path)), store)
    assert s.kind == "file" and s.entries == [("report.csv", 8)]
    assert s.text == "a,b\n1,2\n" and s.facts == {"Name": "report.csv", "Size": "8 B"}
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)))
    assert summarize(File(str(tmp_path / "blob.bin")), store).text is None


def test_a_directory_lists_its_files_with_sizes(store: CountingStore, tmp_path: Path) -> None:
    root = tmp_path / "model"
    (root / "sub").mkdir(parents=True)
    (root / "weights.bin").write_bytes(b"\x00" * 100)
    (root / "sub" / "config.json").write_text("{}")
    s = summarize(Directory(str(root)), store)
    assert s.kind == "directory"
    assert s.entries == [("sub/config.json", 2), ("weights.bin", 100)]
    assert s.facts == {"Name": "model", "Files": "2", "Size": "102 B"}


def test_many_files_are_listed_up_to_the_limit(
    store: CountingStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(summaries, "ENTRY_LIMIT", 3)
    monkeypatch.setattr(families.files, "ENTRY_LIMIT", 3)
    root = tmp_path / "many"
    root.mkdir()
    for i in range(5):
        (root / f"f{i}.txt").write_text(str(i))
    s = summarize(Directory(str(root)), store)
    assert [e[0] for e in s.entries] == ["f0.txt", "f1.txt", "f2.txt"] and s.truncated
    assert s.facts["Files"] == "5"


class Opaque:
    def __init__(self) -> None:
        self.x = 1


def test_a_pickled_value_is_never_unpickled(
    store: CountingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    literal = types.encode(Opaque(), None, store)

    def refuse(data: bytes) -> Any:
        raise AssertionError("unpickled for a preview")

    monkeypatch.setattr(types.pickled, "loads", refuse)
    s = families.summarize(literal, store)
    assert s.kind == "opaque" and "unpickling runs code" in s.note
    assert "Opaque" in (s.text or "")


def test_an_unknown_format_says_so(store: CountingStore) -> None:
    s = families.summarize({"format": "hdf5", "blob": "x"}, store)
    assert s.kind == "opaque" and "unknown format 'hdf5'" in s.note


def test_a_pickled_frame_keeps_no_schema(store: CountingStore) -> None:
    frame = pd.DataFrame({"a": [1, "x"]})  # a mixed-type column: Parquet refuses, so pickled
    literal = types.encode(frame, None, store)
    assert literal["format"] == "pickle"
    assert families.summarize(literal, store).kind == "opaque"
