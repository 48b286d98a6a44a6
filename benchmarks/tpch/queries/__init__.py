"""The TPC-H-style queries: :data:`QUERIES` by name, in report order."""

from __future__ import annotations

from benchmarks.tpch.queries import joins, scans
from benchmarks.tpch.queries._io import DTYPE_BACKENDS, NUMPY, PYARROW, Query

QUERIES: dict[str, Query] = {query.name: query for query in (*scans.QUERIES, *joins.QUERIES)}

__all__ = ["DTYPE_BACKENDS", "NUMPY", "PYARROW", "QUERIES", "Query"]
