"""The ``arrow`` backend: the physical plan on pyarrow (``pyarrow.compute`` kernels, Acero's
multi-threaded hash aggregation, Arrow's stable sort), exactly as pandas computes it.

Tables between its nodes hold Arrow arrays (a frame's pandas arrays until a kernel needs
them: :mod:`.arrays` converts zero-copy where the layouts agree); at each ``Finalize`` the
arrays become pandas' arrays of the fields' dtypes, and the shared finalize builds pandas'
object. What it runs:

* ``Scan``: in-memory frames; parquet through ``pyarrow.dataset`` with only the Scan's
  columns (:mod:`.scan`; CSV is declined, with the reason);
* ``Compute`` / ``Filter``: expressions by ``pyarrow.compute`` with pandas' semantics
  (:mod:`.expressions`, :mod:`.elementwise`, :mod:`.strings`; anything not reproduced exactly
  is declined at ``check_``); a large ``Compute`` over row slices in threads, its shared
  sub-expressions once (:mod:`.threads`), a large ``Filter``'s columns taken in threads;
* ``Select``, ``Limit``; ``OrderBy`` (Arrow's stable sort) and ``GroupAgg`` (Acero's hash
  aggregation, groups in pandas' order) in :mod:`.groupby`;
* islands (``PandasCall``) by pandas' reference kernels over the finalized operands.

ArrowDtype columns (``dtype_backend="pyarrow"``) are the kind family of :mod:`.arrowdtype`:
their expressions run by pandas' own Arrow kernels over the arrays, their relations natively
where Arrow's semantics are pandas' for the type.

The relational nodes (HashJoin, UnionAll, Distinct, TopK) come from the mixin
:class:`.relational.ArrowRelations` (Acero's threaded hash join with pandas' row order rebuilt
from row numbers, ...; pandas' shared implementations where Arrow differs).
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np

from ...ir.expressions import Col, MapDict
from ...lower import (
    Compute,
    Filter,
    Finalize,
    GroupAgg,
    Limit,
    OrderBy,
    Physical,
    Scan,
    Select,
    Table,
    finalize,
)
from ..base import Backend, BackendDeclined, Verdict
from . import arrowdtype
from .arrays import NotArrow, kind_of, positions_of, take, to_arrow, to_pandas
from .elementwise import finalize_map, value_decided, value_decided_consumer
from .expressions import Unsupported, check_output, evaluate, typeof
from .relational import ArrowRelations
from .selection import ArrowSelection
from .threads import as_array, evaluate_all, map_parallel

__all__ = ["ArrowBackend", "BACKEND"]


class _Mismatch(Exception):
    """An input array whose values are not the kind its field's dtype says (a dtype an
    island decided from the values): the node runs by pandas' kernels instead."""


