"""Engines: how a workload is run on pandas, polars, DuckDB and litsdf.

Every engine splits a run into untimed preparation (input conversion,
wrapping, registration) and a timed thunk that computes and materializes the
result.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any

import pandas

from benchmarks.workloads import Workload

Thunk = Callable[[], Any]

#: Engines whose implementation is not ``pandas_like`` and whose results are
#: therefore compared loosely with the pandas reference.
LOOSE_FAMILIES = frozenset({"polars", "duckdb", "rows"})


class Engine(ABC):
    """One way of running workloads.

    Attributes
    ----------
    name : str
        Name on the command line and in reports (``pandas``, ``litsdf-auto``).
    family : str
        ``pandas``, ``polars``, ``duckdb`` or ``litsdf``.
    available : bool
        Whether the engine can run in this environment.
    reason : str
        Why the engine is unavailable (empty when available).
    """

    family: str = ""

    def __init__(self, name: str, available: bool = True, reason: str = "") -> None:
        self.name = name
        self.available = available
        self.reason = reason

    def supports(self, workload: Workload) -> bool:
        """Whether ``workload`` has an implementation for this engine.

        Parameters
        ----------
        workload : Workload
            The workload.

        Returns
        -------
        bool
            True when the workload can run on this engine.
        """
        return True

    def convert(self, inputs: Mapping[str, pandas.DataFrame]) -> Any:
        """Convert the pandas inputs once per (workload, size), untimed.

        Parameters
        ----------
        inputs : mapping of str to pandas.DataFrame
            Generated inputs.

        Returns
        -------
        object
            Engine-specific inputs handed to :meth:`prepare`.
        """
        return inputs

    @abstractmethod
    def prepare(self, workload: Workload, converted: Any) -> Thunk:
        """Do the untimed per-run set-up and return the timed thunk.

        Parameters
        ----------
        workload : Workload
            The workload to run.
        converted : object
            Result of :meth:`convert`.

        Returns
        -------
        callable
            Zero-argument function computing the materialized result.
        """

    def to_pandas(self, result: Any) -> Any:
        """Turn a result into a pandas object or scalar for checking (untimed).

        Parameters
        ----------
        result : object
            Value returned by the thunk.

        Returns
        -------
        object
            pandas DataFrame, Series or scalar.
        """
        return result

    def describe(self) -> dict[str, Any]:
        """JSON-friendly description of the engine.

        Returns
        -------
        dict
            name, family, available and reason.
        """
        return {
            "name": self.name,
            "family": self.family,
            "available": self.available,
            "reason": self.reason,
        }


def _shallow(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Per-run shallow copies: with copy-on-write a workload may assign columns.

    Inputs that are not DataFrames (file paths) are passed through unchanged.
    """
    return {key: _copy(value) for key, value in inputs.items()}


def _copy(value: Any) -> Any:
    """A shallow copy of a DataFrame; any other input (a file path) as is."""
    return value.copy(deep=False) if isinstance(value, pandas.DataFrame) else value


class PandasEngine(Engine):
    """Plain pandas running ``pandas_like``."""

    family = "pandas"

    def prepare(self, workload: Workload, converted: Any) -> Thunk:
        inputs = _shallow(converted)
        return lambda: workload.pandas_like(pandas, inputs)


class PolarsEngine(Engine):
    """Polars running the workload's ``polars`` function."""

    family = "polars"

    def __init__(self, name: str = "polars") -> None:
        try:
            self._pl: Any = importlib.import_module("polars")
        except ImportError as err:
            super().__init__(name, False, f"import polars failed: {err}")
        else:
            super().__init__(name)

    def supports(self, workload: Workload) -> bool:
        return workload.polars is not None

    def convert(self, inputs: Mapping[str, pandas.DataFrame]) -> Any:
        return {
            key: self._pl.from_pandas(value) if isinstance(value, pandas.DataFrame) else value
            for key, value in inputs.items()
        }

    def prepare(self, workload: Workload, converted: Any) -> Thunk:
        impl = workload.polars
        assert impl is not None
        pl = self._pl

        def thunk() -> Any:
            result = impl(pl, converted)
            if isinstance(result, pl.LazyFrame):
                result = result.collect()
            return result

        return thunk

    def to_pandas(self, result: Any) -> Any:
        return result.to_pandas() if hasattr(result, "to_pandas") else result


