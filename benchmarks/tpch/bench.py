"""Run the TPC-H-style queries on the harness' engines: ``python -m benchmarks tpch``.

Each (dtype backend, query) is one case of the harness (:func:`benchmarks.runner.run_size`):
every engine runs once untimed and is checked (litsdf exactly against pandas, Polars and
DuckDB loosely), then ``repeat`` timed rounds interleave the engines. The queries read the
Parquet files inside the timed region (``pd.read_parquet``, ``polars.scan_parquet``, DuckDB's
``read_parquet``), as a program that starts from the files does.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from benchmarks import runner
from benchmarks.engines import Engine, PandasEngine
from benchmarks.tpch import data
from benchmarks.tpch.queries import QUERIES, Query
from benchmarks.workloads import Workload

KIND = "tpch"
DEFAULT_ENGINES = ("pandas", "litsdf-auto", "litsdf-arrow", "polars", "duckdb")
QUICK_SF = 0.01


def select(names: Sequence[str] | None) -> list[Query]:
    """Queries by name, all of them when ``names`` is empty or None.

    Parameters
    ----------
    names : sequence of str or None
        ``q1``, ``q3``, ... (report order is the order given).

    Returns
    -------
    list of Query
        The queries.

    Raises
    ------
    KeyError
        If a name is not a known query.
    """
    if not names:
        return list(QUERIES.values())
    unknown = [name for name in names if name not in QUERIES]
    if unknown:
        raise KeyError(f"unknown TPC-H query {', '.join(unknown)}; known: {', '.join(QUERIES)}")
    return [QUERIES[name] for name in names]


def workload(query: Query, paths: Mapping[str, str], dtype_backend: str) -> Workload:
    """The harness workload running ``query`` over the files ``paths``.

    Parameters
    ----------
    query : Query
        The query.
    paths : mapping of str to str
        Table name to Parquet file.
    dtype_backend : str
        ``"numpy"`` or ``"pyarrow"``: how ``pandas_like`` reads the files.

    Returns
    -------
    Workload
        Its inputs are the paths of the tables the query reads and the dtype backend.
    """
    inputs = {table: paths[table] for table in query.tables} | {"dtype_backend": dtype_backend}
    return Workload(
        name=f"tpch-{query.name}",
        description=query.description,
        sizes=(1,),
        quick_sizes=(1,),
        make_inputs=lambda _rows, _seed: dict(inputs),
        pandas_like=query.pandas_like,
        polars=query.polars,
        duckdb=query.duckdb,
        module=query.pandas_like.__module__,
    )


def run(
    sf: float,
    queries: Sequence[Query],
    engines: Sequence[Engine],
    dtype_backends: Sequence[str],
    repeat: int,
    generate: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run every (dtype backend, query, engine) case at scale factor ``sf``.

    Parameters
    ----------
    sf : float
        TPC-H scale factor.
    queries : sequence of Query
        The queries.
    engines : sequence of Engine
        The engines (unavailable ones are recorded, not run).
    dtype_backends : sequence of str
        ``"numpy"`` and/or ``"pyarrow"``.
    repeat : int
        Timed runs per case.
    generate : bool, default True
        Generate the data set when it is missing (else :class:`data.TpchDataMissing`).
    progress : callable, optional
        Called with one line per finished case.

    Returns
    -------
    dict
        The results document: machine, config, engines, queries and one record per case
        (``query``, ``dtype_backend``, ``engine``, ``status``, ``times_s``, ``median_s``,
        ``check``, ``error``).
    """
    say = progress or (lambda _line: None)
    paths = data.ensure(sf, generate=generate, log=progress is not None)
    # the modules imported so far (pandas, pyarrow, polars, numba, litsdf...) are never
    # garbage: keep them out of the collections each timed run starts with (~0.1 s each)
    gc.freeze()
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    for dtype_backend in dtype_backends:
        for query in queries:
            case = workload(query, paths, dtype_backend)
            inputs = case.make_inputs(1, 0)
            reference: Any = None
            try:
                reference = PandasEngine("pandas").prepare(case, inputs)()
            except Exception as err:  # the engines then run unchecked
                say(f"{query.name} [{dtype_backend}]: pandas reference failed: {err}")
            records = runner.run_size(engines, case, inputs, reference, repeat, calibrate=False)
            for engine, record in zip(engines, records, strict=True):
                results.append(
                    {"query": query.name, "dtype_backend": dtype_backend, "engine": engine.name}
                    | record
                )
                say(_line(query.name, dtype_backend, engine.name, record))
    return {
        "kind": KIND,
        "schema": runner.SCHEMA_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": runner.machine_info(),
        "config": {
            "sf": data.sf_label(sf),
            "queries": [q.name for q in queries],
            "dtype_backends": list(dtype_backends),
            "engines": [e.name for e in engines],
            "repeat": repeat,
            "data": str(data.data_dir(sf)),
        },
        "engines": [e.describe() for e in engines],
        "queries": {
            q.name: {"description": q.description, "tables": list(q.tables)} for q in queries
        },
        "results": results,
        "elapsed_s": time.perf_counter() - started,
    }


def _line(query: str, dtype_backend: str, engine: str, record: dict[str, Any]) -> str:
    """Human-readable summary of one case."""
    head = f"tpch {query:<4} {dtype_backend:<7} {engine:<14}"
    if record["status"] != "ok":
        return f"{head} {record['status']}: {record['error']}"
    return (
        f"{head} {record['median_s'] * 1e3:10.1f} ms  ({len(record['times_s'])} runs)  "
        f"check {record['check']}"
    )