class ArrowBackend(ArrowRelations, ArrowSelection, Backend):
    """pyarrow's kernels over Arrow arrays, multi-threaded where Arrow is (aggregation,
    joins, sorts, reads)."""

    name = "arrow"
    priority = 30

    def available(self) -> Verdict:
        if importlib.util.find_spec("pyarrow") is None:
            return Verdict(False, "pyarrow is not installed (pip install pyarrow)")
        return Verdict(True)

    # the walk: Arrow arrays between nodes, pandas' arrays at each Finalize --------------------
    def run_physical(self, root: Physical) -> Any:
        """The value of the physical plan ``root``: each node once (memoized), each
        ``Finalize`` over its input's arrays converted to the fields' pandas dtypes."""
        memo: dict[int, Any] = {}

        def value(n: Physical) -> Any:
            hit = memo.get(id(n), memo)
            if hit is not memo:
                return hit
            if isinstance(n, Finalize):
                out = finalize(n, _pandas_table(n.input, value(n.input)))
            else:
                visit = getattr(self, f"visit_{type(n).__name__}", None)
                if visit is None:
                    raise BackendDeclined(f"{self.name} has no lowering for {type(n).__name__}")
                out = visit(n, *[value(c) for c in n.inputs])
            memo[id(n)] = out
            return out

        return value(root)

    def supports_physical(self, root: Physical) -> Verdict:
        """The derived support, and no relational node reading a field whose dtype pandas
        decides from the values (:func:`.elementwise.value_decided_consumer`)."""
        verdict = super().supports_physical(root)
        if not verdict:
            return verdict
        reason = value_decided_consumer(root)
        if reason is not None:
            return Verdict(False, f"arrow declines {reason}")
        return verdict

    # leaves, islands, layouts -------------------------------------------------------------------
    def check_Scan(self, n: Scan) -> Verdict:
        from .scan import check_scan

        return check_scan(n)

    def visit_Scan(self, n: Scan) -> Table:
        from .scan import read_scan

        return read_scan(self, n)

    visit_PandasCall = Backend.pandas_call

    def visit_Select(self, n: Select, t: Table) -> Table:
        return t.select(n.names())

    def visit_Limit(self, n: Limit, t: Table) -> Table:
        return t.slice(slice(n.start, n.stop, n.step))

    # expressions --------------------------------------------------------------------------------
    def check_Compute(self, n: Compute) -> Verdict:
        schema = {f.name: f.dtype for f in n.input.schema}
        out = {f.name: f.dtype for f in n.schema}
        for name, e in n.expressions:
            if isinstance(e, Col) and e.name in schema:
                continue  # (a column as it is: its array, any dtype)
            try:
                kind = typeof(e, schema)
            except Unsupported as why:
                return Verdict(False, f"arrow declines Compute: {why}")
            wrong = check_output(kind, out[name])
            if wrong is not None and not value_decided(e, kind, out[name]):
                return Verdict(False, f"arrow declines Compute of {name!r}: {wrong}")
        return Verdict(True)

    def visit_Compute(self, n: Compute, t: Table) -> Table:
        kept = {
            name: e.name for name, e in n.expressions if isinstance(e, Col) and e.name in t.columns
        }
        work = [(name, e) for name, e in n.expressions if name not in kept]
        schema = {f.name: f.dtype for f in n.input.schema}
        pa_work = [(name, e) for name, e in work if arrowdtype.involves(e, schema)]
        work = [(name, e) for name, e in work if not arrowdtype.involves(e, schema)]
        try:  # (ArrowDtype expressions by pandas' ArrowExtensionArray kernels, whole)
            computed = {name: self._evaluate(n.input, e, t) for name, e in pa_work}
            computed.update(evaluate_all(work, self._column(n.input, t), len(t), evaluate))
        except _Mismatch:
            return _reference_compute(n, t)
        work += pa_work
        dtypes = {f.name: f.dtype for f in n.schema}
        for name, e in work:
            values, dtype = computed[name], dtypes[name]
            if isinstance(e, MapDict) and value_decided(e, kind := typeof(e, schema), dtype):
                computed[name] = finalize_map(values, kind)
                continue
            # a missing int/bool: pandas decides the dtype (float64 / object) from these values
            # here, and later steps keep it (a head(0) after this still gives float64)
            narrow = isinstance(dtype, np.dtype) and dtype.kind in "iub"
            if narrow and getattr(values, "null_count", 0) > 0:
                computed[name] = to_pandas(values, dtype)
        cols = {**t.columns, **{name: t.columns[col] for name, col in kept.items()}, **computed}
        return Table({name: cols[name] for name in n.names()}, t.rows)

    def check_Filter(self, n: Filter) -> Verdict:
        try:
            kind = typeof(n.condition, {f.name: f.dtype for f in n.input.schema})
        except Unsupported as why:
            return Verdict(False, f"arrow declines Filter: {why}")
        if kind not in ("bool", arrowdtype.PREFIX + "bool"):
            return Verdict(False, f"arrow declines Filter: a condition of {kind}")
        return Verdict(True)

    def visit_Filter(self, n: Filter, t: Table) -> Table:
        import pyarrow as pa

        try:
            mask = self._evaluate(n.input, n.condition, t)
        except _Mismatch:
            return _reference_filter(n, t)
        if isinstance(mask, np.ndarray):  # (a NumPy bool result of an ArrowDtype expression)
            mask = pa.array(mask)
        if isinstance(mask, pa.ChunkedArray):
            mask = mask.combine_chunks()
        if mask.null_count:  # (bool[pyarrow]: pandas' filter drops a null's row)
            mask = mask.fill_null(False)
        positions = positions_of(mask)
        if len(positions) == len(t):
            return Table(dict(t.columns), t.rows.take(positions))

        def kept(values: Any) -> Any:
            return values.filter(mask) if _is_arrow(values) else take(values, positions)

        names = list(t.columns)
        cols = map_parallel(kept, [t.columns[name] for name in names], len(t))
        return Table(dict(zip(names, cols, strict=True)), t.rows.take(positions))

    def _column(self, node: Physical, t: Table) -> Any:
        """``column(name)``: the Arrow array of ``t``'s column (the table of ``node``),
        raising :class:`_Mismatch` for values not of the kind its field's dtype says."""
        dtypes = {f.name: f.dtype for f in node.schema}

        def column(name: str) -> Any:
            try:
                values = to_arrow(t.columns[name])
            except NotArrow as why:
                raise _Mismatch(str(why)) from why
            if not _matches(values, kind_of(dtypes[name])):
                raise _Mismatch(f"{name!r} holds {values.type}")
            return values

        return column

    def _evaluate(self, node: Physical, e: Any, t: Table) -> Any:
        """``e`` over ``t`` (the table of ``node``) as an Arrow array of ``len(t)`` rows."""
        dtypes = {f.name: f.dtype for f in node.schema}
        if arrowdtype.involves(e, dtypes):  # (pandas' ArrowExtensionArray kernels)
            return arrowdtype.evaluate(e, t.columns, dtypes, len(t))
        return as_array(evaluate(e, self._column(node, t), len(t)), len(t))

    # relations ------------------------------------------------------------------------------
    def check_OrderBy(self, n: OrderBy) -> Verdict:
        from .groupby import check_order_by

        return check_order_by(n)

    def visit_OrderBy(self, n: OrderBy, t: Table) -> Table:
        """Arrow's stable sort; pandas' own for a sort of NumPy's ``kind`` over a key with
        ties (their order is that algorithm's, see :class:`~litsdf_compiler.lower.OrderBy`)."""
        from .groupby import has_ties, run_order_by

        try:
            if not n.stable and has_ties(t.columns[n.keys[0][0]]):
                return self.order_by(n, _pandas_table(n.input, t))  # (NumPy's order of ties)
            return run_order_by(n, t)
        except NotArrow:  # (a key Arrow does not order as pandas: pandas' stable sort)
            return self.order_by(n, _pandas_table(n.input, t))

    def visit_GroupAgg(self, n: GroupAgg, t: Table) -> Table:
        """Acero's hash aggregation when it reproduces ``n`` exactly (:mod:`.groupby`); else
        pandas' groupby over the arrays (``first``, ``last``, ``median``, ``prod``, float
        keys: their pandas semantics are not Arrow's)."""
        from .groupby import native_group_agg, run_group_agg

        if native_group_agg(n):
            try:
                return run_group_agg(n, t)
            except NotArrow:
                pass
        return self.group_agg(n, _pandas_table(n.input, t))


