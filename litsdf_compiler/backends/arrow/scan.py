"""``Scan``: in-memory frames as they are (their arrays become Arrow arrays zero-copy when a
kernel needs them), parquet files through ``pyarrow.dataset`` with only the Scan's columns.

A parquet file is read as pandas reads it when the arrays' pandas form is the one
``pandas.read_parquet`` gives: checked from the file's schema (:func:`check_parquet`: a
local file, the pyarrow engine, column types whose conversion is exact here, a RangeIndex
or no index in the pandas metadata); row filters (``filters=``, which predicate pushdown
adds) are the same dataset expression pandas' pyarrow engine builds. CSV files are
declined: pyarrow.csv's type inference and parsing (dates, ``NA`` strings, quoting,
thousands) are not pandas', and proving them equal per option is future work.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from ...files import verify
from ...ir import relations as rel
from ...ir.base import thaw
from ...lower import Rows, Scan, Table
from ..base import Backend, Verdict

__all__ = ["check_scan", "read_scan"]

_OPTIONS = {"engine": ("auto", "pyarrow"), "dtype_backend": ("pyarrow",)}


def check_scan(n: Scan) -> Verdict:
    """Whether the arrow backend reads ``n``'s leaf exactly as pandas does."""
    source = n.source
    if isinstance(source, rel.Source):
        return Verdict(True)
    if isinstance(source, rel.ReadCsv):
        return Verdict(
            False,
            "arrow declines read_csv: pyarrow.csv's parsing and type inference are not "
            "pandas' (pandas' reader runs the file under another backend)",
        )
    if isinstance(source, rel.ReadParquet):
        return check_parquet(source, n)
    return Verdict(False, f"arrow reads no {type(source).__name__}")


def _numpy_type_ok(t: Any) -> bool:
    import pyarrow as pa

    if pa.types.is_timestamp(t):
        return t.tz is None
    return (
        t in (pa.int64(), pa.float64(), pa.bool_())
        or pa.types.is_string(t)
        or pa.types.is_large_string(t)
    )


def check_parquet(source: rel.ReadParquet, n: Scan) -> Verdict:
    """A single local parquet file, options the pyarrow engine reads as given, and column
    types whose pandas form is exact here (from the file's schema, read once)."""
    options = dict(source.options)
    for key, value in options.items():
        if key == "filters":
            try:
                _filter_expression(value)
            except Exception as err:  # (pandas' read raises its own error: pandas runs it)
                return Verdict(False, f"arrow declines read_parquet(filters={value!r}): {err}")
        elif value not in _OPTIONS.get(key, ()):
            return Verdict(False, f"arrow declines read_parquet({key}={value!r})")
    if not os.path.isfile(source.path):
        return Verdict(False, "arrow reads parquet files, not directories or other sources")
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(source.path)
    except Exception:  # (unreadable: the read raises the error, naming the file)
        return Verdict(True)
    meta = schema.pandas_metadata or {}
    index = meta.get("index_columns", [])
    if any(not (isinstance(i, dict) and i.get("kind") == "range") for i in index):
        return Verdict(False, "arrow reads parquet files with a RangeIndex or no index only")
    if "dtype_backend" not in options:
        for label, _ in n.columns:
            if label not in schema.names:
                return Verdict(False, f"column {label!r} is not in the file's schema")
            t = schema.field(label).type
            if not _numpy_type_ok(t):
                return Verdict(False, f"arrow declines parquet column {label!r} of type {t}")
    return Verdict(True)


def read_scan(backend: Backend, n: Scan) -> Table:
    """The table of ``n``'s leaf: a frame's own arrays, or the parquet columns read with
    ``pyarrow.dataset`` (threads on, only these columns)."""
    source = n.source
    if not isinstance(source, rel.ReadParquet):
        return backend.scan_table(n)
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    path = source.path
    verify(path, source.version, "read_parquet")
    labels = [label for label, _ in n.columns]
    try:
        filters = dict(source.options).get("filters")
        table = ds.dataset(path, format="parquet").to_table(
            columns=labels,
            filter=None if filters is None else _filter_expression(filters),
            use_threads=True,
        )
        metadata = pq.read_schema(path).pandas_metadata or {}
    except (pa.ArrowException, OSError, ValueError) as err:
        raise type(err)(f"read_parquet({path!r}): not a readable parquet file: {err}") from err
    verify(path, source.version, "read_parquet")
    length = table.num_rows
    cols = {name: table.column(label) for label, name in n.columns}
    return Table(cols, Rows(_index(metadata, length), length))


def _filter_expression(filters: Any) -> Any:
    """``read_parquet(filters=...)`` as the dataset expression pandas' pyarrow engine builds
    from it (``pyarrow.parquet.filters_to_expression``: the same rows, in file order)."""
    import pyarrow.parquet as pq

    return pq.filters_to_expression(thaw(filters))


def _index(metadata: dict[str, Any], length: int) -> pd.Index | None:
    """The RangeIndex the pandas metadata records (pyarrow's reconstruction), else ``None``
    (a fresh RangeIndex)."""
    for spec in metadata.get("index_columns", []):
        index = pd.RangeIndex(
            spec.get("start", 0), spec.get("stop", 0), spec.get("step", 1), name=spec.get("name")
        )
        if len(index) == length:
            return index
    return None
