"""pandas DataFrames and pyarrow Tables, stored as Parquet.

pandas and pyarrow are imported only when a table is written or read. A DataFrame that
Parquet cannot hold (mixed-type object columns, duplicate names, a subclass, no columns) raises
:class:`Unsupported`, and the engine pickles it instead.
"""

from __future__ import annotations

import os
from typing import Any

from headwater.types.pickled import Unsupported
from headwater.types.preview import columns_text


def _write(table: Any) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if table.num_columns == 0:
        # pyarrow 26 can abort the interpreter at exit after reading a column-less file
        raise Unsupported("Parquet is not used for a table without columns")
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


def _read(data: bytes) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pq.read_table(pa.BufferReader(data))


def dataframe_to_parquet(df: Any) -> bytes:
    """Parquet bytes of a DataFrame, index and dtypes kept (pandas metadata)."""
    import pandas as pd
    import pyarrow as pa

    if type(df) is not pd.DataFrame:
        raise Unsupported(f"{type(df).__qualname__} is a DataFrame subclass")
    try:
        return _write(pa.Table.from_pandas(df))
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise Unsupported(f"Parquet cannot hold this DataFrame: {exc}") from exc


def table_to_parquet(table: Any) -> bytes:
    """Parquet bytes of a pyarrow Table."""
    import pyarrow as pa

    try:
        return _write(table)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise Unsupported(f"Parquet cannot hold this Table: {exc}") from exc


def parquet_to_dataframe(data: bytes) -> Any:
    """The DataFrame stored by :func:`dataframe_to_parquet` (or any Parquet bytes)."""
    return _read(data).to_pandas()


def parquet_to_table(data: bytes) -> Any:
    """The pyarrow Table in Parquet bytes."""
    return _read(data)


def preview_frame(df: Any) -> str:
    """``DataFrame 3 rows x 2 cols [a, b]``."""
    rows, cols = df.shape
    return columns_text([str(c) for c in df.columns], f"DataFrame {rows} rows x {cols} cols")


def preview_table(table: Any) -> str:
    """``Table 3 rows x 2 cols [a, b]``."""
    names = [str(n) for n in table.column_names]
    return columns_text(names, f"Table {table.num_rows} rows x {table.num_columns} cols")


def read_table_file(path: str, want: str) -> Any:
    """A ``.parquet`` or ``.csv`` file as a DataFrame (``want="pandas"``) or Table."""
    ext = os.path.splitext(path)[1].lower()
    if ext in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        return table.to_pandas() if want == "pandas" else table
    if ext in (".csv", ".tsv"):
        if want == "pandas":
            import pandas as pd

            return pd.read_csv(path, sep="\t" if ext == ".tsv" else ",")
        import pyarrow.csv as pcsv

        options = pcsv.ParseOptions(delimiter="\t" if ext == ".tsv" else ",")
        return pcsv.read_csv(path, parse_options=options)
    raise ValueError(f"{path} is not a .parquet or .csv file")