class DuckDBEngine(Engine):
    """DuckDB running the workload's ``duckdb`` function on Arrow tables."""

    family = "duckdb"

    def __init__(self, name: str = "duckdb") -> None:
        try:
            self._duckdb: Any = importlib.import_module("duckdb")
            self._pa: Any = importlib.import_module("pyarrow")
        except ImportError as err:
            super().__init__(name, False, f"import duckdb/pyarrow failed: {err}")
        else:
            super().__init__(name)

    def supports(self, workload: Workload) -> bool:
        return workload.duckdb is not None

    def convert(self, inputs: Mapping[str, pandas.DataFrame]) -> Any:
        return {
            key: self._pa.Table.from_pandas(value, preserve_index=False)
            if isinstance(value, pandas.DataFrame)
            else value
            for key, value in inputs.items()
        }

    def prepare(self, workload: Workload, converted: Any) -> Thunk:
        impl = workload.duckdb
        assert impl is not None
        con = self._duckdb.connect()
        for key, table in converted.items():
            if isinstance(table, self._pa.Table):  # file paths are read by the SQL itself
                con.register(key, table)
        relation_type = self._duckdb.DuckDBPyRelation

        def thunk() -> Any:
            result = impl(con, converted)
            if isinstance(result, relation_type):
                result = result.to_arrow_table()
            return result

        return thunk

    def to_pandas(self, result: Any) -> Any:
        if hasattr(result, "to_pandas"):
            return result.to_pandas()
        if hasattr(result, "df"):
            return result.df()
        return result


class LitsdfEngine(Engine):
    """litsdf running ``pandas_like`` on one backend (or ``auto``)."""

    family = "litsdf"

    def __init__(self, backend: str, module: Any, available: bool = True, reason: str = "") -> None:
        super().__init__(f"litsdf-{backend}", available, reason)
        self.backend = backend
        self._litsdf = module

    def prepare(self, workload: Workload, converted: Any) -> Thunk:
        litsdf = self._litsdf
        wrapped = {
            key: litsdf.DataFrame(value) if isinstance(value, pandas.DataFrame) else value
            for key, value in _shallow(converted).items()
        }
        backend = self.backend

        def thunk() -> Any:
            with litsdf.option_context(backend=backend, fallback="raise"):
                result = workload.pandas_like(litsdf, wrapped)
                if hasattr(result, "to_pandas"):
                    result = result.to_pandas()
            return result

        return thunk

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "backend": self.backend}


class CompiledEngine(Engine):
    """A ``litsdf.compile`` pipeline of the workload's ``pipeline(df)`` called on the pandas
    input (traced and compiled once, untimed; its first-call cost is reported separately)."""

    family = "litsdf"

    def __init__(self, backend: str, module: Any, available: bool = True, reason: str = "") -> None:
        suffix = "" if backend == "auto" else f"-{backend}"
        super().__init__(f"litsdf-pipe{suffix}", available, reason)
        self.backend = backend
        self._litsdf = module
        self._compiled: dict[tuple[str, tuple[Any, ...]], Any] = {}

    def supports(self, workload: Workload) -> bool:
        return workload.pipeline is not None

    def pipe(self, workload: Workload, frame: pandas.DataFrame) -> Any:
        """The compiled pipeline for ``workload`` on frames with ``frame``'s schema (traced
        in strict mode: a fallback while tracing is an error, not a silent pandas call)."""
        key = (workload.name, tuple(frame.dtypes.items()))
        if key not in self._compiled:
            with self._litsdf.option_context(fallback="raise"):
                self._compiled[key] = self._litsdf.compile(workload.pipeline, example=frame)
        return self._compiled[key]

    def prepare(self, workload: Workload, converted: Any) -> Thunk:
        (frame,) = converted.values()
        pipe = self.pipe(workload, frame)
        backend, litsdf = self.backend, self._litsdf
        if backend == "auto":  # the default options: call it as a user would
            return lambda: pipe(frame)

        def thunk() -> Any:
            with litsdf.option_context(backend=backend):
                return pipe(frame)

        return thunk


