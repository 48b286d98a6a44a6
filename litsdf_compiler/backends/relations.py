"""Shared implementations of the relational physical nodes by pandas over a table's arrays.

``HashJoin``, ``UnionAll``, ``Distinct`` and ``TopK`` computed by the pandas call each node
stands for (``merge``, ``concat``, ``duplicated``, ``nlargest``) on frames built from the
input tables' arrays under internal names: exact by construction. A backend opts in with
``visit_HashJoin = Backend.hash_join`` (and so on, see :class:`~.base.Backend`); a native
implementation that computes only the join's row pairs builds the result with
:func:`join_from_indexers` (pandas' own merge result from given row pairs).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..lower import Distinct, HashJoin, Physical, Rows, Table, TopK, UnionAll, to_pandas_array

__all__ = [
    "hash_join",
    "join_from_indexers",
    "union_all",
    "distinct",
    "top_k",
    "frame_of",
    "dtypes_of",
]


def frame_of(t: Table, names: tuple[str, ...] | list[str], dtypes: dict[str, Any]) -> pd.DataFrame:
    """A frame of ``t``'s columns ``names`` (pyarrow arrays converted to their field's pandas
    dtype in ``dtypes``) on a fresh ``RangeIndex``, without copying NumPy/pandas arrays."""
    return pd.DataFrame(
        {k: to_pandas_array(t.columns[k], dtypes.get(k)) for k in dict.fromkeys(names)},
        copy=False,
    )


def dtypes_of(*nodes: Physical) -> dict[str, Any]:
    """The pandas dtype of every field of ``nodes`` by internal name."""
    return {f.name: f.dtype for node in nodes for f in node.schema}


def _join_frames(
    n: HashJoin, left: Table, right: Table
) -> tuple[pd.DataFrame, pd.DataFrame, list[str], list[str]]:
    """The merge operands of ``n`` under names that keep ``n``'s structure: left fields
    ``l:<field>``, right fields ``r:<field>``, a right key coalesced with a left key (pandas'
    ``on``) named like its left key, so pandas combines them exactly as it would."""
    dtypes = dtypes_of(n.left, n.right)
    coalesced = {b: a for _, a, b in n.outputs if a is not None and b is not None}
    lnames = [*(a for _, a, _ in n.outputs if a is not None), *n.left_keys]
    rnames = [b for _, a, b in n.outputs if a is None and b is not None]
    rnames += [b for b in n.right_keys if b not in coalesced]  # (a key no output reads)
    lnames = list(dict.fromkeys(lnames))
    lf = frame_of(left, lnames, dtypes)
    lf.columns = [f"l:{a}" for a in lf.columns]
    rcols = {
        f"r:{b}": to_pandas_array(right.columns[b], dtypes.get(b)) for b in dict.fromkeys(rnames)
    }
    for b, a in coalesced.items():
        rcols[f"l:{a}"] = to_pandas_array(right.columns[b], dtypes.get(b))
    rf = pd.DataFrame(rcols, copy=False)
    left_on = [f"l:{a}" for a in n.left_keys]
    right_on = [f"l:{coalesced[b]}" if b in coalesced else f"r:{b}" for b in n.right_keys]
    return lf, rf, left_on, right_on


def _join_table(n: HashJoin, result: pd.DataFrame) -> Table:
    cols = {
        name: result[f"l:{a}" if a is not None else f"r:{b}"]._values for name, a, b in n.outputs
    }
    return Table(cols, Rows(None, len(result)))


def hash_join(n: HashJoin, left: Table, right: Table) -> Table:
    """``n`` by ``pandas.merge`` over the two tables' arrays."""
    lf, rf, left_on, right_on = _join_frames(n, left, right)
    result = pd.merge(lf, rf, how=n.how, left_on=left_on, right_on=right_on, sort=n.sort)
    return _join_table(n, result)


def join_from_indexers(
    n: HashJoin,
    left: Table,
    right: Table,
    left_rows: np.ndarray,
    right_rows: np.ndarray,
) -> Table | None:
    """The result of ``n`` whose row pairs are given: ``left_rows[i]`` / ``right_rows[i]`` the
    positions of output row ``i``'s left and right rows (``-1``: none), in pandas' order.
    pandas' merge builds the result from them (its fill values and upcasts, its key
    combination), so only the pairs are computed elsewhere. ``None`` when this pandas has no
    merge operation to give them to (the caller then runs :func:`hash_join`)."""
    given = _given_join()
    if given is None:
        return None
    lf, rf, left_on, right_on = _join_frames(n, left, right)
    rows = (np.asarray(left_rows, dtype=np.intp), np.asarray(right_rows, dtype=np.intp))
    op = given(lf, rf, how=n.how, left_on=left_on, right_on=right_on, sort=n.sort)
    op.given = rows
    return _join_table(n, op.get_result())


_GIVEN: list[Any] = []


def _given_join() -> Any:
    """pandas' merge operation with the row pairs given instead of computed (the pattern of
    pandas' own cross merge), or ``None`` when pandas has no such class."""
    if _GIVEN:
        return _GIVEN[0]
    try:
        from pandas.core.reshape.merge import _MergeOperation
    except ImportError:  # pragma: no cover - another pandas layout
        _GIVEN.append(None)
        return None
    if not hasattr(_MergeOperation, "_get_join_indexers"):  # pragma: no cover
        _GIVEN.append(None)
        return None

    class GivenJoin(_MergeOperation):  # type: ignore[misc, valid-type]
        given: tuple[np.ndarray, np.ndarray]

        def _get_join_indexers(self) -> tuple[np.ndarray, np.ndarray]:
            return self.given

    _GIVEN.append(GivenJoin)
    return GivenJoin


def union_all(n: UnionAll, *tables: Table) -> Table:
    """``n`` by ``pandas.concat`` of the parts' arrays (Series for ``kind`` ``"series"``),
    each on its row index."""
    dtypes = dtypes_of(*n.parts)
    names = n.names()
    objs: list[Any] = []
    for fields, t in zip(n.fields, tables, strict=True):
        index = t.rows.index()
        arrays = [to_pandas_array(t.columns[f], dtypes.get(f)) for f in fields]
        if n.kind == "series":
            objs.append(pd.Series(arrays[0], index=index, copy=False))
        else:
            objs.append(
                pd.DataFrame(dict(zip(names, arrays, strict=True)), index=index, copy=False)
            )
    result = pd.concat(objs, ignore_index=n.ignore_index)
    if n.kind == "series":
        cols = {names[0]: result._values}
    else:
        cols = {name: result[name]._values for name in names}
    rows = Rows(None, len(result)) if n.ignore_index else Rows(result.index, len(result))
    return Table(cols, rows)


def distinct(n: Distinct, t: Table) -> Table:
    """``n`` by pandas' ``duplicated(keep)`` over the key arrays."""
    dup = frame_of(t, n.keys, dtypes_of(n.input)).duplicated(keep=n.keep).to_numpy()
    out = t.take(np.flatnonzero(~dup).astype(np.intp))
    return Table(out.columns, out.rows.reset()) if n.ignore_index else out


def top_k(n: TopK, t: Table) -> Table:
    """``n`` by pandas' ``nlargest`` / ``nsmallest`` over the key arrays."""
    frame = frame_of(t, n.keys, dtypes_of(n.input))
    method = frame.nlargest if n.largest else frame.nsmallest
    return t.take(method(n.n, list(n.keys), keep=n.keep).index.to_numpy(dtype=np.intp))
