"""Relational plan nodes: sources, projections, filters, groupbys, joins, sorts, limits.

Field names follow Substrait where one exists (``input``, ``left``/``right``, ``condition``,
``expressions``); parameters that mirror a pandas argument keep pandas' name. List and dict
arguments are stored as tuples so every node is hashable.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from typing import Any, NamedTuple

from pandas.api.extensions import no_default

from .base import Node, node
from .expressions import Expr

__all__ = [
    "Relation",
    "DataRef",
    "Source",
    "ReadCsv",
    "ReadParquet",
    "Project",
    "WithColumns",
    "Filter",
    "Drop",
    "Rename",
    "Head",
    "Tail",
    "Slice",
    "Sort",
    "SortIndex",
    "TopK",
    "Aggregate",
    "Measure",
    "AGG_FORMS",
    "AGG_SELECTIONS",
    "AGG_SHAPES",
    "FrameReduce",
    "ScalarResult",
    "Join",
    "IndexJoin",
    "Concat",
    "SetIndex",
    "ResetIndex",
    "DropDuplicates",
    "DropNa",
    "FrameElementwise",
    "Describe",
    "SeriesMethod",
    "GROUP_REDUCTIONS",
    "SERIES",
    "FRAME_ELEMENTWISE",
    "SERIES_METHODS",
]

SERIES = "__litsdf_series__"
"""Column label under which a Series-valued relation carries its values."""

FRAME_ELEMENTWISE = frozenset(
    {"fillna", "isna", "notna", "astype", "abs", "round", "clip", "replace", "where", "mask"}
)


SERIES_METHODS = frozenset(
    {
        "sort_values",
        "sort_index",
        "value_counts",
        "describe",
        "drop_duplicates",
        "dropna",
        "nlargest",
        "nsmallest",
        "reset_index",
        "to_frame",
        "unique",
    }
)


GROUP_REDUCTIONS = (
    "sum",
    "mean",
    "count",
    "min",
    "max",
    "std",
    "var",
    "median",
    "nunique",
    "first",
    "last",
    "prod",
    "size",
    "any",
    "all",
    "sem",
)
"""GroupBy methods traced as ``Aggregate(form="method")``: ``gb.<name>(**kwargs)``."""

AGG_FORMS = ("method", "agg", "agg_list", "agg_dict", "agg_named")
"""How ``Aggregate`` called pandas: ``gb.<f>(**arguments)``, ``gb.agg(f)``,
``gb.agg([f, ...])``, ``gb.agg({column: f or [f, ...]})``, ``gb.agg(out=(column, f))``."""

AGG_SELECTIONS = ("all", "frame", "series")
"""``Aggregate.selection``: ``gb``, ``gb[[labels]]`` or ``gb[label]``."""

AGG_SHAPES = ("series", "frame", "multi")
"""``Aggregate.shape``: a Series (named ``measures[0].output``), a frame with one column per
measure (flat labels), or a frame whose columns are a ``(column, function)`` MultiIndex."""


class Relation(Node):
    """Base of relational nodes (each produces a pandas-shaped table)."""

    __slots__ = ()
    _relational = True


class DataRef:
    """An in-memory pandas object inside a plan, compared by a token, not by contents.

    The token survives JSON serialization, so a deserialized plan equals the original.
    """

    __slots__ = ("data", "token")

    def __init__(self, data: Any, token: str | None = None) -> None:
        self.data = data
        self.token = token or uuid.uuid4().hex

    def __hash__(self) -> int:
        return hash(self.token)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DataRef) and other.token == self.token

    def __repr__(self) -> str:
        shape = getattr(self.data, "shape", "?")
        return f"<data {shape} {self.token[:8]}>"


@node
class Source(Relation):
    """An in-memory pandas DataFrame. ``origin`` says where it came from (e.g. a fallback).

    ``lineage`` is data, not input: the plans a fallback computed this frame from, kept for
    ``explain`` only. A Source has no children (walks, rewrites and backends never see the
    lineage); JSON round-trips it and checks its nodes like any others.
    """

    _non_child = ("lineage",)

    data: DataRef
    origin: str = "DataFrame"
    lineage: tuple[Relation, ...] = ()


@node
class ReadCsv(Relation):
    """``pandas.read_csv(path, **options)``.

    ``version`` is the file's identity when the read was built
    (:func:`litsdf_compiler.files.file_version`): the read refuses to run on another version
    of the file, and two reads of different versions are different plans. ``None`` (a plan
    built by hand) reads whatever is there. Rules that rewrite a read keep it
    (``dataclasses.replace``).

    ``narrow`` lets the optimizer push column selections and row limits into the read
    (``usecols=``, ``nrows=``; ``litsdf.options.narrow_csv_reads`` when the read was built).
    Off by default because it is exact only for a well-formed file: pandas' full read raises
    on a line with more fields than the header or a value that fails its ``dtype``, also in
    the columns and rows a narrowed read skips.
    """

    path: str
    options: tuple[tuple[str, Any], ...] = ()
    version: tuple[tuple[str, int, int, int, int, int], ...] | None = None
    narrow: bool = False


@node
class ReadParquet(Relation):
    """``pandas.read_parquet(path, columns=columns, **options)``; ``version`` as in
    :class:`ReadCsv` (one entry per file of a directory dataset)."""

    path: str
    columns: tuple[Hashable, ...] | None = None
    options: tuple[tuple[str, Any], ...] = ()
    version: tuple[tuple[str, int, int, int, int, int], ...] | None = None


@node
class Project(Relation):
    """Exactly the given columns, in order, computed from ``input`` (index kept)."""

    input: Relation
    expressions: tuple[tuple[Hashable, Expr], ...]


@node
class WithColumns(Relation):
    """``input`` with columns set: an existing label is replaced in place, a new one appended."""

    input: Relation
    expressions: tuple[tuple[Hashable, Expr], ...]


@node
class Filter(Relation):
    """Rows of ``input`` where ``condition`` (a boolean expression) is true."""

    input: Relation
    condition: Expr


@node
class Drop(Relation):
    """``input.drop(columns=columns)``."""

    input: Relation
    columns: tuple[Hashable, ...]


@node
class Rename(Relation):
    """``input.rename(columns=dict(mapping))``."""

    input: Relation
    mapping: tuple[tuple[Hashable, Hashable], ...]


@node
class Head(Relation):
    """``input.head(n)``."""

    input: Relation
    n: int


@node
class Tail(Relation):
    """``input.tail(n)``."""

    input: Relation
    n: int


@node
class Slice(Relation):
    """``input.iloc[start:stop:step]``."""

    input: Relation
    start: int | None
    stop: int | None
    step: int | None = None


@node
class Sort(Relation):
    """``input.sort_values(by, ascending, kind, na_position, ignore_index)``."""

    input: Relation
    by: tuple[Hashable, ...]
    ascending: bool | tuple[bool, ...] = True
    kind: str = "quicksort"
    na_position: str = "last"
    ignore_index: bool = False


@node
class SortIndex(Relation):
    """``input.sort_index(ascending, kind, na_position, ignore_index)``."""

    input: Relation
    ascending: bool = True
    kind: str = "quicksort"
    na_position: str = "last"
    ignore_index: bool = False


@node
class TopK(Relation):
    """``input.nlargest(n, columns, keep)`` or ``nsmallest`` when not ``largest``."""

    input: Relation
    n: int
    columns: tuple[Hashable, ...]
    keep: str = "first"
    largest: bool = True


@node
class SeriesMethod(Relation):
    """``value.<method>(**kwargs)`` where ``value`` is a Series computed on ``input``.

    Covers the Series methods that reorder or reshape (one of ``SERIES_METHODS``); the
    result is a Series or DataFrame as pandas returns it.
    """

    input: Relation
    value: Expr
    method: str
    kwargs: tuple[tuple[str, Any], ...] = ()


class Measure(NamedTuple):
    """One aggregated value per group: ``function`` of column ``input`` with ``arguments``.

    ``output`` is the label pandas gives it (a column label, ``(column, function)`` under a
    MultiIndex, or the name of a Series result); ``input`` is ``None`` for ``size``.
    """

    output: Hashable
    input: Hashable | None
    function: str
    arguments: tuple[tuple[str, Any], ...] = ()


@node
class Aggregate(Relation):
    """``input.groupby(keys, as_index, sort, dropna)[selection]`` aggregated into
    ``measures``, one per result column (or the one value of a Series result), in pandas'
    order.

    Built by :func:`litsdf_compiler.ir.aggregate.aggregate`, which decodes pandas' call forms
    once. The fields a backend reads: ``keys``, ``measures``, the flags and ``shape`` (see
    ``AGG_SHAPES``). What remains of the call, for pandas' exact result: ``form`` (one of
    ``AGG_FORMS``), the ``functions`` and ``arguments`` of a call over every selected column
    (``method`` / ``agg`` / ``agg_list``: ``measures`` is their expansion, empty when no
    column is left), ``selection`` (one of ``AGG_SELECTIONS``) with the ``selected`` labels,
    and ``key_list`` (``groupby(["a"])`` and ``groupby("a")`` shape results differently).
    """

    input: Relation
    keys: tuple[Hashable, ...]
    measures: tuple[Measure, ...]
    form: str = "method"
    functions: tuple[str, ...] = ()
    arguments: tuple[tuple[str, Any], ...] = ()
    selection: str = "all"
    selected: tuple[Hashable, ...] = ()
    shape: str = "frame"
    key_list: bool = True
    as_index: bool = True
    sort: bool = True
    dropna: bool = True


@node
class FrameReduce(Relation):
    """``input.<func>(**kwargs)``: a DataFrame reduction (sum, mean, nunique, ...) or
    ``value_counts``, giving a Series."""

    input: Relation
    func: str
    kwargs: tuple[tuple[str, Any], ...] = ()


@node
class ScalarResult(Relation):
    """Evaluate the reduction ``expr`` over ``input`` to a single scalar (a plan root only)."""

    input: Relation
    expr: Expr


@node
class Join(Relation):
    """``pandas.merge(left, right, how, on, left_on, right_on, left_index, right_index, ...)``."""

    left: Relation
    right: Relation
    how: str = "inner"
    on: tuple[Hashable, ...] | None = None
    left_on: tuple[Hashable, ...] | None = None
    right_on: tuple[Hashable, ...] | None = None
    left_index: bool = False
    right_index: bool = False
    suffixes: tuple[str | None, str | None] = ("_x", "_y")
    sort: bool = False
    indicator: bool | str = False
    validate: str | None = None


@node
class IndexJoin(Relation):
    """``left.join(right, on, how, lsuffix, rsuffix, sort, validate, suffixes)``.

    Arguments left at pandas' ``no_default`` are not passed (pandas 3.1 warns about
    ``lsuffix``/``rsuffix`` only when they are given)."""

    left: Relation
    right: Relation
    on: tuple[Hashable, ...] | None = None
    how: str = "left"
    lsuffix: Any = no_default
    rsuffix: Any = no_default
    sort: bool = False
    validate: str | None = None
    suffixes: Any = no_default


@node
class Concat(Relation):
    """``pandas.concat(inputs, axis, join, ignore_index, sort)`` (``sort`` passed if given)."""

    inputs: tuple[Relation, ...]
    axis: int = 0
    join: str = "outer"
    ignore_index: bool = False
    sort: Any = no_default


@node
class SetIndex(Relation):
    """``input.set_index(keys, drop, append)``."""

    input: Relation
    keys: tuple[Hashable, ...]
    drop: bool = True
    append: bool = False


@node
class ResetIndex(Relation):
    """``input.reset_index(drop=drop)``; ``name`` is used for a Series' values column."""

    input: Relation
    drop: bool = False
    names: tuple[Hashable, ...] | None = None


@node
class DropDuplicates(Relation):
    """``input.drop_duplicates(subset, keep, ignore_index)``."""

    input: Relation
    subset: tuple[Hashable, ...] | None = None
    keep: str | bool = "first"
    ignore_index: bool = False


@node
class DropNa(Relation):
    """``input.dropna(how, thresh, subset, ignore_index)`` (rows)."""

    input: Relation
    how: Any = no_default
    thresh: Any = no_default
    subset: tuple[Hashable, ...] | None = None
    ignore_index: bool = False


@node
class FrameElementwise(Relation):
    """A DataFrame-wide elementwise method (one of ``FRAME_ELEMENTWISE``) with its kwargs.

    ``kwargs`` values that were dicts are stored as ``("__dict__", pairs)``.
    """

    input: Relation
    method: str
    kwargs: tuple[tuple[str, Any], ...] = ()


@node
class Describe(Relation):
    """``input.describe(percentiles, include, exclude)``."""

    input: Relation
    percentiles: tuple[float, ...] | None = None
    include: Any = None
    exclude: Any = None
