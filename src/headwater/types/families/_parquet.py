"""What the tabular families share: Parquet bytes through pyarrow, and their previews.

Every tabular family reads every Parquet format, so a frame written by one library can be
read as another's (``parquet-pandas`` as a ``pyarrow.Table`` or a ``polars.DataFrame``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from headwater.storage.blobs import BlobStore
from headwater.types.families.base import (
    Family,
    Literal,
    Refused,
    blob_of,
    expect,
    make_literal,
)
from headwater.types.families.pickled import write_pickle
from headwater.types.families.summaries import (
    PREVIEW_COLUMNS,
    PREVIEW_ROWS,
    Summary,
    blob_key,
    cell,
    opaque,
)
from headwater.types.pickled import Unsupported
from headwater.types.preview import columns_text

TABLE_FILES = "give the path of an existing .parquet or .csv file"


def write_table(table: Any) -> bytes:
    """Parquet bytes of a pyarrow Table."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if table.num_columns == 0:
        # pyarrow 26 can abort the interpreter at exit after reading a column-less file
        raise Unsupported("Parquet is not used for a table without columns")
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


def read_table(data: bytes) -> Any:
    """The pyarrow Table in Parquet bytes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pq.read_table(pa.BufferReader(data))


def shape_text(head: str, rows: int, names: Sequence[str]) -> str:
    """``DataFrame 3 rows x 2 cols [a, b]``."""
    return columns_text([str(n) for n in names], f"{head} {rows} rows x {len(names)} cols")


def table_path(raw: str) -> tuple[str, str]:
    """``(path, extension)`` of an existing ``.parquet``/``.csv``/``.tsv`` file named on the
    command line; :class:`Refused` otherwise."""
    path = os.path.expanduser(raw.strip())
    if not os.path.isfile(path):
        raise Refused(TABLE_FILES)
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".parquet", ".pq", ".csv", ".tsv"):
        raise Refused(
            f"give a readable .parquet or .csv file ({path} is not a .parquet or .csv file)"
        )
    return path, ext


class ParquetFamily(Family):
    """A table library whose values are stored as Parquet bytes."""

    suffix = ".parquet"

    def reads(self, fmt: str) -> bool:
        return fmt.startswith("parquet-")

    def to_parquet(self, value: Any) -> bytes:
        """Parquet bytes of ``value``; :class:`Unsupported` when Parquet cannot hold it."""
        raise NotImplementedError

    def from_parquet(self, data: bytes) -> Any:
        """The library's value of any Parquet bytes."""
        raise NotImplementedError

    def preview(self, value: Any) -> str:
        """The literal's one-line preview of ``value``."""
        raise NotImplementedError

    def read_file(self, path: str, ext: str) -> Any:
        """A ``.parquet`` or ``.csv``/``.tsv`` file on this machine as the library's value."""
        raise NotImplementedError

    def write(self, value: Any, tp: Any, type_text: str, blobs: BlobStore, what: str) -> Literal:
        try:
            raw = self.to_parquet(value)
        except Unsupported as exc:
            return write_pickle(value, type_text, blobs, what, reason=str(exc))
        fmt = self.formats[0]
        return make_literal(fmt, blobs.put_bytes(raw), type_text, len(raw), self.preview(value))

    def read(self, literal: Literal, tp: Any, blobs: BlobStore) -> Any:
        return expect(self.from_parquet(blob_of(literal, blobs)), literal, tp)

    def from_text(self, raw: str, kind: Any) -> Any:
        path, ext = table_path(raw)
        try:
            return self.read_file(path, ext)
        except Exception as exc:
            raise Refused(f"give a readable .parquet or .csv file ({exc})") from None

    def text_is_path(self, text: str) -> bool:
        return True

    def column_types(self, schema: Any) -> list[tuple[str, str]]:
        """(name, dtype) of every column of a Parquet file's Arrow schema, in the words of
        this family's library."""
        return [(field.name, str(field.type)) for field in schema]

    def summarize(self, literal: Literal, blobs: BlobStore) -> Summary:
        """Row count and schema from the Parquet footer, and the first ``PREVIEW_ROWS`` rows
        of the first ``PREVIEW_COLUMNS`` columns (only the start of the file is decoded)."""
        import pyarrow.parquet as pq

        key = blob_key(literal)
        if key is None:
            return opaque(literal, "the Parquet literal has no blob")
        with blobs.open(key) as fh:
            parquet = pq.ParquetFile(fh)
            schema = parquet.schema_arrow
            summary = Summary("table", row_count=parquet.metadata.num_rows)
            summary.columns = self.column_types(schema)
            summary.facts = {
                "Rows": f"{summary.row_count:,}",
                "Columns": f"{len(summary.columns):,}",
            }
            names = schema.names[:PREVIEW_COLUMNS]
            batch = None
            if parquet.num_row_groups:  # only the first row group: a file may hold millions
                batches = parquet.iter_batches(PREVIEW_ROWS, row_groups=[0], columns=names)
                batch = next(iter(batches), None)
            if batch is not None:
                columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
                summary.rows = [
                    [cell(values[r]) for values in columns] for r in range(batch.num_rows)
                ]
        rows = parquet.metadata.num_rows
        summary.truncated = rows > len(summary.rows) or len(schema.names) > len(names)
        return summary
