"""Rows to predict from a file, read with a bundle's input schema (``litmus predict``).

A CSV is read the way training read it, told what each column is: numeric inputs as float64
(a blank is a missing value, imputed by the bundle), text and categorical inputs as strings
(a number-looking code stays the string it is), datetime inputs parsed as ISO 8601 (as
:class:`~litmus_automl.TaskData` parses them), bool inputs as ``True`` / ``False``. A parquet
file keeps its types and is converted the same way where it differs. Every problem is an
:class:`InputError` that names the file, the line (the header is line 1) or row, the column
and what was expected.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["InputError", "read_input"]


@dataclass(frozen=True)
class _Origin:
    """The file rows come from, to say where a value is."""

    file: Path
    csv: bool

    def row(self, i: int) -> str:
        """Where row ``i`` (0-based) is: its line in a CSV (the header is line 1)."""
        return f"{self.file} line {i + 2}" if self.csv else f"{self.file} row {i + 1}"


class InputError(ValueError):
    """Input rows that cannot be read with the bundle's schema (names file, line, column)."""


def _is_number(dtype: Any) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _is_text(dtype: Any) -> bool:
    return pd.api.types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype)


def _is_str(dtype: Any) -> bool:
    return pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype)


def _csv_dtype(want: Any) -> Any:
    """What ``read_csv`` is told a column is (None: let it infer, then check)."""
    if _is_number(want):
        return "float64"
    if _is_text(want) or pd.api.types.is_datetime64_any_dtype(want):
        return "str"
    return None


def _first(bad: pd.Series, values: pd.Series, origin: _Origin, column: Hashable) -> str:
    """``"<file> line <n>, column 'c': 'value'"`` of the first ``True`` of ``bad``."""
    i = int(np.flatnonzero(bad.to_numpy(dtype=bool))[0])
    value = values.iloc[i]
    shown = "a missing value" if pd.isna(value) else repr(getattr(value, "item", lambda: value)())
    return f"{origin.row(i)}, column {column!r}: {shown}"


def read_input(path: str | os.PathLike[str], schema: Mapping[Hashable, Any]) -> pd.DataFrame:
    """The rows of a .csv or .parquet file as a frame with the dtypes of ``schema``.

    Parameters
    ----------
    path : path-like
        The file (``.parquet`` / ``.pq``; anything else is read as CSV).
    schema : dict
        Input column -> dtype (the bundle's preprocessing inputs). Other columns of the file
        are kept as read (a label or id column may be there).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    InputError
        A missing or unreadable file, missing columns, or a value that is not what its
        column holds (naming the file, line or row, column and value).
    """
    file = Path(path)
    if not file.is_file():
        raise InputError(f"{file}: no such file")
    if file.suffix.lower() in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(file)
        except Exception as err:  # pyarrow raises many types; name the file
            raise InputError(f"{file}: not a readable parquet file ({err})") from None
        _check_columns(file, frame.columns, schema)
        return _convert(frame, schema, _Origin(file, csv=False))
    return _read_csv(file, schema)


def _check_columns(file: Path, columns: pd.Index, schema: Mapping[Hashable, Any]) -> None:
    missing = [c for c in schema if c not in columns]
    if missing:
        raise InputError(
            f"{file}: missing column(s) {missing} that the bundle reads (it reads "
            f"{list(schema)}; the file has {list(columns)})"
        )


def _read_csv(file: Path, schema: Mapping[Hashable, Any]) -> pd.DataFrame:
    try:
        header = pd.read_csv(file, nrows=0).columns
    except pd.errors.EmptyDataError:
        raise InputError(f"{file}: empty file (no header line)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise InputError(f"{file}: not a readable CSV file ({err})") from None
    _check_columns(file, header, schema)
    dtypes = {c: d for c, want in schema.items() if (d := _csv_dtype(want)) is not None}
    origin = _Origin(file, csv=True)
    try:
        frame = pd.read_csv(file, dtype=dtypes)  # type: ignore[arg-type]
    except (ValueError, pd.errors.ParserError) as err:
        raise InputError(_locate_numbers(dtypes, origin) or f"{file}: {err}") from None
    return _convert(frame, schema, origin)


def _locate_numbers(dtypes: Mapping[Hashable, Any], origin: _Origin) -> str | None:
    """Which value of which numeric column ``read_csv`` could not read as a number."""
    numeric = [c for c, d in dtypes.items() if d == "float64"]
    try:
        raw = pd.read_csv(origin.file, dtype=str, usecols=numeric)  # type: ignore[arg-type]
    except (ValueError, pd.errors.ParserError):
        return None
    for column in numeric:
        values = raw[column]
        bad = values.notna() & pd.to_numeric(values, errors="coerce").isna()
        if bad.any():
            return f"{_first(bad, values, origin, column)} is not a number"
    return None


def _convert(frame: pd.DataFrame, schema: Mapping[Hashable, Any], origin: _Origin) -> pd.DataFrame:
    """``frame`` with each schema column converted to its dtype (a new frame)."""
    out = frame.copy(deep=False)
    for column, want in schema.items():
        out[column] = _column(frame[column], want, column, origin)
    return out


def _column(values: pd.Series, want: Any, column: Hashable, origin: _Origin) -> pd.Series:
    got = values.dtype
    if got == want:
        return values
    if want == np.dtype("float64"):
        if not _is_number(got):
            raise InputError(f"{origin.file}: column {column!r} holds {got} values, not numbers")
        return values.astype("float64")
    if _is_number(want):  # an integer input (a bundle from before ints were read as float)
        number = pd.to_numeric(values, errors="coerce")
        bad = number.isna() | (number != np.round(number))
        if bad.any():
            raise InputError(
                f"{_first(bad, values, origin, column)}: the bundle reads {want} here, which "
                "cannot be missing or fractional"
            )
        return number.astype(want)
    if pd.api.types.is_datetime64_any_dtype(want):
        return _datetimes(values, want, column, origin)
    if _is_text(want):
        if not (_is_str(got)):
            raise InputError(f"{origin.file}: column {column!r} holds {got} values, not text")
        return values.astype(want)
    if pd.api.types.is_bool_dtype(want):
        bad = ~values.isin([True, False])
        if bad.any():
            raise InputError(f"{_first(bad, values, origin, column)} is not True or False")
        return values.astype(want)
    raise InputError(f"{origin.file}: column {column!r} has dtype {got}; the bundle reads {want}")


def _datetimes(values: pd.Series, want: Any, column: Hashable, origin: _Origin) -> pd.Series:
    if not pd.api.types.is_datetime64_any_dtype(values.dtype):
        if not (_is_str(values.dtype)):
            raise InputError(f"{origin.file}: column {column!r} holds {values.dtype}, not dates")
        parsed = pd.to_datetime(values, format="ISO8601", errors="coerce")
        bad = values.notna() & parsed.isna()
        if bad.any():
            raise InputError(f"{_first(bad, values, origin, column)} is not an ISO 8601 date")
        values = parsed
    if getattr(values.dtype, "tz", None) != getattr(want, "tz", None):
        raise InputError(
            f"{origin.file}: column {column!r} has dates with time zone "
            f"{getattr(values.dtype, 'tz', None)}; the bundle reads {want}"
        )
    return values.astype(want)
