"""Generated values: what the row code generator knows about each Python local it emits.

Inside generated code a value of each pandas dtype is one Python object:

==========  ===========================  ==========================================
kind        pandas dtype                 Python value (missing)
==========  ===========================  ==========================================
``"i"``     int64 (or int32 for fields)  ``int`` (none; a *dynamic* int may be float)
``"f"``     float64                      ``float`` (``nan``)
``"b"``     bool                         ``bool`` (none)
``"s"``     str (pandas 3 StringDtype)   ``str`` (``None``)
``"M"``     datetime64[unit], naive      ``pandas.Timestamp`` (``NaT``)
``"L"``     object lists from ``split``  ``list`` (``None``), internal only
==========  ===========================  ==========================================

A *dynamic* int (``flag`` set) is pandas' value-dependent dtype: int64 (or int32) unless some
row produced a non-integer (a missing value, a float substitute), then float64 for the whole
column. The generated frame code records that in ``F[flag]``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Val", "Decline", "kind_of", "STR", "I64", "F64", "BOOL", "I32"]

STR = pd.StringDtype(na_value=np.nan)
I64 = np.dtype("int64")
I32 = np.dtype("int32")
F64 = np.dtype("float64")
BOOL = np.dtype("bool")


class Decline(Exception):
    """The code generator cannot reproduce pandas exactly for this plan (the reason)."""


@dataclasses.dataclass(frozen=True)
class Val:
    """A value in generated code: a Python expression (a local or a literal) and its type."""

    code: str
    kind: str
    dtype: Any
    flag: int | None = None
    """Index in ``F`` of a dynamic int (see the module docstring); None when static."""
    src: Hashable | None = None
    """The Source column this value is, unchanged (passthrough); None when computed."""
    missing: bool = False
    """A missing literal (``None`` / ``nan``)."""
    literal: Any = None
    """The Python value of a literal (``code`` is its source form); None otherwise."""
    is_lit: bool = False
    stage: int = 0
    """How many filters ran before the value was computed (for pandas' dtype inference)."""
    small: bool = False
    """A dynamic int known to stay below 2**53 in magnitude (a length, a count, a date
    field): its int64 and float64 readings compare alike."""
    row_apply: str | None = None
    """For the results of ``df.apply(func, axis=1)``: the function's name (pandas refuses a
    Series as the first row's result)."""


def kind_of(dtype: Any) -> str | None:
    """The kind of values of ``dtype`` in generated code, or None when not supported."""
    if isinstance(dtype, np.dtype):
        if dtype == I64:
            return "i"
        if dtype == F64:
            return "f"
        if dtype == BOOL:
            return "b"
        if dtype.kind == "M":
            return "M"
        return None
    if isinstance(dtype, pd.StringDtype) and dtype == STR:
        return "s"
    return None


def numeric(v: Val) -> bool:
    return v.kind in ("i", "f")
