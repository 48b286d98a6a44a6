"""Physical plan nodes: a small typed plan over internal column names, each with its schema.

The logical plan (:mod:`litsdf_compiler.ir.relations`) mirrors pandas calls; the physical plan
says what to compute, with pandas' implicit semantics made explicit once, by
:func:`litsdf_compiler.lower.lower`:

* columns have *internal names* (plain strings, unique in a plan); pandas labels (any
  hashable, tuples, a columns-index name) live only in the terminal :class:`Finalize`;
* every node carries its output ``schema``: ordered :class:`Field` s (name, pandas dtype,
  role), so no backend asks :mod:`litsdf_compiler.meta` for a dtype;
* the row index pandas carries through row-wise steps is the table's *row identity*: a
  :class:`Filter` takes it (pandas' ``index.take``), a :class:`Limit` slices it; index levels
  that come from columns (a groupby's keys) are fields of role ``index``.

Physical nodes are frozen, slotted and structurally hashed like the logical ones, declare
their inputs (derived from the field annotations, as logical nodes do) and are never
registered for JSON (plans are serialized logical).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Any, ClassVar, NamedTuple

import pandas as pd

from ..ir.base import Node, node
from ..ir.expressions import Expr
from ..ir.relations import Relation

__all__ = [
    "COLUMN",
    "INDEX",
    "Field",
    "Labels",
    "Physical",
    "Scan",
    "Compute",
    "Filter",
    "Select",
    "Limit",
    "OrderBy",
    "GroupAgg",
    "HashJoin",
    "UnionAll",
    "Distinct",
    "TopK",
    "PandasCall",
    "Finalize",
    "physical_nodes",
]

COLUMN = "column"
"""Role of a field that is a column of the pandas result."""
INDEX = "index"
"""Role of a field that is an index level of the pandas result."""


class Field(NamedTuple):
    """One column of a physical node's output: internal name, pandas dtype and role."""

    name: str
    dtype: Any
    role: str = COLUMN


class Labels:
    """pandas' column labels of a result (the exact ``Index``: its dtype, names, levels),
    compared and hashed by what they hold, so a :class:`Finalize` can live in a node."""

    __slots__ = ("_key", "index")

    def __init__(self, index: pd.Index) -> None:
        self.index = index
        self._key = (
            type(index).__name__,
            str(index.dtype),
            tuple(index.names),
            tuple(index.tolist()),
        )

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Labels) and other._key == self._key

    def __repr__(self) -> str:
        return repr(list(self.index))


class Physical(Node):
    """Base of physical nodes. Their inputs are the fields annotated as physical nodes (or
    tuples of them), declared by the ``node`` decorator like a logical node's; a Scan's
    ``source`` and an island's logical ``node`` are data (``_non_child``)."""

    __slots__ = ()
    _relational: ClassVar[bool] = True
    schema: tuple[Field, ...]

    @property
    def inputs(self) -> tuple[Physical, ...]:
        """The physical inputs, in field order."""
        out: list[Physical] = []
        for f in self._inputs:
            v = getattr(self, f)
            out.extend(v if isinstance(v, tuple) else (v,))
        return tuple(out)

    def names(self) -> tuple[str, ...]:
        """The internal names of the output fields, in order."""
        return tuple(f.name for f in self.schema)

    def field(self, name: str) -> Field:
        """The output field called ``name``; ``KeyError`` naming the node otherwise."""
        for f in self.schema:
            if f.name == name:
                return f
        raise KeyError(f"{type(self).__name__} has no field {name!r}; it has {self.names()}")


@node(register=False)
class Scan(Physical):
    """The table a logical leaf (``Source``, ``ReadCsv``, ``ReadParquet``) produces:
    ``columns`` pairs each label read with its internal name; the row identity is the
    leaf's index."""

    _non_child: ClassVar[tuple[str, ...]] = ("source",)
    source: Relation
    columns: tuple[tuple[Hashable, str], ...]
    schema: tuple[Field, ...]


@node(register=False)
class Compute(Physical):
    """Expressions over ``input``'s fields (``Col`` names are internal names), all evaluated
    on the input as it is (pandas' ``df[a] = ...; df[b] = ...`` of one step). The output is
    ``schema``: input fields and computed ones in their final order (a computed field that
    replaces an input field takes its place; an input field absent from it is dropped)."""

    input: Physical
    expressions: tuple[tuple[str, Expr], ...]
    schema: tuple[Field, ...]


