"""Column-role inference and the reading of a ``TaskData`` input (frame or file)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROLES = ("numeric", "categorical", "text", "datetime", "id", "ignore")
FEATURE_ROLES = frozenset({"numeric", "categorical", "text", "datetime"})
_ID_NAME = re.compile(r"(^id$)|(_id$)|(^unnamed: ?\d+$)|(^index$)", re.IGNORECASE)
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)


def read_frame(value: Any, what: str) -> pd.DataFrame:
    """A pandas DataFrame from a pandas / litsdf frame or a .csv / .parquet path."""
    if isinstance(value, pd.DataFrame):
        return value
    if isinstance(value, (str, os.PathLike)):
        return _read_path(Path(value), what)
    to_pandas = getattr(value, "to_pandas", None)
    if callable(to_pandas):  # a litsdf DataFrame (or any frame that converts itself)
        frame = to_pandas()
        if isinstance(frame, pd.DataFrame):
            return frame
    raise TypeError(
        f"{what} must be a pandas or litsdf DataFrame or a .csv/.parquet path, "
        f"got {type(value).__name__}"
    )


def _read_path(path: Path, what: str) -> pd.DataFrame:
    if not path.exists():
        raise FileNotFoundError(f"{what}: no such file: {str(path)!r}")
    suffixes = [s.lower() for s in path.suffixes]
    try:
        if ".parquet" in suffixes or ".pq" in suffixes:
            return pd.read_parquet(path)
        if ".csv" in suffixes:
            return pd.read_csv(path)
    except Exception as exc:  # pandas raises many types; name the file
        raise ValueError(f"{what}: could not read {str(path)!r}: {exc}") from exc
    raise ValueError(f"{what}: {str(path)!r} is not a .csv or .parquet file")


def is_string_like(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series.dtype) or series.dtype == object


def looks_like_iso_dates(series: pd.Series) -> bool:
    """Whether a string column holds ISO dates only (e.g. read from a csv)."""
    values = series.dropna()
    if not is_string_like(series) or len(values) == 0:
        return False
    sample = values.iloc[:200].astype(str)
    return bool(sample.str.match(_ISO_DATE).all()) and bool(
        values.astype(str).str.match(_ISO_DATE).all()
    )


def infer_role(name: Any, series: pd.Series) -> str:
    """The role of a column from its dtype, name and values (see ``TaskData``)."""
    values = series.dropna()
    unique = len(values) > 0 and values.nunique() == len(values) == len(series)
    if unique and _ID_NAME.search(str(name)):
        return "id"
    if unique and pd.api.types.is_integer_dtype(series.dtype) and len(values) >= 20:
        arr = values.to_numpy()
        if arr[0] in (0, 1) and (np.diff(arr) == 1).all():  # 0, 1, 2, ...: a saved row number
            return "id"
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "numeric"
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if looks_like_iso_dates(series):
        return "datetime"
    sample = values if len(values) <= 10_000 else values.sample(10_000, random_state=0)
    text = sample.astype(str)
    if len(text) and (
        float(np.median(text.str.split().str.len())) >= 3 or float(text.str.len().mean()) >= 30
    ):
        return "text"
    if unique and len(values) > 1:
        return "id"
    return "categorical"
