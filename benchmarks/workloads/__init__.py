"""Registry of benchmark workloads.

Every module of this package whose name does not start with ``_`` is a
workload. A workload module defines:

``NAME`` : str, optional
    Name used on the command line and in reports (default: the module name).
``DESCRIPTION`` : str
    One paragraph shown in the report.
``SIZES`` : sequence of int, optional
    Default row counts (default: :data:`DEFAULT_SIZES`).
``QUICK_SIZES`` : sequence of int, optional
    Row counts used by ``--quick`` (default: :data:`DEFAULT_QUICK_SIZES`).
``make_inputs(n_rows, seed) -> dict[str, pandas.DataFrame | str]``
    Deterministic inputs: frames, or paths of files the workload reads (engines pass a
    value that is not a DataFrame through unconverted).
``pandas_like(pd, inputs)``
    The workload in the pandas API, run with ``pd`` = pandas or litsdf.
``polars(pl, inputs)``, optional
    Polars equivalent; ``inputs`` are polars DataFrames.
``duckdb(con, inputs)``, optional
    DuckDB equivalent; ``inputs`` are pyarrow Tables, already registered on
    ``con`` under their keys.
``pipeline(df)``, optional
    For single-input workloads: the function in the pandas API that ``pandas_like`` applies
    to ``inputs["t"]``; the compiled engines (``litsdf.compile``) run it.
``python_row(row)``, optional
    The same computation hand-written for one dict (a floor for row engines).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

DEFAULT_SIZES: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000)
DEFAULT_QUICK_SIZES: tuple[int, ...] = (100, 1_000)

InputMaker = Callable[[int, int], dict[str, Any]]
Implementation = Callable[[Any, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Workload:
    """A benchmark workload, built from a module of this package.

    Attributes
    ----------
    name : str
        Name used on the command line and in reports.
    description : str
        Human-readable description.
    sizes : tuple of int
        Default row counts.
    quick_sizes : tuple of int
        Row counts for ``--quick``.
    make_inputs : callable
        ``make_inputs(n_rows, seed) -> dict[str, pandas.DataFrame | str]``.
    pandas_like : callable
        ``pandas_like(pd, inputs)`` written in the pandas API.
    polars : callable or None
        ``polars(pl, inputs)``, or None when there is no polars version.
    duckdb : callable or None
        ``duckdb(con, inputs)``, or None when there is no DuckDB version.
    module : str
        Dotted name of the defining module.
    pipeline : callable or None
        ``pipeline(df)`` for the compiled engines, or None.
    python_row : callable or None
        ``python_row(row) -> dict | None``, or None.
    """

    name: str
    description: str
    sizes: tuple[int, ...]
    quick_sizes: tuple[int, ...]
    make_inputs: InputMaker
    pandas_like: Implementation
    polars: Implementation | None
    duckdb: Implementation | None
    module: str
    pipeline: Callable[[Any], Any] | None = None
    python_row: Callable[[Any], Any] | None = None


def _from_module(module: ModuleType) -> Workload:
    """Build a :class:`Workload` from a workload module.

    Parameters
    ----------
    module : ModuleType
        The imported workload module.

    Returns
    -------
    Workload
        The workload it defines.

    Raises
    ------
    TypeError
        If a required attribute is missing.
    """
    for required in ("DESCRIPTION", "make_inputs", "pandas_like"):
        if not hasattr(module, required):
            raise TypeError(f"workload module {module.__name__} lacks {required!r}")
    short = module.__name__.rsplit(".", 1)[-1]
    return Workload(
        name=str(getattr(module, "NAME", short)),
        description=" ".join(str(module.DESCRIPTION).split()),
        sizes=tuple(int(s) for s in getattr(module, "SIZES", DEFAULT_SIZES)),
        quick_sizes=tuple(int(s) for s in getattr(module, "QUICK_SIZES", DEFAULT_QUICK_SIZES)),
        make_inputs=module.make_inputs,
        pandas_like=module.pandas_like,
        polars=getattr(module, "polars", None),
        duckdb=getattr(module, "duckdb", None),
        module=module.__name__,
        pipeline=getattr(module, "pipeline", None),
        python_row=getattr(module, "python_row", None),
    )


def discover() -> dict[str, Workload]:
    """Import every workload module of this package.

    Returns
    -------
    dict of str to Workload
        Workloads by name, sorted by name.
    """
    found: dict[str, Workload] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        workload = _from_module(importlib.import_module(f"{__name__}.{info.name}"))
        if workload.name in found:
            raise ValueError(f"duplicate workload name {workload.name!r}")
        found[workload.name] = workload
    return dict(sorted(found.items()))


def select(names: Sequence[str] | None) -> list[Workload]:
    """Workloads by name, all of them when ``names`` is empty or None.

    Parameters
    ----------
    names : sequence of str or None
        Requested workload names.

    Returns
    -------
    list of Workload
        The requested workloads, in the requested order.

    Raises
    ------
    KeyError
        If a name is not a known workload.
    """
    registry = discover()
    if not names:
        return list(registry.values())
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise KeyError(f"unknown workload(s) {', '.join(unknown)}; known: {', '.join(registry)}")
    return [registry[n] for n in names]
