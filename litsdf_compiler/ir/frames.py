"""Frame helpers: a relation's value as a DataFrame (a Series is the one column ``SERIES``)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .relations import SERIES

__all__ = ["as_frame"]


def as_frame(value: Any) -> Any:
    """A relation's value as a DataFrame: a Series becomes the single column ``SERIES``.

    Parameters
    ----------
    value : Any
        The value of a relation (a DataFrame or a Series) or a scalar.

    Returns
    -------
    Any
        ``value.to_frame(SERIES)`` for a Series; ``value`` itself otherwise.
    """
    if isinstance(value, pd.Series):
        return value.to_frame(SERIES)
    return value