def _is_arrow(values: Any) -> bool:
    import pyarrow as pa

    return isinstance(values, (pa.Array, pa.ChunkedArray))


def _matches(values: Any, kind: str | None) -> bool:
    """Whether the Arrow ``values`` hold the ``kind`` their field's dtype says (integers and
    booleans without a missing value: pandas' would be float64 / object)."""
    import pyarrow as pa

    t = values.type
    if kind is not None and (kind.startswith("int") or kind.startswith("uint")):
        return pa.types.is_integer(t) and values.null_count == 0
    if kind == "bool":
        return pa.types.is_boolean(t) and values.null_count == 0
    if kind == "float64":
        return pa.types.is_floating(t)
    if kind == "str":
        return pa.types.is_string(t) or pa.types.is_large_string(t)
    if kind == "datetime":
        return pa.types.is_timestamp(t) and t.unit == "ns" and t.tz is None
    return False


def _pandas_table(node: Physical, t: Table) -> Table:
    """``t`` with its arrays as pandas' arrays of ``node``'s field dtypes."""
    if not any(_is_arrow(v) for v in t.columns.values()):
        return t
    dtypes = {f.name: f.dtype for f in node.schema}
    cols = {name: to_pandas(v, dtypes.get(name)) for name, v in t.columns.items()}
    return Table(cols, t.rows, t.origin)


def _reference_compute(n: Compute, t: Table) -> Table:
    """``n`` by pandas' reference kernels over the table's pandas arrays (an input array of
    a kind its dtype does not say: pandas decides the result's dtype from the values)."""
    import pandas as pd

    from ...semantics import REFERENCE

    t = _pandas_table(n.input, t)
    frame = pd.DataFrame(dict(t.columns), index=t.rows.index(), copy=False)
    cols = dict(t.columns)
    for name, e in n.expressions:
        holder = frame[[]].copy()
        holder["v"] = REFERENCE.ev(e, frame)
        cols[name] = holder["v"]._values
    return Table({name: cols[name] for name in n.names()}, t.rows)


def _reference_filter(n: Filter, t: Table) -> Table:
    import numpy as np
    import pandas as pd

    from ...semantics import REFERENCE

    t = _pandas_table(n.input, t)
    frame = pd.DataFrame(dict(t.columns), index=t.rows.index(), copy=False)
    mask = np.asarray(REFERENCE.ev(n.condition, frame), dtype=bool)
    return t.take(np.flatnonzero(mask).astype(np.intp))


BACKEND = ArrowBackend()