@node(register=False)
class Filter(Physical):
    """The rows of ``input`` where ``condition`` holds; pandas takes the row index here
    (``index.take(kept positions)``, also when every row is kept)."""

    input: Physical
    condition: Expr
    schema: tuple[Field, ...]


@node(register=False)
class Select(Physical):
    """A subset of ``input``'s fields, in the order of ``schema``."""

    input: Physical
    schema: tuple[Field, ...]


@node(register=False)
class Limit(Physical):
    """``input.iloc[start:stop:step]`` on rows (``head``, ``tail`` and ``iloc`` slices):
    every field and the row identity are sliced."""

    input: Physical
    start: int | None
    stop: int | None
    step: int | None
    schema: tuple[Field, ...]


@node(register=False)
class OrderBy(Physical):
    """The rows of ``input`` in the order of the ``keys`` ``(field, ascending)``, missing
    values first or last (``na_position``). The row index is taken with the rows, or reset
    to a fresh ``RangeIndex`` when ``ignore_index``.

    ``kind`` is the sort pandas runs: ``"stable"`` (several keys, or ``kind="stable"`` /
    ``"mergesort"``: ties keep their input order, also for a descending key) or, for one
    key, the NumPy kind pandas passes to ``argsort`` (``"quicksort"``, ``"heapsort"``),
    whose order of *ties* only NumPy's algorithm decides. A backend runs such a sort as a
    stable one only where the key has no two equal non-missing values (missing values come
    in input order either way), checked on the data; otherwise pandas' own sort
    (``Backend.order_by``) runs."""

    input: Physical
    keys: tuple[tuple[str, bool], ...]
    na_position: str
    ignore_index: bool
    kind: str
    schema: tuple[Field, ...]

    @property
    def stable(self) -> bool:
        """Whether pandas' sort is stable (else ties are ordered as NumPy's ``kind``)."""
        return self.kind == "stable"


@node(register=False)
class GroupAgg(Physical):
    """Groups of ``input`` by the ``keys`` fields and one reduction per measure
    ``(output, input, func, args)`` (``size``: of the groups when ``input`` is ``None``, of
    a column otherwise, whose dtype the output field has, e.g. ``int64[pyarrow]``). Groups
    come in key order when ``sort``, else in order of first appearance; ``dropna`` drops
    groups with a missing key. The output is the key fields (role ``index``, one row per
    group) and the measures, in ``schema`` order."""

    input: Physical
    keys: tuple[str, ...]
    measures: tuple[tuple[str, str | None, str, tuple[tuple[str, Any], ...]], ...]
    sort: bool
    dropna: bool
    schema: tuple[Field, ...]


JOIN_HOWS = ("inner", "left", "right", "outer")
"""The ``how`` of a :class:`HashJoin` (pandas' anti joins stay islands)."""


@node(register=False)
class HashJoin(Physical):
    """``pandas.merge(left, right, how, left_on=left_keys, right_on=right_keys, sort)`` on
    columns, with pandas' row order explicit.

    Rows pair a left row and a right row whose keys are equal (missing keys match each
    other, as in pandas); ``left`` / ``outer`` keep unmatched left rows, ``right`` / ``outer``
    unmatched right rows. ``order`` says how pandas orders the pairs, by their *row numbers*
    (positions in ``left`` and ``right``) and key values:

    * ``("left", "right")`` (``inner``, ``left`` without ``sort``): by left row number, the
      matches of one left row by right row number;
    * ``("right", "left")`` (``right`` without ``sort``): by right row number, then left;
    * ``("keys", "left", "right")`` (``outer``, or ``sort=True``): by the key values (several
      keys lexicographically, missing last), then left row number (rows without a left row
      after), then right row number; ``("keys", "right", "left")`` for ``right`` with ``sort``.

    ``outputs`` are the result's fields in order, each ``(name, left field, right field)``:
    a field of one side has ``None`` for the other (its values taken with pandas' fill for an
    unmatched row: NaN, NaT, NA, which upcasts as pandas does); a key both sides name alike
    (``on``) has both: the left value where the row has a left row, else the right one. The
    row identity is a fresh ``RangeIndex``. Joins on an index, ``indicator``, ``validate``,
    key dtypes that differ, duplicate labels and anti joins stay islands.

    ``any_order`` (set by :func:`~litsdf_compiler.lower.order.relax_order`): every consumer
    of the rows reads them as a multiset (a sorted group-by of order-free reductions, through
    row-wise steps and other joins), so a backend may emit the pairs in any order instead of
    rebuilding ``order``.
    """

    left: Physical
    right: Physical
    how: str
    left_keys: tuple[str, ...]
    right_keys: tuple[str, ...]
    order: tuple[str, ...]
    outputs: tuple[tuple[str, str | None, str | None], ...]
    schema: tuple[Field, ...]
    any_order: bool = False

    @property
    def sort(self) -> bool:
        """Whether pandas orders the rows by the key values first."""
        return self.order[0] == "keys"


