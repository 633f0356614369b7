"""The polars family: DataFrames stored as Parquet, read back, checked, previewed and given
as command-line text, through the same seam as the other value-type families."""
# ruff: noqa: UP045 - the typing.Optional spelling is exercised too

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Optional

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from polars.testing import assert_frame_equal

import headwater
from headwater import Artifact, task, workflow
from headwater.engine.execute.text_inputs import from_text
from headwater.errors import TypeMismatchError, UserInputError
from headwater.instance import Instance
from headwater.settings import Settings
from headwater.storage.blobs import BlobStore
from headwater.types import check, coerce, decode, download_suffix, encode, is_pickled, type_name

Frames = Artifact(name="polars_frames")


def _frame(n: int = 3) -> pl.DataFrame:
    return pl.DataFrame(
        {"i": list(range(n)), "s": [f"r{k}" for k in range(n)], "x": [k / 2 for k in range(n)]}
    )


@task
def make_frame(n: int) -> Annotated[pl.DataFrame, Frames]:
    return _frame(n)


@task
def total(frame: pl.DataFrame) -> int:
    if not isinstance(frame, pl.DataFrame):  # the engine must hand over a polars frame
        raise TypeError(f"got {type(frame)}")
    return int(frame["i"].sum())


@workflow
def produce_wf(n: int = 3) -> int:
    return total(frame=make_frame(n=n))


@workflow
def consume_wf(frame: pl.DataFrame = Frames.query()) -> int:
    return total(frame=frame)


@task
def make_pandas() -> pl.DataFrame:
    return pd.DataFrame({"i": [1, 2]})  # type: ignore[return-value]


@workflow
def wrong_wf() -> pl.DataFrame:
    return make_pandas()


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Instance]:
    url = f"sqlite:///{tmp_path}/headwater.db"
    settings = Settings.from_env({}, home=tmp_path / "home", database_url=url)
    inst = Instance(settings)
    with inst.use():
        yield inst
    inst.close()


def test_a_task_stores_parquet_and_a_consumer_reads_the_frame_back(instance: Instance) -> None:
    ex = headwater.run(produce_wf, n=4)
    assert ex.status == "succeeded", ex.error
    assert ex.output == 6
    av = headwater.get_artifact(Frames.query())
    assert av.literal["format"] == "parquet-polars"
    assert av.literal["type"] == "polars.DataFrame"
    assert av.literal["preview"] == (
        "polars.DataFrame 4 rows x 3 cols [i: Int64, s: String, x: Float64]"
    )
    assert_frame_equal(av.value(), _frame(4))

    again = headwater.run(consume_wf)
    assert again.status == "succeeded", again.error
    assert again.output == 6
    assert again.resolved_inputs["frame"]["uri"] == av.uri


def test_download_names_the_blob_parquet(instance: Instance, tmp_path: Path) -> None:
    headwater.run(produce_wf, n=2)
    av = headwater.get_artifact(Frames.query())
    path = av.download(tmp_path)
    assert path.suffix == ".parquet"
    assert_frame_equal(pl.read_parquet(path), _frame(2))
    assert download_suffix("parquet-polars") == ".parquet"


def test_a_task_returning_pandas_where_polars_is_declared_fails_clearly(
    instance: Instance,
) -> None:
    ex = headwater.run(wrong_wf)
    assert ex.status == "failed"
    assert "expects polars.DataFrame, got pandas.DataFrame" in str(ex.error)
    assert "polars.from_pandas" in str(ex.error)


def test_roundtrip_keeps_dtypes_and_nulls(blobs: BlobStore) -> None:
    frame = pl.DataFrame(
        {
            "i": pl.Series([1, None, 3], dtype=pl.Int32),
            "when": pl.Series(["2024-01-01", "2024-02-01", None]).str.to_date(),
            "tags": [["a"], [], ["b", "c"]],
            "cat": pl.Series(["x", "y", "x"], dtype=pl.Categorical),
        }
    )
    literal = encode(frame, pl.DataFrame, blobs, what="output 'o'")
    assert literal["format"] == "parquet-polars" and not is_pickled(literal)
    assert_frame_equal(decode(literal, pl.DataFrame, blobs), frame)
    assert_frame_equal(decode(literal, None, blobs), frame)


def test_any_and_optional_pick_the_polars_family(blobs: BlobStore) -> None:
    frame = _frame()
    for declared in (Any, None, Optional[pl.DataFrame], pl.DataFrame | int):
        literal = encode(frame, declared, blobs)
        assert literal["format"] == "parquet-polars", declared
        assert literal["type"] == type_name(pl.DataFrame if declared in (Any, None) else declared)
    assert encode(None, Optional[pl.DataFrame], blobs)["format"] == "none"


