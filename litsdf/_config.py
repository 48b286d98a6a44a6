"""``litsdf.options``: the default backend, the fallback policy and the size thresholds."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["Options", "options", "option_context"]

_FALLBACK_MODES = ("warn", "raise", "silent")


class Options:
    """Global settings.

    Attributes
    ----------
    backend : str
        ``"auto"`` (the selector picks) or a backend name from :func:`litsdf.backends`.
    fallback : {"warn", "raise", "silent"}
        What happens when pandas API that litsdf does not trace is called: run it in pandas
        and warn with :class:`litsdf.FallbackWarning`, raise :class:`litsdf.FallbackError`, or
        run it silently.
    optimize : bool
        Run the plan optimizer before executing (default True); ``False`` runs the plan as
        traced.
    rows_max_rows : int
        Under ``backend="auto"``, inputs of at most this many rows run on the generated row
        kernel (``rows``) when it supports the plan. Measured by ``litsdf calibrate``.
    numba_min_rows : int
        Under ``backend="auto"``, inputs of at least this many rows run on ``numba`` when it
        supports the plan; sizes in between run on pandas. Measured by ``litsdf calibrate``.
    narrow_csv_reads : bool
        Let the optimizer read only the columns and leading rows a program uses from the CSV
        files read while this is set (``usecols=``, ``nrows=``). Default False: that is exact
        only for well-formed files, since pandas' full read raises on a line with more fields
        than the header, or a value that fails its ``dtype``, anywhere in the file. Parquet
        reads are always narrowed (exact).

    Examples
    --------
    >>> import litsdf
    >>> litsdf.options.fallback = "raise"
    >>> litsdf.options.fallback = "warn"
    """

    __slots__ = ("_backend", "_fallback", "_narrow_csv_reads", "_optimize")

    def __init__(self) -> None:
        self._backend = "auto"
        self._fallback = "warn"
        self._optimize = True
        self._narrow_csv_reads = False

    @property
    def narrow_csv_reads(self) -> bool:
        return self._narrow_csv_reads

    @narrow_csv_reads.setter
    def narrow_csv_reads(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise ValueError(f"options.narrow_csv_reads must be True or False; got {value!r}")
        self._narrow_csv_reads = value

    @property
    def optimize(self) -> bool:
        return self._optimize

    @optimize.setter
    def optimize(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise ValueError(f"options.optimize must be True or False; got {value!r}")
        self._optimize = value

    @property
    def backend(self) -> str:
        return self._backend

    @backend.setter
    def backend(self, value: str) -> None:
        from litsdf_compiler.backends import registry

        if value != "auto" and value not in registry():
            known = ", ".join(["auto", *registry()])
            raise ValueError(f"options.backend must be one of {known}; got {value!r}")
        self._backend = value

    @property
    def fallback(self) -> str:
        return self._fallback

    @fallback.setter
    def fallback(self, value: str) -> None:
        if value not in _FALLBACK_MODES:
            raise ValueError(f"options.fallback must be one of {_FALLBACK_MODES}; got {value!r}")
        self._fallback = value

    @property
    def rows_max_rows(self) -> int:
        from litsdf_compiler import selector

        return selector.thresholds().rows_max_rows

    @rows_max_rows.setter
    def rows_max_rows(self, value: int) -> None:
        from litsdf_compiler import selector

        selector.set_thresholds(rows_max_rows=value)

    @property
    def numba_min_rows(self) -> int:
        from litsdf_compiler import selector

        return selector.thresholds().numba_min_rows

    @numba_min_rows.setter
    def numba_min_rows(self, value: int) -> None:
        from litsdf_compiler import selector

        selector.set_thresholds(numba_min_rows=value)

    def __repr__(self) -> str:
        return (
            f"Options(backend={self.backend!r}, fallback={self.fallback!r}, "
            f"optimize={self.optimize!r}, rows_max_rows={self.rows_max_rows}, "
            f"numba_min_rows={self.numba_min_rows}, "
            f"narrow_csv_reads={self.narrow_csv_reads!r})"
        )


options = Options()


@contextlib.contextmanager
def option_context(**settings: Any) -> Iterator[Options]:
    """Set options inside a ``with`` block and restore them afterwards.

    Examples
    --------
    >>> import litsdf
    >>> with litsdf.option_context(backend="pandas", fallback="raise"):
    ...     pass
    """
    old = {k: getattr(options, k) for k in settings}
    try:
        for k, v in settings.items():
            if not hasattr(options, k):
                raise AttributeError(f"unknown option {k!r}")
            setattr(options, k, v)
        yield options
    finally:
        for k, v in old.items():
            setattr(options, k, v)
