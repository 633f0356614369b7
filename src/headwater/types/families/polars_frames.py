"""polars DataFrames, stored as Parquet (``parquet-polars``); needs the ``polars`` extra.

A frame Parquet cannot hold (an ``Object`` column, no columns, a subclass) is pickled
instead. Any Parquet literal reads as a polars DataFrame, and a ``parquet-polars`` literal
reads as a pandas DataFrame or a pyarrow Table.
"""

from __future__ import annotations

import io
import sys
from typing import Any

from headwater.types.families._parquet import ParquetFamily, shape_text
from headwater.types.pickled import Unsupported


class PolarsFrames(ParquetFamily):
    name = "polars"
    formats = ("parquet-polars",)
    library = "polars"

    def owns_class(self, cls: type) -> bool:
        pl = sys.modules.get("polars")
        return pl is not None and issubclass(cls, pl.DataFrame)

    def owns_value(self, value: Any) -> bool:
        pl = sys.modules.get("polars")
        return pl is not None and isinstance(value, pl.DataFrame)

    def to_parquet(self, value: Any) -> bytes:
        import polars as pl

        if type(value) is not pl.DataFrame:
            raise Unsupported(f"{type(value).__qualname__} is a polars DataFrame subclass")
        if value.width == 0:
            raise Unsupported("Parquet is not used for a frame without columns")
        buf = io.BytesIO()
        try:
            value.write_parquet(buf)
        except (pl.exceptions.PolarsError, ValueError, TypeError) as exc:
            raise Unsupported(f"Parquet cannot hold this polars DataFrame: {exc}") from exc
        return buf.getvalue()

    def from_parquet(self, data: bytes) -> Any:
        import polars as pl

        return pl.read_parquet(io.BytesIO(data))

    def preview(self, value: Any) -> str:
        """``polars.DataFrame 3 rows x 2 cols [a: Int64, b: String]`` (names and dtypes)."""
        schema = [f"{name}: {dtype}" for name, dtype in value.schema.items()]
        return shape_text("polars.DataFrame", value.height, schema)

    def column_types(self, schema: Any) -> list[tuple[str, str]]:
        """polars dtypes (``Int64``, ``String``) when polars is installed, else Arrow's."""
        try:
            import polars as pl
        except ImportError:
            return super().column_types(schema)
        frame = pl.from_arrow(schema.empty_table())
        assert isinstance(frame, pl.DataFrame)
        return [(name, str(dtype)) for name, dtype in frame.schema.items()]

    def read_file(self, path: str, ext: str) -> Any:
        import polars as pl

        if ext in (".csv", ".tsv"):
            return pl.read_csv(path, separator="\t" if ext == ".tsv" else ",")
        return pl.read_parquet(path)

    def mismatch_hint(self, value: Any) -> str:
        library = type(value).__module__.partition(".")[0]
        if library == "pandas":
            return "convert it with polars.from_pandas(frame), or declare pandas.DataFrame"
        if library == "pyarrow":
            return "convert it with polars.from_arrow(table), or declare pyarrow.Table"
        return ""


POLARS = PolarsFrames()