def test_every_tabular_family_reads_every_parquet_format(blobs: BlobStore) -> None:
    polars_literal = encode(_frame(), pl.DataFrame, blobs)
    as_pandas = decode(polars_literal, pd.DataFrame, blobs)
    assert isinstance(as_pandas, pd.DataFrame) and list(as_pandas["i"]) == [0, 1, 2]
    as_table = decode(polars_literal, pa.Table, blobs)
    assert isinstance(as_table, pa.Table) and as_table.column_names == ["i", "s", "x"]

    pandas_literal = encode(pd.DataFrame({"a": [1, 2]}), pd.DataFrame, blobs)
    assert_frame_equal(decode(pandas_literal, pl.DataFrame, blobs), pl.DataFrame({"a": [1, 2]}))
    arrow_literal = encode(pa.table({"a": ["x"]}), pa.Table, blobs)
    assert_frame_equal(decode(arrow_literal, pl.DataFrame, blobs), pl.DataFrame({"a": ["x"]}))
    optional = decode(arrow_literal, Optional[pl.DataFrame], blobs)
    assert_frame_equal(optional, pl.DataFrame({"a": ["x"]}))


def test_a_stored_polars_frame_is_not_an_int(blobs: BlobStore) -> None:
    literal = encode(_frame(), pl.DataFrame, blobs)
    with pytest.raises(TypeMismatchError, match=r"polars.DataFrame value cannot be read as int"):
        decode(literal, int, blobs)


def test_a_frame_without_columns_is_pickled(blobs: BlobStore) -> None:
    empty = encode(pl.DataFrame(), pl.DataFrame, blobs)
    assert is_pickled(empty) and "without columns" in empty["note"]
    assert decode(empty, pl.DataFrame, blobs).shape == (0, 0)


def test_an_object_column_neither_parquet_nor_pickle_holds_is_refused(blobs: BlobStore) -> None:
    objects = pl.DataFrame({"o": pl.Series([object(), object()], dtype=pl.Object)})
    with pytest.raises(TypeMismatchError, match=r"output 'o': cannot store a polars.DataFrame"):
        encode(objects, pl.DataFrame, blobs, what="output 'o'")


def test_check_refuses_other_frames_with_a_conversion_hint() -> None:
    check(_frame(), pl.DataFrame, "input 'f'")
    with pytest.raises(TypeMismatchError) as caught:
        check(pd.DataFrame({"a": [1]}), pl.DataFrame, "input 'f'")
    message = str(caught.value)
    assert message.startswith("input 'f' expects polars.DataFrame, got pandas.DataFrame")
    assert message.endswith(
        "convert it with polars.from_pandas(frame), or declare pandas.DataFrame"
    )
    with pytest.raises(TypeMismatchError, match=r"polars\.from_arrow\(table\)"):
        check(pa.table({"a": [1]}), Optional[pl.DataFrame], "input 'f'")
    with pytest.raises(
        TypeMismatchError, match=r"expects pandas\.DataFrame, got polars\.DataFrame"
    ):
        check(_frame(), pd.DataFrame, "input 'f'")
    with pytest.raises(TypeMismatchError, match=r"expects polars.DataFrame, got int \(3\)$"):
        check(3, pl.DataFrame, "input 'f'")


def test_type_name() -> None:
    assert type_name(pl.DataFrame) == "polars.DataFrame"
    assert type_name(Optional[pl.DataFrame]) == "Optional[polars.DataFrame]"


def test_command_line_text_is_a_parquet_or_csv_path(tmp_path: Path) -> None:
    frame = pl.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    frame.write_parquet(tmp_path / "t.parquet")
    frame.write_csv(tmp_path / "t.csv")
    frame.write_csv(tmp_path / "t.tsv", separator="\t")
    frame.write_json(tmp_path / "t.json")
    for name in ("t.parquet", "t.csv", "t.tsv"):
        assert_frame_equal(coerce(str(tmp_path / name), pl.DataFrame, "input 'f'"), frame)
    with pytest.raises(TypeMismatchError, match=r"not a \.parquet or \.csv file"):
        coerce(str(tmp_path / "t.json"), pl.DataFrame, "input 'f'")
    with pytest.raises(TypeMismatchError, match=r"existing \.parquet or \.csv file"):
        coerce(str(tmp_path / "nope.csv"), pl.DataFrame, "input 'f'")


def test_text_inputs_read_the_path_locally_and_refuse_it_over_http(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    _frame().write_parquet(path)
    values = from_text(consume_wf, {"frame": str(path)})
    assert_frame_equal(values["frame"], _frame())
    with pytest.raises(UserInputError, match="read from a path"):
        from_text(consume_wf, {"frame": str(path)}, local_paths=False)
