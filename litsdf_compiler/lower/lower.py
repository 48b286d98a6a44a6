"""Lowering: the logical plan -> the physical plan (memoized per logical plan).

Each logical relation lowers to a :class:`~litsdf_compiler.lower.nodes.Finalize` that says how
its value is built from a physical node's table; a node above reads its input's layout from
that Finalize (label -> internal name) and builds on the physical node under it. A logical
node with an exact physical form has a ``lower_<Node>`` method here; one without (or whose
form does not apply: duplicate labels, an unknown column) becomes a
:class:`~litsdf_compiler.lower.nodes.PandasCall` island. Dtypes come from pandas' metadata
(:func:`litsdf_compiler.meta.meta_of`), once, here.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import pandas as pd
from pandas.api.extensions import no_default

from ..ir import expressions as ex
from ..ir import relations as rel
from ..ir.base import Node, replace_children
from ..meta import meta_of
from .aggregate import decode_aggregate
from .nodes import (
    COLUMN,
    INDEX,
    JOIN_HOWS,
    Compute,
    Distinct,
    Field,
    Filter,
    Finalize,
    GroupAgg,
    HashJoin,
    Labels,
    Limit,
    OrderBy,
    PandasCall,
    Physical,
    Scan,
    Select,
    TopK,
    UnionAll,
)
from .order import relax_order
from .prune import prune

__all__ = ["lower", "LEAVES"]

LEAVES = (rel.Source, rel.ReadCsv, rel.ReadParquet)
"""Logical leaves: each lowers to a :class:`Scan`."""

_LOWERED: OrderedDict[int, tuple[weakref.ref[Node], Finalize]] = OrderedDict()
_LIMIT = 16
"""The last lowerings, by plan identity. Small on purpose: a physical plan holds its
logical leaves (their data), so a large memo would keep frames alive that the user dropped;
a plan is asked about a few times in a row (``supports`` of each backend, then ``execute``)."""


def lower(plan: rel.Relation) -> Finalize:
    """The physical plan of logical ``plan``: its root :class:`Finalize` (memoized by the
    plan's identity for the last few plans).

    Raises
    ------
    Exception
        pandas' own error when the plan's metadata can't be computed (an unknown column, an
        incompatible dtype): the plan can't be lowered, and runs nowhere but in pandas.
    """
    key = id(plan)
    entry = _LOWERED.get(key)
    if entry is not None and entry[0]() is plan:
        _LOWERED.move_to_end(key)
        return entry[1]
    out = relax_order(prune(_Lowering().lower(plan)))
    _LOWERED[key] = (weakref.ref(plan), out)
    while len(_LOWERED) > _LIMIT:
        _LOWERED.popitem(last=False)
    return out


def _kind(meta: Any) -> str:
    if isinstance(meta, pd.DataFrame):
        return "frame"
    if isinstance(meta, pd.Series):
        return "series"
    return "scalar"


class _Lowering:
    """One lowering: the memo of lowered nodes (a shared sub-plan lowers once) and the
    internal names in use (unique in the plan)."""

    def __init__(self) -> None:
        self.memo: dict[int, Finalize] = {}
        self.keep: list[Node] = []  # (the memo is by identity: keep its keys alive)
        self.used: set[str] = set()

    def fresh(self, label: Hashable) -> str:
        """A new internal name, readable when the label is an identifier."""
        base = label if isinstance(label, str) and label.isidentifier() else "c"
        name, k = base, 0
        while name in self.used:
            k += 1
            name = f"{base}_{k}"
        self.used.add(name)
        return name

    def lower(self, n: rel.Relation) -> Finalize:
        hit = self.memo.get(id(n))
        if hit is not None:
            return hit
        method = getattr(self, f"lower_{type(n).__name__}", None)
        out = method(n) if method is not None else None
        if out is None:
            out = self.pandas_call(n)
        self.memo[id(n)] = out
        self.keep.append(n)
        return out

    # layouts ----------------------------------------------------------------------------------
    def finalize_of(self, node: Physical, meta: Any, fields: tuple[str, ...]) -> Finalize:
        """The Finalize of a value of ``meta``'s kind and labels whose fields are ``fields``
        of ``node`` and whose index is the table's row identity."""
        kind = _kind(meta)
        return Finalize(
            input=node,
            kind=kind,
            fields=fields,
            columns=Labels(meta.columns) if kind == "frame" else None,
            name=meta.name if kind == "series" else None,
            index=("rows",),
            schema=node.schema,
        )

    def fields_of(self, meta: Any, names: list[str]) -> tuple[Field, ...]:
        if isinstance(meta, pd.DataFrame):
            return tuple(
                Field(name, dtype, COLUMN) for name, dtype in zip(names, meta.dtypes, strict=True)
            )
        if isinstance(meta, pd.Series):
            return (Field(names[0], meta.dtype, COLUMN),)
        return (Field(names[0], pd.api.types.pandas_dtype(object), COLUMN),)

    @staticmethod
    def row_layout(f: Finalize) -> dict[Hashable, str] | None:
        """label -> internal name of a frame value whose columns are exactly its physical
        node's fields, uniquely labelled, indexed by its row identity; else ``None`` (a
        row-wise step over it has no physical form)."""
        if f.index != ("rows",) or f.fields != f.input.names():
            return None
        if f.kind == "series":  # (a row-wise step sees a Series as the one column SERIES)
            return {rel.SERIES: f.fields[0]}
        if f.kind != "frame" or f.columns is None:
            return None
        labels = f.columns.index
        if not labels.is_unique or isinstance(labels, pd.MultiIndex):
            return None
        return dict(zip(labels, f.fields, strict=True))

    # leaves and islands -----------------------------------------------------------------------
    def lower_Source(self, n: rel.Source) -> Finalize:
        return self._scan(n)

    def lower_ReadCsv(self, n: rel.ReadCsv) -> Finalize:
        return self._scan(n)

    def lower_ReadParquet(self, n: rel.ReadParquet) -> Finalize:
        return self._scan(n)

    def _scan(self, n: rel.Relation) -> Finalize:
        meta = meta_of(n)
        names = [self.fresh(label) for label in meta.columns]
        scan = Scan(
            source=n,
            columns=tuple(zip(meta.columns, names, strict=True)),
            schema=self.fields_of(meta, names),
        )
        return self.finalize_of(scan, meta, tuple(names))

    def pandas_call(self, n: rel.Relation) -> Finalize:
        inputs = tuple(self.lower(c) for c in _relation_inputs(n))
        meta = meta_of(n)
        width = len(meta.columns) if isinstance(meta, pd.DataFrame) else 1
        labels = list(meta.columns) if isinstance(meta, pd.DataFrame) else [meta_name(meta)]
        names = [self.fresh(label) for label in labels[:width]]
        call = PandasCall(node=n, operands=inputs, schema=self.fields_of(meta, names))
        return self.finalize_of(call, meta, tuple(names))

    # row-wise steps ---------------------------------------------------------------------------
    def lower_WithColumns(self, n: rel.WithColumns) -> Finalize | None:
        inp = self.lower(n.input)
        layout = self.row_layout(inp)
        if layout is None:
            return None
        assigned: dict[Hashable, ex.Expr] = {}
        for label, e in n.expressions:
            assigned[label] = e  # (the last assignment of a label wins, as in pandas)
        meta = meta_of(n)
        exprs: dict[Hashable, tuple[str, ex.Expr]] = {}
        for label, e in assigned.items():
            body = _rename(e, layout)
            if body is None:
                return None
            exprs[label] = (self.fresh(label), body)
        names = []
        for label in meta.columns:
            if label in exprs:
                names.append(exprs[label][0])
            elif label in layout:
                names.append(layout[label])
            else:
                return None
        node = Compute(
            input=inp.input,
            expressions=tuple(exprs.values()),
            schema=self.fields_of(meta, names),
        )
        return self.finalize_of(node, meta, tuple(names))

    def lower_Project(self, n: rel.Project) -> Finalize | None:
        inp = self.lower(n.input)
        layout = self.row_layout(inp)
        if layout is None or len({label for label, _ in n.expressions}) != len(n.expressions):
            return None
        meta = meta_of(n)
        names: list[str] = []
        computed: list[tuple[str, ex.Expr]] = []
        for label, e in n.expressions:
            inner = e
            while isinstance(inner, ex.Alias):
                inner = inner.input
            if isinstance(inner, ex.Col) and inner.name in layout:
                name = layout[inner.name]
                if name not in names:
                    names.append(name)
                    continue
            body = _rename(e, layout)
            if body is None:
                return None
            name = self.fresh(label)
            computed.append((name, body))
            names.append(name)
        node: Physical = inp.input
        dtypes = dict(zip(names, self.fields_of(meta, names), strict=True))
        if computed:
            extra = tuple(dtypes[name] for name, _ in computed)
            node = Compute(input=node, expressions=tuple(computed), schema=node.schema + extra)
        if tuple(names) != node.names():
            node = Select(input=node, schema=tuple(dtypes[name] for name in names))
        return self.finalize_of(node, meta, tuple(names))

    def lower_Filter(self, n: rel.Filter) -> Finalize | None:
        inp = self.lower(n.input)
        layout = self.row_layout(inp)
        cond = None if layout is None else _rename(n.condition, layout)
        if cond is None:
            return None
        node = Filter(input=inp.input, condition=cond, schema=inp.input.schema)
        return self.finalize_of(node, meta_of(n), inp.fields)

    def lower_Drop(self, n: rel.Drop) -> Finalize | None:
        inp = self.lower(n.input)
        layout = self.row_layout(inp)
        if layout is None or any(label not in layout for label in n.columns):
            return None
        meta = meta_of(n)
        names = [layout[label] for label in meta.columns]
        node = Select(input=inp.input, schema=tuple(inp.input.field(x) for x in names))
        return self.finalize_of(node, meta, tuple(names))

    def lower_Rename(self, n: rel.Rename) -> Finalize | None:
        inp = self.lower(n.input)
        meta = meta_of(n)
        if inp.kind != "frame" or inp.index != ("rows",) or len(meta.columns) != len(inp.fields):
            return None
        return self.finalize_of(inp.input, meta, inp.fields)  # (labels only: no physical step)

    # sorts ----------------------------------------------------------------------------------
    def lower_Sort(self, n: rel.Sort) -> Finalize | None:
        """pandas sorts several keys with a stable lexsort whatever ``kind`` says, one key
        stably only for ``kind`` ``"stable"`` or ``"mergesort"`` (else ``OrderBy.kind`` is
        NumPy's kind, see :class:`OrderBy`)."""
        inp = self.lower(n.input)
        layout = self.row_layout(inp)
        if layout is None or not n.by or inp.kind != "frame":
            return None
        kind = "stable" if len(n.by) > 1 or n.kind in ("stable", "mergesort") else n.kind
        if kind not in ("stable", "quicksort", "heapsort"):
            return None
        if n.na_position not in ("first", "last") or any(b not in layout for b in n.by):
            return None
        asc = n.ascending if isinstance(n.ascending, tuple) else (n.ascending,) * len(n.by)
        if len(asc) != len(n.by) or not all(type(a) is bool for a in asc):
            return None
        node = OrderBy(
            input=inp.input,
            keys=tuple((layout[b], a) for b, a in zip(n.by, asc, strict=True)),
            na_position=n.na_position,
            ignore_index=n.ignore_index,
            kind=kind,
            schema=inp.input.schema,
        )
        return self.finalize_of(node, meta_of(n), inp.fields)

    def lower_ResetIndex(self, n: rel.ResetIndex) -> Finalize | None:
        """``reset_index(drop=True)``: nothing to do over rows whose identity is already a
        fresh ``RangeIndex`` (a group-by, a join, a sort with ``ignore_index``, a prefix of
        them); a sort resets its own; other inputs stay islands."""
        inp = self.lower(n.input)
        if not n.drop or n.names is not None or inp.index != ("rows",):
            return None
        if inp.kind not in ("frame", "series") or inp.fields != inp.input.names():
            return None
        node = inp.input
        if not _fresh_rows(node):
            if not isinstance(node, OrderBy):
                return None
            node = dataclasses.replace(node, ignore_index=True)
        return dataclasses.replace(inp, input=node)

    # groupby --------------------------------------------------------------------------------
    def lower_Aggregate(self, n: rel.Aggregate) -> Finalize | None:
        inp = self.lower(n.input)
        layout = self.row_layout(inp)
        form = None if layout is None else decode_aggregate(n, list(layout))
        if form is None or layout is None:
            return None
        meta = meta_of(n)
        nk = len(form.keys)
        if n.as_index:
            index = meta.index
            if index.nlevels != nk or form.series != isinstance(meta, pd.Series):
                return None
            levels = list(index.dtypes) if isinstance(index, pd.MultiIndex) else [index.dtype]
            names = tuple(index.names)
            labels = [meta.name] if form.series else list(meta.columns)
        else:  # (the keys are the frame's first columns, the index a fresh RangeIndex)
            if not isinstance(meta, pd.DataFrame) or not isinstance(meta.index, pd.RangeIndex):
                return None
            if list(meta.columns[:nk]) != list(form.keys):
                return None
            levels, names = list(meta.dtypes[:nk]), ()
            labels = list(meta.columns[nk:])
        if any(isinstance(d, pd.CategoricalDtype) for d in levels):
            return None  # (observed / unobserved categories: an island)
        if not form.series and labels != [m.output for m in form.measures]:
            return None
        role = INDEX if n.as_index else COLUMN
        fields = [
            Field(self.fresh(label), dtype, role)
            for label, dtype in zip(form.keys, levels, strict=True)
        ]
        if form.series:
            outputs = [
                self.fresh(meta.name if meta.name is not None else form.measures[0].function)
            ]
            fields.append(Field(outputs[0], meta.dtype, COLUMN))
        else:
            outputs = [self.fresh(m.output) for m in form.measures]
            dtypes = list(meta.dtypes[nk:] if not n.as_index else meta.dtypes)
            fields.extend(
                Field(name, dtype, COLUMN) for name, dtype in zip(outputs, dtypes, strict=True)
            )
        node = GroupAgg(
            input=inp.input,
            keys=tuple(layout[k] for k in form.keys),
            measures=tuple(
                (out, None if m.input is None else layout[m.input], m.function, m.arguments)
                for out, m in zip(outputs, form.measures, strict=True)
            ),
            sort=n.sort,
            dropna=n.dropna,
            schema=tuple(fields),
        )
        if not n.as_index:  # (a frame over the node's fields, indexed by its fresh rows)
            return self.finalize_of(node, meta, node.names())
        kind = _kind(meta)
        return Finalize(
            input=node,
            kind=kind,
            fields=tuple(outputs),
            columns=Labels(meta.columns) if kind == "frame" else None,
            name=meta.name if kind == "series" else None,
            index=("levels", tuple(f.name for f in fields[:nk]), names),
            schema=node.schema,
        )

    # limits -----------------------------------------------------------------------------------
    def _limit(self, n: Any, start: Any, stop: Any, step: Any) -> Finalize | None:
        inp = self.lower(n.input)
        if inp.kind == "scalar" or inp.index != ("rows",) or step == 0:
            return None
        if not all(v is None or type(v) is int for v in (start, stop, step)):
            return None
        node = Limit(input=inp.input, start=start, stop=stop, step=step, schema=inp.input.schema)
        return self.finalize_of(node, meta_of(n), inp.fields)

    def lower_Head(self, n: rel.Head) -> Finalize | None:
        return self._limit(n, None, n.n, None)  # (pandas: ``iloc[:n]``, also for n < 0)

    def lower_Tail(self, n: rel.Tail) -> Finalize | None:
        if type(n.n) is not int:
            return None
        if n.n == 0:
            return self._limit(n, 0, 0, None)  # (pandas: ``iloc[0:0]``)
        return self._limit(n, -n.n, None, None)  # (pandas: ``iloc[-n:]``)

    def lower_Slice(self, n: rel.Slice) -> Finalize | None:
        return self._limit(n, n.start, n.stop, n.step)

    # relations ------------------------------------------------------------------------------
    def lower_Join(self, n: rel.Join) -> Finalize | None:
        """``merge`` on columns (``on``, ``left_on``/``right_on`` or the common columns) with
        ``how`` one of :data:`JOIN_HOWS`: a :class:`HashJoin`. Index joins, ``indicator``,
        ``validate``, key dtypes that differ (pandas casts them), keys that are index levels
        and duplicate labels stay islands."""
        if n.how not in JOIN_HOWS or n.left_index or n.right_index or n.indicator is not False:
            return None
        if n.validate is not None or type(n.sort) is not bool:
            return None
        left, right = self.lower(n.left), self.lower(n.right)
        lay_l, lay_r = self.row_layout(left), self.row_layout(right)
        if lay_l is None or lay_r is None or left.kind != "frame" or right.kind != "frame":
            return None
        meta = meta_of(n)  # (pandas' own error for unknown keys, before any key is read)
        if n.on is not None:
            lkeys, rkeys = n.on, n.on
        elif n.left_on is not None and n.right_on is not None:
            lkeys, rkeys = n.left_on, n.right_on
        elif n.left_on is None and n.right_on is None:
            lkeys = rkeys = tuple(label for label in lay_l if label in lay_r)
        else:
            return None
        if not lkeys or len(lkeys) != len(rkeys) or not meta.columns.is_unique:
            return None
        if len(set(lkeys)) != len(lkeys) or len(set(rkeys)) != len(rkeys):
            return None
        if any(k not in lay_l for k in lkeys) or any(k not in lay_r for k in rkeys):
            return None  # (an index level named as a key)
        lk = tuple(lay_l[k] for k in lkeys)
        rk = tuple(lay_r[k] for k in rkeys)
        if any(
            left.input.field(a).dtype != right.input.field(b).dtype
            for a, b in zip(lk, rk, strict=True)
        ):
            return None
        coalesced = {a: rk[i] for i, a in enumerate(lkeys) if rkeys[i] == a}  # (pandas' ``on``)
        sources: list[tuple[str | None, str | None]] = [
            (lay_l[label], coalesced.get(label)) for label in lay_l
        ]
        sources += [(None, lay_r[label]) for label in lay_r if label not in coalesced]
        if len(sources) != len(meta.columns):
            return None
        names = [self.fresh(label) for label in meta.columns]
        secondary = ("right", "left") if n.how == "right" else ("left", "right")
        node = HashJoin(
            left=left.input,
            right=right.input,
            how=n.how,
            left_keys=lk,
            right_keys=rk,
            order=("keys", *secondary) if n.sort or n.how == "outer" else secondary,
            outputs=tuple((name, a, b) for name, (a, b) in zip(names, sources, strict=True)),
            schema=self.fields_of(meta, names),
        )
        return self.finalize_of(node, meta, tuple(names))

    def lower_Concat(self, n: rel.Concat) -> Finalize | None:
        """``concat`` along rows of frames with the same labels (or of Series) whose fields
        have the same dtypes: a :class:`UnionAll`; other concats (pandas' dtype promotion,
        column alignment, ``sort=True``, along columns) stay islands."""
        if n.axis not in (0, "index", "rows") or n.sort not in (no_default, False):
            return None
        if not n.inputs or type(n.ignore_index) is not bool:
            return None
        parts = [self.lower(c) for c in n.inputs]
        layouts = [self.row_layout(p) for p in parts]
        first = parts[0]
        if any(lay is None for lay in layouts) or first.columns is None:
            return None
        if any(p.kind != "frame" or p.columns != first.columns for p in parts):
            return None
        dtypes = [f.dtype for f in first.input.schema]
        if any([f.dtype for f in p.input.schema] != dtypes for p in parts):
            return None
        meta = meta_of(n)
        if not isinstance(meta, pd.DataFrame) or len(meta.columns) != len(first.fields):
            return None
        names = [self.fresh(label) for label in meta.columns]
        series = list(first.columns.index) == [rel.SERIES]
        node = UnionAll(
            parts=tuple(p.input for p in parts),
            fields=tuple(p.fields for p in parts),
            kind="series" if series else "frame",
            ignore_index=n.ignore_index,
            schema=self.fields_of(meta, names),
        )
        return self.finalize_of(node, meta, tuple(names))

    def lower_DropDuplicates(self, n: rel.DropDuplicates) -> Finalize | None:
        """``drop_duplicates(subset, keep)`` of a frame with unique labels: a
        :class:`Distinct` (any ``keep``, ``ignore_index``)."""
        inp = self.lower(n.input)
        layout = self.row_layout(inp)
        if layout is None or inp.kind != "frame" or n.keep not in ("first", "last", False):
            return None
        if type(n.ignore_index) is not bool:
            return None
        subset = tuple(layout) if n.subset is None else n.subset
        if not subset or any(label not in layout for label in subset):
            return None
        meta = meta_of(n)
        node = Distinct(
            input=inp.input,
            keys=tuple(dict.fromkeys(layout[label] for label in subset)),
            keep=n.keep,
            ignore_index=n.ignore_index,
            schema=inp.input.schema,
        )
        return self.finalize_of(node, meta, inp.fields)

    def lower_TopK(self, n: rel.TopK) -> Finalize | None:
        """``nlargest`` / ``nsmallest`` of a frame with unique labels: a :class:`TopK` (any
        ``keep``)."""
        inp = self.lower(n.input)
        layout = self.row_layout(inp)
        if layout is None or inp.kind != "frame" or type(n.n) is not int:
            return None
        if n.keep not in ("first", "last", "all") or not n.columns:
            return None
        if any(label not in layout for label in n.columns):
            return None
        meta = meta_of(n)  # (pandas' TypeError for a column it can't order)
        node = TopK(
            input=inp.input,
            n=n.n,
            keys=tuple(layout[label] for label in n.columns),
            largest=n.largest,
            keep=n.keep,
            schema=inp.input.schema,
        )
        return self.finalize_of(node, meta, inp.fields)


