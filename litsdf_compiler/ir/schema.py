"""Output schema of a plan node: column labels and dtypes, index names and dtypes."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from typing import Any

import pandas as pd

__all__ = ["Schema", "dtype_to_json", "dtype_from_json"]


@dataclasses.dataclass(frozen=True, slots=True)
class Schema:
    """Column labels and dtypes plus index level names and dtypes of a relation.

    Examples
    --------
    >>> import pandas as pd
    >>> s = Schema.from_frame(pd.DataFrame({"a": [1], "b": ["x"]}))
    >>> s.names
    ('a', 'b')
    """

    names: tuple[Hashable, ...]
    dtypes: tuple[Any, ...]
    index_names: tuple[Hashable, ...] = (None,)
    index_dtypes: tuple[Any, ...] = (pd.api.types.pandas_dtype("int64"),)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Schema:
        """Schema of a pandas DataFrame (only its labels and dtypes are read)."""
        index = frame.index
        if isinstance(index, pd.MultiIndex):
            idx_dtypes = tuple(index.dtypes)
        else:
            idx_dtypes = (index.dtype,)
        return cls(
            names=tuple(frame.columns),
            dtypes=tuple(frame.dtypes),
            index_names=tuple(index.names),
            index_dtypes=idx_dtypes,
        )

    def __contains__(self, label: object) -> bool:
        return label in self.names

    def dtype(self, label: Hashable) -> Any:
        """Dtype of column ``label``; ``KeyError`` if absent."""
        try:
            return self.dtypes[self.names.index(label)]
        except ValueError:
            raise KeyError(label) from None

    def __str__(self) -> str:
        cols = ", ".join(f"{n}: {d}" for n, d in zip(self.names, self.dtypes, strict=True))
        return f"[{cols}]"


def dtype_to_json(dtype: Any) -> Any:
    """A JSON-able description of a pandas/NumPy dtype that :func:`dtype_from_json` reverses."""
    if isinstance(dtype, pd.CategoricalDtype):
        cats = None if dtype.categories is None else dtype.categories.tolist()
        return {"category": cats, "ordered": bool(dtype.ordered)}
    if isinstance(dtype, pd.StringDtype):
        return {"string": dtype.storage, "na": "nan" if dtype.na_value is not pd.NA else "NA"}
    return str(dtype)


def dtype_from_json(value: Any) -> Any:
    """Rebuild a dtype written by :func:`dtype_to_json`."""
    if isinstance(value, dict) and "category" in value:
        return pd.CategoricalDtype(value["category"], ordered=value["ordered"])
    if isinstance(value, dict) and "string" in value:
        import numpy as np

        na = np.nan if value["na"] == "nan" else pd.NA
        return pd.StringDtype(storage=value["string"], na_value=na)
    return pd.api.types.pandas_dtype(value)
