"""Reader safety: under which ``read_csv`` / ``read_parquet`` options a rule may narrow a read.

Pushing a projection into ``usecols=`` or a limit into ``nrows=`` is exact only when the
rows a file yields, and how each row parses, do not depend on the columns read or the rows
after the limit. pandas breaks that in many ways, e.g. (all checked against pandas 3.1):

- ``on_bad_lines="skip"``/``"warn"``: with ``usecols`` a line with too many fields is no
  longer bad (its row is kept); with ``nrows`` later bad lines are neither skipped nor warned;
- ``skipfooter`` (the python engine) cannot be combined with ``nrows``, and ``engine="python"``
  with ``usecols`` fails on rows longer than the header (``IndexError``) where the full read
  makes an implicit index; ``sep=None`` (sniffed) and regex separators run that engine too;
- ``header``/``names``/``index_col``/``usecols`` given, ``converters``, ``dialect``,
  ``iterator``/``chunksize`` and the pyarrow engine: labels, index or parsing depend on the
  column positions.

So the rules use an *allow-list*: a read is narrowed only when every option it was given is
one of :data:`CSV_NARROWABLE` with a value the predicate there accepts (an option added to
pandas later is refused until it is checked). Options whose per-column entries must follow
the kept columns (``dtype``, ``parse_dates``, ``na_values``, ``date_format``) are handled by
the projection rule itself; the limit rule has its own, stricter conditions.

Known limit (documented in the rules): with the default ``on_bad_lines="error"`` pandas does
not reject a line with too many fields under ``usecols`` (nor lines after ``nrows``), so a
file malformed *past the sampled head* (the first 1000 rows, read at ``read_csv`` time, where
such a line makes pandas raise at the call as it would) reads where pandas would raise.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import pandas as pd

from ..ir.base import thaw

__all__ = [
    "CSV_NARROWABLE",
    "PARQUET_NARROWABLE",
    "csv_narrowable",
    "csv_implicit_index",
    "parquet_narrowable",
]


def _any(value: Any) -> bool:
    return True


def _single_char_sep(value: Any) -> bool:
    """A one-character separator (a longer one, or ``None``, is a regex / sniffed: python
    engine); not whitespace, which pandas may treat as ``\\s+``."""
    return isinstance(value, str) and len(value) == 1 and not value.isspace()


def _c_engine(value: Any) -> bool:
    return value in (None, "c")


def _error_on_bad_lines(value: Any) -> bool:
    return value == "error"


def _row_numbers(value: Any) -> bool:
    """``skiprows`` as a count or line numbers (a callable sees line numbers too, but is
    arbitrary code)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 0
    return isinstance(value, tuple) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    )


CSV_NARROWABLE: dict[str, Callable[[Any], bool]] = {
    "sep": _single_char_sep,
    "delimiter": _single_char_sep,
    "engine": _c_engine,
    "on_bad_lines": _error_on_bad_lines,
    "skiprows": _row_numbers,
    # per-cell parsing, the same whichever columns are read
    "dtype": _any,
    "true_values": _any,
    "false_values": _any,
    "skipinitialspace": _any,
    "nrows": _any,
    "na_values": _any,
    "keep_default_na": _any,
    "na_filter": _any,
    "skip_blank_lines": _any,
    "parse_dates": _any,
    "date_format": _any,
    "dayfirst": _any,
    "cache_dates": _any,
    "compression": _any,
    "thousands": _any,
    "decimal": _any,
    "lineterminator": _any,
    "quotechar": _any,
    "quoting": _any,
    "doublequote": _any,
    "escapechar": _any,
    "comment": _any,
    "encoding": _any,
    "encoding_errors": _any,
    "low_memory": _any,
    "memory_map": _any,
    "float_precision": _any,
    "dtype_backend": _any,
}
"""``read_csv`` options under which the set of rows and each row's fields do not depend on
which columns (or how many leading rows) are read — checked by differential fuzzing of
``read_csv(**o)[cols]`` against ``read_csv(usecols=cols, **o)`` and of ``.head(n)`` against
``nrows=n`` over files with quoted separators and newlines, comments, blank, short and long
lines. The quoting options are here: they split fields the same way with or without
``usecols``."""


def csv_narrowable(options: tuple[tuple[str, Any], ...]) -> str | None:
    """Why a CSV read with these ``options`` must not be narrowed, or ``None`` when it may.

    Parameters
    ----------
    options : tuple of (str, Any)
        The ``ReadCsv`` node's options.

    Returns
    -------
    str or None
        The first option (and its value) outside :data:`CSV_NARROWABLE`.
    """
    return _outside(options, CSV_NARROWABLE, "read_csv({}) may change which rows the file yields")


PARQUET_NARROWABLE: dict[str, Callable[[Any], bool]] = {
    "engine": lambda v: v in ("auto", "pyarrow"),
    "filters": _any,
    "dtype_backend": _any,
    "storage_options": _any,
}
"""``read_parquet`` options under which reading fewer columns keeps the rows and their
values (pyarrow applies ``filters`` on columns left out of ``columns`` too)."""


def parquet_narrowable(options: tuple[tuple[str, Any], ...]) -> str | None:
    """Why a Parquet read with these ``options`` must not read fewer columns, or ``None``.

    Parameters
    ----------
    options : tuple of (str, Any)
        The ``ReadParquet`` node's options.

    Returns
    -------
    str or None
        The first option (and its value) outside :data:`PARQUET_NARROWABLE`.
    """
    why = "read_parquet({}) is not known to keep rows when narrowed"
    return _outside(options, PARQUET_NARROWABLE, why)


def _outside(
    options: tuple[tuple[str, Any], ...], allowed: dict[str, Callable[[Any], bool]], why: str
) -> str | None:
    """``why`` about the first option that ``allowed`` has no accepting check for."""
    for name, value in options:
        check = allowed.get(name)
        if check is None or not check(value):
            return why.format(f"{name}={value!r}")
    return None


def csv_implicit_index(path: str, options: tuple[tuple[str, Any], ...], version: Any) -> bool:
    """Whether the data rows of the CSV file are longer than its header, so pandas makes the
    leading fields an implicit index (which may even look like a ``RangeIndex``: values
    ``5, 6, 7`` become ``RangeIndex(5, 8)``); an unreadable head counts as one.

    Parameters
    ----------
    path, options, version
        The ``ReadCsv`` node's fields (``version`` keys the memo: a changed file is asked
        again).

    Returns
    -------
    bool
        True when pandas warns that ``index_col=False`` would drop fields of the first row.
    """
    return _implicit_index(path, options, version)


@functools.lru_cache(maxsize=256)
def _implicit_index(path: str, options: tuple[tuple[str, Any], ...], version: Any) -> bool:
    opts = thaw(dict(options))
    opts.update(nrows=1, index_col=False)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pd.read_csv(path, **opts)
    except Exception:  # (the full read decides how to fail)
        return True
    return any("index_col=False" in str(w.message) for w in caught)