def _fresh_rows(node: Physical) -> bool:
    """Whether ``node``'s row identity is always a fresh ``RangeIndex`` of its length."""
    while isinstance(node, (Compute, Select)) or (
        isinstance(node, Limit) and node.start in (None, 0) and node.step in (None, 1)
    ):
        node = node.input
    if isinstance(node, (GroupAgg, HashJoin)):
        return True
    return isinstance(node, (OrderBy, UnionAll, Distinct)) and node.ignore_index


def meta_name(meta: Any) -> Hashable:
    """A Series' name, or ``None`` for a scalar."""
    return getattr(meta, "name", None) if isinstance(meta, pd.Series) else None


def _relation_inputs(n: rel.Relation) -> list[rel.Relation]:
    """The logical inputs of ``n`` (a Source's lineage is history, not input)."""
    if isinstance(n, LEAVES):
        return []
    out: list[rel.Relation] = []
    for f in n.__match_args__:
        v = getattr(n, f)
        if isinstance(v, rel.Relation):
            out.append(v)
        elif type(v) is tuple and v and isinstance(v[0], rel.Relation):
            out.extend(v)
    return out


def _rename(e: ex.Expr, layout: dict[Hashable, str]) -> ex.Expr | None:
    """``e`` with every column reference by label turned into one by internal name; ``None``
    when it names a column the layout does not have (pandas raises: an island runs it)."""
    memo: dict[int, Node] = {}
    missing: list[Hashable] = []

    def sub(x: Node) -> Node:
        hit = memo.get(id(x))
        if hit is not None:
            return hit
        if isinstance(x, ex.Col):
            try:
                name = layout.get(x.name)
            except TypeError:  # an unhashable label
                name = None
            if name is None:
                missing.append(x.name)
                out: Node = x
            else:
                out = ex.Col(name)
        else:
            out = replace_children(x, sub) if isinstance(x, ex.Expr) else x
        memo[id(x)] = out
        return out

    out = sub(e)
    return None if missing else out  # type: ignore[return-value]
