"""pandas DataFrames, stored as Parquet with the index and dtypes kept (pandas metadata).

A DataFrame that Parquet cannot hold (mixed-type object columns, duplicate names, a subclass,
no columns) is pickled instead.
"""

from __future__ import annotations

import sys
from typing import Any

from headwater.types.families._parquet import ParquetFamily, read_table, shape_text, write_table
from headwater.types.pickled import Unsupported


class PandasFrames(ParquetFamily):
    name = "dataframe"
    formats = ("parquet-pandas",)
    library = "pandas"

    def owns_class(self, cls: type) -> bool:
        pd = sys.modules.get("pandas")
        return pd is not None and issubclass(cls, pd.DataFrame)

    def owns_value(self, value: Any) -> bool:
        pd = sys.modules.get("pandas")
        return pd is not None and isinstance(value, pd.DataFrame)

    def to_parquet(self, value: Any) -> bytes:
        import pandas as pd
        import pyarrow as pa

        if type(value) is not pd.DataFrame:
            raise Unsupported(f"{type(value).__qualname__} is a DataFrame subclass")
        try:
            return write_table(pa.Table.from_pandas(value))
        except (pa.ArrowException, ValueError, TypeError) as exc:
            raise Unsupported(f"Parquet cannot hold this DataFrame: {exc}") from exc

    def from_parquet(self, data: bytes) -> Any:
        return read_table(data).to_pandas()

    def preview(self, value: Any) -> str:
        return shape_text("DataFrame", value.shape[0], list(value.columns))

    def column_types(self, schema: Any) -> list[tuple[str, str]]:
        """The pandas dtypes the frame was written with (its Parquet pandas metadata)."""
        meta = schema.pandas_metadata or {}
        numpy_types = {
            c.get("field_name"): c.get("numpy_type")
            for c in meta.get("columns", [])
            if isinstance(c, dict)
        }
        return [(field.name, str(numpy_types.get(field.name) or field.type)) for field in schema]

    def read_file(self, path: str, ext: str) -> Any:
        if ext in (".csv", ".tsv"):
            import pandas as pd

            return pd.read_csv(path, sep="\t" if ext == ".tsv" else ",")
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pandas()


PANDAS = PandasFrames()
