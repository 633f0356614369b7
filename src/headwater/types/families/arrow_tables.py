"""pyarrow Tables, stored as Parquet."""

from __future__ import annotations

import sys
from typing import Any

from headwater.types.families._parquet import ParquetFamily, read_table, shape_text, write_table
from headwater.types.pickled import Unsupported


class ArrowTables(ParquetFamily):
    name = "table"
    formats = ("parquet-arrow",)
    library = "pyarrow"

    def owns_class(self, cls: type) -> bool:
        pa = sys.modules.get("pyarrow")
        return pa is not None and issubclass(cls, pa.Table)

    def owns_value(self, value: Any) -> bool:
        pa = sys.modules.get("pyarrow")
        return pa is not None and isinstance(value, pa.Table)

    def to_parquet(self, value: Any) -> bytes:
        import pyarrow as pa

        try:
            return write_table(value)
        except (pa.ArrowException, ValueError, TypeError) as exc:
            raise Unsupported(f"Parquet cannot hold this Table: {exc}") from exc

    def from_parquet(self, data: bytes) -> Any:
        return read_table(data)

    def preview(self, value: Any) -> str:
        return shape_text("Table", value.num_rows, value.column_names)

    def read_file(self, path: str, ext: str) -> Any:
        if ext in (".csv", ".tsv"):
            import pyarrow.csv as pcsv

            options = pcsv.ParseOptions(delimiter="\t" if ext == ".tsv" else ",")
            return pcsv.read_csv(path, parse_options=options)
        import pyarrow.parquet as pq

        return pq.read_table(path)


ARROW = ArrowTables()
