"""The arrow backend's relational nodes: joins, row concats, ``drop_duplicates`` and top-k on
pyarrow's Acero engine (multi-threaded), with pandas' row order rebuilt from row numbers.

:class:`ArrowRelations` is a mixin of ``visit_`` methods over the physical plan
(:mod:`litsdf_compiler.lower`); the arrow backend class inherits it. Each node is computed
natively where Arrow's semantics are pandas' for the arrays at hand, and by the shared pandas
implementation (:mod:`litsdf_compiler.backends.relations`, exact by construction) where they
are not, decided on the arrays at run time (a plan is never declined for it):

* ``HashJoin``: Acero's hash join computes the row pairs of key columns (integers, floats,
  booleans, strings, timestamps; both sides of one Arrow type, no missing key: pandas matches
  NaN with NaN, Arrow never matches nulls), ``sort_indices`` on the row numbers (and the key
  values, for ``outer`` / ``sort``) rebuilds pandas' order, and pandas' merge builds the
  result from the pairs (its fill values, upcasts and key combination); when every output
  is an ArrowDtype its inputs share, Arrow's ``take`` builds it (nulls for a missing side);
* ``UnionAll``: the parts' columns concatenated when every part has the same NumPy dtype (not
  object) or Arrow type for a column; the row identity is pandas' ``Index.append``;
* ``Distinct``: a hash group-by of the keys (same types as joins; missing keys group
  together, as in pandas) keeping each group's first / last row number, or the rows of
  groups of one for ``keep=False``, in input order;
* ``TopK``: one numeric key (integers, floats; an ArrowDtype one without NaN values),
  ``keep="first"``: ``sort_indices`` by the key
  (descending for ``nlargest``, missing last) and the row number, the first ``n`` rows.

Float keys are normalized (``-0.0`` -> ``0.0``) before hashing, as pandas' hash tables equate
them; result values are always taken from the input arrays, never from Arrow's key columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...lower import Distinct, HashJoin, Rows, Table, TopK, UnionAll
from .. import relations as shared
from .arrays import take, to_arrow
from .arrowdtype import has_nan

__all__ = ["ArrowRelations"]

_MIRROR = {"inner": "inner", "left": "right", "right": "left", "outer": "outer"}
"""The ``how`` of a join with its sides swapped."""

_JOIN_TYPES = {
    "inner": "inner",
    "left": "left outer",
    "right": "right outer",
    "outer": "full outer",
}


def _arrow_key(values: Any) -> Any:
    """``values`` as a pyarrow array fit for hashing and ordering like pandas does, or
    ``None`` (an object, categorical or other array whose equality Arrow may not share)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, np.ndarray):
        if values.dtype.kind not in "biufM":
            return None
        arr: Any = pa.array(values)
    elif isinstance(values, (pa.Array, pa.ChunkedArray)):
        arr = values
    elif isinstance(getattr(values, "dtype", None), (pd.StringDtype, pd.ArrowDtype)):
        try:
            arr = pa.array(values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            return None
    else:  # (categorical, masked, object, ...: pandas' own equality)
        return None
    t = arr.type
    if pa.types.is_dictionary(t) or not (
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_boolean(t)
        or pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_timestamp(t)
    ):
        return None
    if pa.types.is_floating(t):
        if pc.any(pc.is_nan(arr)).as_py():  # (NaN: pandas matches it with NaN and null)
            return None
        arr = pc.add(arr, pa.scalar(0.0, t))  # (-0.0 -> 0.0: pandas' hash tables equate them)
    return arr


def _keys(table: Table, names: tuple[str, ...]) -> list[Any] | None:
    """The Arrow key arrays of ``names`` (``_arrow_key``), or ``None`` when one has none."""
    out = []
    for name in names:
        arr = _arrow_key(table.columns[name])
        if arr is None:
            return None
        out.append(arr)
    return out


def _row_numbers(length: int) -> Any:
    import pyarrow as pa

    return pa.array(np.arange(length, dtype=np.int64))


def _positions(column: Any) -> np.ndarray:
    """An Arrow row-number column as ``intp`` positions (``-1`` where missing)."""
    import pyarrow.compute as pc

    return np.asarray(pc.fill_null(column, -1).to_numpy(), dtype=np.intp)


def join_pairs(n: HashJoin, left: Table, right: Table) -> tuple[np.ndarray, np.ndarray] | None:
    """The row pairs of the join ``n`` in pandas' order, by Acero's hash join: positions in
    ``left`` and ``right`` (``-1``: no row of that side); ``None`` when the key arrays are not
    ones Arrow matches exactly as pandas (see the module docstring)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lkeys, rkeys = _keys(left, n.left_keys), _keys(right, n.right_keys)
    if lkeys is None or rkeys is None:
        return None
    if any(a.type != b.type or a.null_count or b.null_count for a, b in zip(lkeys, rkeys)):
        return None
    lnames = [f"k{i}" for i in range(len(lkeys))]
    rnames = [f"j{i}" for i in range(len(rkeys))]
    lt = pa.table([*lkeys, _row_numbers(len(left))], names=[*lnames, "__l"])
    rt = pa.table([*rkeys, _row_numbers(len(right))], names=[*rnames, "__r"])
    if len(right) > len(left):  # (Acero hashes its right input: the smaller side, then)
        joined = rt.join(
            lt,
            keys=rnames,
            right_keys=lnames,
            join_type=_JOIN_TYPES[_MIRROR[n.how]],
            coalesce_keys=False,
            use_threads=True,
        )
    else:
        joined = lt.join(
            rt,
            keys=lnames,
            right_keys=rnames,
            join_type=_JOIN_TYPES[n.how],
            coalesce_keys=False,
            use_threads=True,
        )
    lrows, rrows = _positions(joined["__l"]), _positions(joined["__r"])
    if n.any_order:  # (no consumer observes the order: Acero's is as good as pandas')
        return lrows, rrows
    if n.order in (("left", "right"), ("right", "left")):
        major, minor = (lrows, rrows) if n.order[0] == "left" else (rrows, lrows)
        width = (len(right) if n.order[0] == "left" else len(left)) + 1
        fits = (max(len(left), len(right)) + 1) * width < 2**62
        if fits and (len(major) == 0 or major.min() >= 0):  # (one int64 key: NumPy sorts it)
            order = np.argsort((major + 1) * width + (minor + 1), kind="stable")
            return lrows[order], rrows[order]
    columns: list[Any] = []
    sort_keys = []
    for part in n.order:
        if part == "keys":
            for i, (a, b) in enumerate(zip(lnames, rnames, strict=True)):
                columns.append(pc.coalesce(joined[a], joined[b]))
                sort_keys.append((f"s{i}", "ascending", "at_end"))
        else:
            columns.append(joined["__l" if part == "left" else "__r"])
            sort_keys.append(("__l" if part == "left" else "__r", "ascending", "at_end"))
    names = [key for key, _, _ in sort_keys]
    order = pc.sort_indices(pa.table(columns, names=names), sort_keys=sort_keys)
    return _positions(joined["__l"].take(order)), _positions(joined["__r"].take(order))


def arrow_join_table(
    n: HashJoin, left: Table, right: Table, left_rows: np.ndarray, right_rows: np.ndarray
) -> Table | None:
    """The result of ``n`` from its row pairs by Arrow's ``take`` when every output field is
    an ArrowDtype its input fields share (pandas' merge takes those arrays with a null for a
    row of the side that has none, and keeps their type; a key both sides name alike is the
    left value where the row has a left row, else the right one); else ``None``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out_dtypes = {f.name: f.dtype for f in n.schema}
    in_dtypes = shared.dtypes_of(n.left, n.right)
    lidx = pa.array(left_rows, type=pa.int64(), mask=left_rows < 0)
    ridx = pa.array(right_rows, type=pa.int64(), mask=right_rows < 0)
    cols: dict[str, Any] = {}
    for name, a, b in n.outputs:
        dtype = out_dtypes[name]
        if not isinstance(dtype, pd.ArrowDtype):
            return None
        taken = []
        for field, table, idx in ((a, left, lidx), (b, right, ridx)):
            if field is None:
                continue
            if in_dtypes.get(field) != dtype:
                return None
            values = table.columns[field]
            if isinstance(values, pd.arrays.ArrowExtensionArray):
                values = to_arrow(values)  # (a frame's ArrowDtype array: its Arrow array)
            is_arrow = isinstance(values, (pa.Array, pa.ChunkedArray))
            if not is_arrow or values.type != dtype.pyarrow_dtype:
                return None
            taken.append(take(values, idx))
        # (a coalesced key: join_pairs has no missing key, so a left row's key is valid)
        cols[name] = taken[0] if len(taken) == 1 else pc.coalesce(*taken)
    return Table(cols, Rows(None, len(left_rows)))


def distinct_rows(n: Distinct, t: Table) -> np.ndarray | None:
    """The positions ``n`` keeps, in input order, by Acero's hash group-by; ``None`` when a
    key array is not one Arrow groups exactly as pandas."""
    import pyarrow as pa
    import pyarrow.compute as pc

    keys = _keys(t, n.keys)
    if keys is None:
        return None
    names = [f"k{i}" for i in range(len(keys))]
    table = pa.table([*keys, _row_numbers(len(t))], names=[*names, "__i"])
    grouped = table.group_by(names, use_threads=True)
    if n.keep is False:
        out = grouped.aggregate([("__i", "min"), ("__i", "count")])
        kept = out["__i_min"].filter(pc.equal(out["__i_count"], 1))
    else:
        kept = grouped.aggregate([("__i", "min" if n.keep == "first" else "max")]).column(-1)
    return np.sort(np.asarray(kept.to_numpy(), dtype=np.intp))


def top_rows(n: TopK, t: Table) -> np.ndarray | None:
    """The positions of ``n``'s rows in order by ``sort_indices``; ``None`` for a form this
    does not reproduce (several keys, ``keep`` other than ``"first"``, a non-numeric key)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(n.keys) != 1 or n.keep != "first":
        return None
    values = t.columns[n.keys[0]]
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
        key: Any = pa.array(values, from_pandas=True)  # (NaN -> null: pandas puts NaN last)
    elif _numeric_arrow(values):  # (ArrowDtype: nulls last, in input order, as pandas)
        key = values
    else:
        return None
    if pa.types.is_floating(key.type):
        key = pc.add(key, pa.scalar(0.0, key.type))
    table = pa.table([key, _row_numbers(len(t))], names=["k", "__i"])
    direction = "descending" if n.largest else "ascending"
    order = pc.sort_indices(
        table, sort_keys=[("k", direction, "at_end"), ("__i", "ascending", "at_end")]
    )
    return np.asarray(order.to_numpy(), dtype=np.intp)[: max(n.n, 0)]


def _numeric_arrow(values: Any) -> bool:
    """Whether ``values`` is an Arrow integer or floating array without a NaN value (a NaN
    value is not a null to pandas' ArrowDtype: it is ordered apart)."""
    import pyarrow as pa

    if not isinstance(values, (pa.Array, pa.ChunkedArray)):
        return False
    t = values.type
    return pa.types.is_integer(t) or (pa.types.is_floating(t) and not has_nan(values))


def _concat(arrays: list[Any]) -> Any:
    """The arrays one after the other when they share a NumPy dtype (not object) or an Arrow
    type, else ``None`` (pandas' concat rules decide)."""
    import pyarrow as pa

    first = arrays[0]
    if isinstance(first, np.ndarray):
        if first.dtype.kind == "O" or not all(
            isinstance(a, np.ndarray) and a.dtype == first.dtype for a in arrays
        ):
            return None
        return np.concatenate(arrays)
    if isinstance(first, (pa.Array, pa.ChunkedArray)):
        if not all(isinstance(a, (pa.Array, pa.ChunkedArray)) for a in arrays):
            return None
        if any(a.type != first.type for a in arrays):
            return None
        chunks = [c for a in arrays for c in (a.chunks if isinstance(a, pa.ChunkedArray) else [a])]
        return pa.chunked_array(chunks, type=first.type)
    return None


class ArrowRelations:
    """Mixin: the arrow backend's ``visit_`` methods for ``HashJoin``, ``UnionAll``,
    ``Distinct`` and ``TopK`` (see the module docstring for what runs natively)."""

    def visit_HashJoin(self, n: HashJoin, left: Table, right: Table) -> Table:
        """``n`` by Acero's hash join and pandas' order rebuilt from the row numbers."""
        pairs = join_pairs(n, left, right)
        if pairs is not None:
            out = arrow_join_table(n, left, right, *pairs)
            if out is None:
                out = shared.join_from_indexers(n, left, right, *pairs)
            if out is not None:
                return out
        return shared.hash_join(n, left, right)

    def visit_UnionAll(self, n: UnionAll, *parts: Table) -> Table:
        """The parts' columns concatenated; pandas' concat where their dtypes differ."""
        columns: dict[str, Any] = {}
        for i, name in enumerate(n.names()):
            values = _concat([t.columns[fields[i]] for fields, t in zip(n.fields, parts)])
            if values is None:
                return shared.union_all(n, *parts)
            columns[name] = values
        length = sum(len(t) for t in parts)
        if n.ignore_index:
            return Table(columns, Rows(None, length))
        first, *rest = [t.rows.index() for t in parts]
        return Table(columns, Rows(first.append(rest) if rest else first, length))

    def visit_Distinct(self, n: Distinct, t: Table) -> Table:
        """The rows ``n`` keeps by a hash group-by of its keys."""
        kept = distinct_rows(n, t)
        if kept is None:
            return shared.distinct(n, t)
        out = t.take(kept)
        return Table(out.columns, out.rows.reset()) if n.ignore_index else out

    def visit_TopK(self, n: TopK, t: Table) -> Table:
        """The first ``n.n`` rows by ``sort_indices`` of the key and the row numbers."""
        rows = top_rows(n, t)
        return shared.top_k(n, t) if rows is None else t.take(rows)
