"""pandas' reference kernels on a physical stage node: what a stage runs when the data's
dtypes are not the ones it was compiled for (a dtype pandas decides from the values)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...lower import Compute, Filter, Physical, Select, Table
from ...semantics import REFERENCE

__all__ = ["run_reference"]


def _frame(table: Table) -> pd.DataFrame:
    index = table.rows.index()
    cols = {name: pd.Series(v, index=index, copy=False) for name, v in table.columns.items()}
    return pd.DataFrame(cols, index=index, copy=False)


def _values(value: Any, n: int, dtype: Any) -> Any:
    if isinstance(value, pd.Series):
        return value._values
    from .stage import broadcast

    return broadcast(value, n, dtype)


def run_reference(node: Physical, table: Table) -> Table:
    """The table ``node`` (a Compute, Filter or Select) makes of ``table``, computed by
    pandas' reference expression kernels, as pandas computes it."""
    if isinstance(node, Select):
        return table.select(node.names())
    frame = _frame(table)
    if isinstance(node, Filter):
        cond = REFERENCE.ev(node.condition, frame)
        kept = frame[cond]  # (pandas' own errors for a condition it rejects)
        positions = np.flatnonzero(np.asarray(cond, dtype=bool))
        assert len(kept) == len(positions)
        return table.take(positions).select(node.names())
    assert isinstance(node, Compute), type(node).__name__
    memo: dict[Any, Any] = {}
    computed = {
        name: _values(REFERENCE.ev(e, frame, memo), len(table), node.field(name).dtype)
        for name, e in node.expressions
    }
    cols = {f.name: computed.get(f.name, table.columns.get(f.name)) for f in node.schema}
    return Table(cols, table.rows)
