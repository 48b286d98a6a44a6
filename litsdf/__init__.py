"""litsdf: pandas code, compiled. ``import litsdf as pd`` and write ordinary pandas.

Every call is recorded into a logical plan; the plan runs on a backend when a value is
needed. Names litsdf does not define resolve to pandas' own (``pd.Timestamp``, ``pd.NA``,
``pd.api``, ...); pandas functions taking frames run through the fallback path.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pandas as _pd

from litsdf_compiler.files import FileChangedError

from ._config import option_context, options
from ._core import FallbackError, FallbackWarning, fallback_counts, reset_fallback_counts
from .frame import DataFrame
from .groupby import DataFrameGroupBy
from .io import read_csv, read_parquet
from .pipeline import Pipeline, TraceError, compile
from .reshape import concat, merge
from .series import Series

__version__ = "0.1.0"

__all__ = [
    "DataFrame",
    "Series",
    "DataFrameGroupBy",
    "read_csv",
    "read_parquet",
    "FileChangedError",
    "concat",
    "merge",
    "options",
    "option_context",
    "backends",
    "BackendInfo",
    "FallbackWarning",
    "FallbackError",
    "fallback_counts",
    "reset_fallback_counts",
    "NamedAgg",
    "compile",
    "Pipeline",
    "TraceError",
]

NamedAgg = _pd.NamedAgg


class BackendInfo(NamedTuple):
    """One backend: its name, whether it can run here, and why not."""

    name: str
    available: bool
    reason: str


def backends() -> list[BackendInfo]:
    """Every discovered backend with its availability.

    Examples
    --------
    >>> import litsdf
    >>> "pandas" in [b.name for b in litsdf.backends() if b.available]
    True
    """
    from litsdf_compiler.backends import registry

    out = []
    for name, backend in registry().items():
        verdict = backend.available()
        out.append(BackendInfo(name, verdict.ok, verdict.reason))
    return out


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        attr = getattr(_pd, name)
    except AttributeError:
        raise AttributeError(f"module 'litsdf' has no attribute {name!r}") from None
    if (
        callable(attr)
        and not isinstance(attr, type)
        and getattr(attr, "__module__", "").startswith("pandas")
    ):
        return _wrap_function(name, attr)
    return attr


def _wrap_function(name: str, func: Any) -> Any:
    from ._core import fallback

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fallback(f"pandas.{name}", func, *args, **kwargs)

    wrapper.__name__ = name
    wrapper.__doc__ = func.__doc__
    return wrapper