class RowEngine(CompiledEngine):
    """``Pipeline.transform_row`` (one row) / ``transform_rows`` (more) on dicts: the input is
    converted to records untimed, as a server receives them."""

    family = "rows"

    def __init__(self, module: Any) -> None:
        super().__init__("rows", module)
        self.name = "litsdf-row"

    def convert(self, inputs: Mapping[str, pandas.DataFrame]) -> Any:
        (frame,) = inputs.values()
        return {"t": frame, "records": frame.to_dict("records")}

    def prepare(self, workload: Workload, converted: Any) -> Thunk:
        pipe = self.pipe(workload, converted["t"])
        records = converted["records"]
        if len(records) == 1:
            row = records[0]
            return lambda: [pipe.transform_row(row)]
        return lambda: pipe.transform_rows(records)

    def to_pandas(self, result: Any) -> Any:
        return pandas.DataFrame([r for r in result if r is not None])


class PythonRowEngine(Engine):
    """The workload's hand-written ``python_row`` over dicts: the floor for row engines."""

    family = "rows"

    def supports(self, workload: Workload) -> bool:
        return workload.python_row is not None

    def convert(self, inputs: Mapping[str, pandas.DataFrame]) -> Any:
        (frame,) = inputs.values()
        return frame.to_dict("records")

    def prepare(self, workload: Workload, converted: Any) -> Thunk:
        func = workload.python_row
        assert func is not None
        return lambda: [r for r in map(func, converted) if r is not None]

    def to_pandas(self, result: Any) -> Any:
        return pandas.DataFrame(result)


def litsdf_engines() -> tuple[list[Engine], str]:
    """The litsdf engines of this environment.

    Returns
    -------
    engines : list of Engine
        ``litsdf-auto`` then one engine per backend of ``litsdf.backends()``
        (unavailable ones carry their reason); empty if litsdf is missing.
    error : str
        The import error when ``import litsdf`` fails, else ``""``.
    """
    try:
        litsdf = importlib.import_module("litsdf")
        backends = list(litsdf.backends())
    except Exception as err:  # any failure makes litsdf unavailable, not fatal
        return [], f"import litsdf failed: {type(err).__name__}: {err}"
    engines: list[Engine] = [LitsdfEngine("auto", litsdf), CompiledEngine("auto", litsdf)]
    for backend in backends:
        for kind in (LitsdfEngine, CompiledEngine):
            engines.append(
                kind(
                    str(backend.name),
                    litsdf,
                    bool(backend.available),
                    "" if backend.available else str(backend.reason),
                )
            )
    engines.append(RowEngine(litsdf))
    return engines, ""


def all_engines() -> list[Engine]:
    """Every known engine, available or not, in report order.

    Returns
    -------
    list of Engine
        pandas, polars, duckdb, then the litsdf engines.
    """
    engines: list[Engine] = [PandasEngine("pandas"), PolarsEngine(), DuckDBEngine()]
    return [*engines, PythonRowEngine("python-row"), *litsdf_engines()[0]]


def resolve(names: list[str] | None) -> list[Engine]:
    """Engines by name; every known one when ``names`` is empty or None.

    ``litsdf-*`` names that cannot be resolved because litsdf does not import
    (or lacks that backend) become unavailable engines carrying the reason, so
    they show up in the report instead of aborting the run.

    Parameters
    ----------
    names : list of str or None
        Requested engine names.

    Returns
    -------
    list of Engine
        Engines in the requested order.

    Raises
    ------
    KeyError
        For an unknown name that does not start with ``litsdf-``.
    """
    known: dict[str, Engine] = {
        e.name: e
        for e in (
            PandasEngine("pandas"),
            PolarsEngine(),
            DuckDBEngine(),
            PythonRowEngine("python-row"),
        )
    }
    lit, lit_error = litsdf_engines()
    known.update((e.name, e) for e in lit)
    if not names:
        chosen = list(known.values())
        if lit_error:
            chosen += [
                _Unavailable(name, "litsdf", lit_error) for name in ("litsdf-auto", "litsdf-pandas")
            ]
        return chosen
    engines: list[Engine] = []
    for name in names:
        if name in known:
            engines.append(known[name])
        elif name.startswith("litsdf-"):
            reason = lit_error or "litsdf.backends() lists no such backend"
            engines.append(_Unavailable(name, "litsdf", reason))
        else:
            raise KeyError(f"unknown engine {name!r}; known: {', '.join(known)}")
    return engines


class _Unavailable(Engine):
    """Placeholder for an engine that cannot run here."""

    def __init__(self, name: str, family: str, reason: str) -> None:
        super().__init__(name, False, reason)
        self.family = family

    def prepare(self, workload: Workload, converted: Any) -> Thunk:
        raise RuntimeError(self.reason)
