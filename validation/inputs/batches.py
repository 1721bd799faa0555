"""A sample read in record batches: memory bounded by the batch, not by the file.

Parquet files are read a row group at a time (or a batch of rows, when row groups are larger),
without pyarrow's pre-buffering of the whole file (which held 2.8 GB to read 10M rows, against
0.8 GB a row group at a time); CSV files by pandas' parser in chunks (the values
:func:`validation.inputs.samples.read_table` gives, missing values included). Each batch is a
pandas frame of the columns asked for, with the position of its first row in the file, so that
a summary keyed by row position (:func:`validation.metrics.summaries.row_hash`) does not depend
on how the file was cut. Parquet row counts and row-group offsets come from the file's metadata,
without reading data: a cluster can be given one task per row group.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from validation.errors import DataError

BATCH_ROWS = 1_000_000
"""Rows per batch (project default): 25 numeric columns of a million rows are 200 MB, a few times
that at peak while a batch is summarised; the per-batch overhead is small beside it."""


@dataclass(frozen=True)
class Batch:
    """Rows ``start`` to ``start + len(frame)`` of a file; or, with ``positions``, the rows of
    the file at those positions (a batch some rows were removed from: repeated identifiers)."""

    start: int
    frame: pd.DataFrame
    positions: np.ndarray | None = None

    def row_positions(self) -> np.ndarray:
        """The position in the file of each row of the frame."""
        if self.positions is not None:
            return self.positions
        return np.arange(self.start, self.start + len(self.frame), dtype=np.int64)


def _suffix(path: str | Path) -> str:
    return Path(str(path).split("://", 1)[-1]).suffix.lower()


def parquet_file(path: str | Path) -> Any:
    """A ``pyarrow.parquet.ParquetFile`` of a local path or an fsspec URL (``s3://``, ``gs://``,
    ``file://``, ...: read through fsspec, as :func:`validation.inputs.samples.read_table` reads
    it), without pyarrow's pre-buffering of the whole file."""
    import pyarrow.parquet as pq

    from validation.inputs.storage import is_url

    if is_url(path):
        import fsspec

        filesystem, inner = fsspec.core.url_to_fs(str(path))
        return pq.ParquetFile(inner, filesystem=filesystem, pre_buffer=False)
    return pq.ParquetFile(str(path), pre_buffer=False)


def row_count(path: str | Path) -> int:
    """Rows of a sample file: a parquet file's from its metadata, a CSV file's by pandas' parser
    (the rows :func:`iter_batches` and a whole read give, a short row included), its first column
    in chunks of :data:`BATCH_ROWS`: no frame held."""
    if _suffix(path) in {".parquet", ".pq"}:
        return int(parquet_file(path).metadata.num_rows)
    from validation.inputs.storage import open_binary

    with open_binary(path) as handle:
        first = str(pd.read_csv(handle, nrows=0).columns[0])
    with open_binary(path) as handle:
        return sum(len(chunk) for chunk in pd.read_csv(handle, usecols=[first], dtype=str, chunksize=BATCH_ROWS))


def row_groups(path: str | Path) -> list[tuple[int, int, int]]:
    """A parquet file's row groups as ``(index, first row, rows)``, from its metadata."""
    meta = parquet_file(path).metadata
    groups, start = [], 0
    for i in range(meta.num_row_groups):
        rows = int(meta.row_group(i).num_rows)
        groups.append((i, start, rows))
        start += rows
    return groups


def read_row_group(path: str | Path, index: int, columns: list[str]) -> pd.DataFrame:
    """One row group of a parquet file, the columns asked for."""
    return _to_pandas(parquet_file(path).read_row_group(index, columns=columns))


def _to_pandas(record: Any) -> pd.DataFrame:
    """A pyarrow table or batch as a frame, each Arrow buffer freed once converted, and the memory
    pyarrow's pool kept handed back (it would otherwise hold the last batch's, a batch more)."""
    import pyarrow as pa

    frame = record.to_pandas(split_blocks=True, self_destruct=True)
    del record
    pa.default_memory_pool().release_unused()
    return frame


def iter_batches(path: str | Path, columns: list[str], role: str, *, batch_rows: int = BATCH_ROWS) -> Iterator[Batch]:
    """The ``columns`` of a parquet or CSV file, ``batch_rows`` rows at a time, in file order.

    Raises
    ------
    DataError
        A column the file does not have, or a file that cannot be read, named with its spec key.
    """
    import pyarrow as pa

    suffix = _suffix(path)
    start = 0
    try:
        if suffix in {".parquet", ".pq"}:
            # no pre-buffering: pyarrow would otherwise hold the whole file's column chunks at once
            handle = parquet_file(path)
            missing = [c for c in columns if c not in handle.schema_arrow.names]
            if missing:
                raise DataError(path, missing[0], "is not a column of this file", role)
            meta = handle.metadata
            if all(meta.row_group(i).num_rows <= 2 * batch_rows for i in range(meta.num_row_groups)):
                records: Iterator[Any] = (handle.read_row_group(i, columns=columns) for i in range(meta.num_row_groups))
            else:  # row groups larger than a batch: read in batches of rows
                records = handle.iter_batches(batch_size=batch_rows, columns=columns)
            for record in records:
                frame = _to_pandas(record)
                del record
                yield Batch(start, frame)
                start += len(frame)
        elif suffix in {".csv", ".txt"}:  # pandas' parser in chunks: the values the whole-file reader gives
            from validation.inputs.storage import open_binary

            with open_binary(path) as handle:
                header = set(pd.read_csv(handle, nrows=0).columns)
            missing = [c for c in columns if c not in header]
            if missing:
                raise DataError(path, missing[0], "is not a column of this file", role)
            with open_binary(path) as handle:
                for frame in pd.read_csv(handle, usecols=columns, chunksize=batch_rows):
                    yield Batch(start, frame.reset_index(drop=True)[columns])
                    start += len(frame)
        else:
            raise DataError(path, None, "is neither parquet (.parquet, .pq) nor CSV (.csv, .txt)", role)
    except DataError:
        raise
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(path, None, f"cannot be read in batches ({first})", role) from None
