"""File readers: ``read_csv`` and ``read_parquet`` become plan sources (read when needed).

A missing file raises ``FileNotFoundError`` at the call, as in pandas. The call records the
file's version (:func:`litsdf_compiler.files.file_version`) and reads its schema; the data
is read when a value is needed, and only if the file is still that version: otherwise
:class:`~litsdf_compiler.files.FileChangedError` says what changed (pandas would hold the
data the call saw).
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from litsdf_compiler.files import file_version
from litsdf_compiler.ir.base import freeze
from litsdf_compiler.ir.relations import ReadCsv, ReadParquet

from . import _config
from ._core import fallback
from .frame import DataFrame

__all__ = ["read_csv", "read_parquet"]

_EAGER_CSV = {"chunksize", "iterator"}


def _check_path(path: Any) -> str | None:
    if not isinstance(path, (str, os.PathLike)):
        return None
    text = os.fspath(path)
    if "://" in text:
        return None
    if not os.path.exists(text):
        raise FileNotFoundError(f"[Errno 2] No such file or directory: '{text}'")
    return os.path.abspath(text)


def read_csv(filepath_or_buffer: Any, **kwargs: Any) -> Any:
    """Read a CSV file lazily (``pandas.read_csv`` arguments).

    The header and a sample are read now to know the columns, and the file's version is
    recorded; the file is read in full when a value is needed, and only if it is unchanged.

    Raises
    ------
    FileNotFoundError
        At the call, when the file does not exist.
    litsdf.FileChangedError
        When a value is needed and the file was changed or deleted since the call.

    Examples
    --------
    >>> import litsdf as pd, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = pd.DataFrame({"a": [1, 2]}).to_csv(p, index=False)
    >>> pd.read_csv(p)["a"].sum()
    np.int64(3)
    """
    path = _check_path(filepath_or_buffer)
    try:
        options = tuple(sorted((k, freeze(v)) for k, v in kwargs.items()))
    except TypeError:
        options = None
    if path is None or options is None or _EAGER_CSV & set(kwargs):
        return fallback("read_csv", pd.read_csv, filepath_or_buffer, **kwargs)
    plan = ReadCsv(path, options, file_version(path), narrow=_config.options.narrow_csv_reads)
    return DataFrame._from_plan(plan)._ensure_schema()


def read_parquet(path: Any, columns: Any = None, **kwargs: Any) -> Any:
    """Read a Parquet file or directory dataset lazily (``pandas.read_parquet`` arguments).

    The schema is read and the version of every file is recorded now; the data is read when
    a value is needed, and only if no file changed (see :func:`read_csv`).
    """
    full = _check_path(path)
    try:
        options = tuple(sorted((k, freeze(v)) for k, v in kwargs.items()))
    except TypeError:
        options = None
    if full is None or options is None:
        return fallback("read_parquet", pd.read_parquet, path, columns=columns, **kwargs)
    cols = None if columns is None else tuple(columns)
    plan = ReadParquet(full, cols, options, file_version(full))
    return DataFrame._from_plan(plan)._ensure_schema()