@node(register=False)
class UnionAll(Physical):
    """``pandas.concat(parts, axis=0)`` of values of one ``kind`` (``"frame"`` or
    ``"series"``) whose fields agree: ``fields[i]`` names ``parts[i]``'s fields in output
    order, of the same dtypes (other inputs stay islands: pandas' dtype promotion). The row
    identity is the inputs' indexes appended (``Index.append``), or a fresh ``RangeIndex``
    when ``ignore_index``. A dtype an input decides from its values is combined by pandas'
    concat rules (a Series and a one-column frame differ there, hence ``kind``)."""

    parts: tuple[Physical, ...]
    fields: tuple[tuple[str, ...], ...]
    kind: str
    ignore_index: bool
    schema: tuple[Field, ...]


@node(register=False)
class Distinct(Physical):
    """``input.drop_duplicates(subset=keys, keep)``: the rows of ``input`` whose ``keys`` do
    not repeat an earlier row's (``keep="first"``), a later one's (``"last"``) or any other's
    (``False``), in input order, the row identity taken with them (or reset to a
    ``RangeIndex`` when ``ignore_index``)."""

    input: Physical
    keys: tuple[str, ...]
    keep: str | bool
    ignore_index: bool
    schema: tuple[Field, ...]


@node(register=False)
class TopK(Physical):
    """``input.nlargest(n, keys, keep)`` (``nsmallest`` when not ``largest``): at most ``n``
    rows in order of the keys (largest first for ``nlargest``), ties by input order for
    ``keep="first"``, by reverse input order for ``"last"``, every tie of the last place for
    ``"all"``; rows with a missing first key only after the others. The row identity is
    taken with the rows."""

    input: Physical
    n: int
    keys: tuple[str, ...]
    largest: bool
    keep: str
    schema: tuple[Field, ...]


@node(register=False)
class Finalize(Physical):
    """How ``input``'s table becomes pandas' exact object (the plan's root; an island's
    inputs): ``kind`` is ``"frame"``, ``"series"`` or ``"scalar"``; ``fields`` are the value
    fields in result order; ``columns`` the frame's labels; ``name`` the Series' name;
    ``index`` is ``("rows",)`` (the table's row identity), ``("range",)`` (a fresh
    ``RangeIndex``) or ``("levels", fields, names)`` (index levels from fields)."""

    input: Physical
    kind: str
    fields: tuple[str, ...]
    columns: Labels | None
    name: Hashable
    index: tuple[Any, ...]
    schema: tuple[Field, ...]


@node(register=False)
class PandasCall(Physical):
    """An island: the logical ``node`` run by pandas' reference kernel
    (:data:`litsdf_compiler.semantics.REFERENCE`) on the pandas objects its inputs finalize
    to. Everything that has no physical form yet lowers to one; a backend opts in by
    defining ``visit_PandasCall`` (``Backend.pandas_call`` is the shared implementation)."""

    _non_child: ClassVar[tuple[str, ...]] = ("node",)
    node: Relation
    operands: tuple[Finalize, ...]
    schema: tuple[Field, ...]


def physical_nodes(root: Physical) -> Iterator[Physical]:
    """Every distinct node of the physical plan ``root`` (pre-order, each once)."""
    seen: set[int] = set()
    stack: list[Physical] = [root]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        yield n
        stack.extend(reversed(n.inputs))
