"""Limit pushdown: ``head(n)`` / ``tail(n)`` computes only the rows it keeps.

Below row-wise nodes (the index is kept, so this is exact)::

    Head n=5                              WithColumns b=(a * 2)
      WithColumns b=(a * 2)       ->        Head n=5
        Source                                Source

Into each input of a row-wise ``concat`` (the first ``n`` rows of a concatenation come from
the first ``n`` rows of its inputs; the limit stays on top; a ``tail`` only without
``ignore_index``, which numbers the last rows from the length of the whole result)::

    Head n=2                              Head n=2
      Concat                      ->        Concat
        Source                                Head n=2
        Source                                  Source
                                              Head n=2
                                                Source

Into a CSV scan as ``nrows`` (the first ``n`` rows, numbered ``0..n-1`` as ``head`` keeps
them)::

    Head n=3
      ReadCsv path='t.csv' options=[[dtype, {a: 'int64'}]]
    ->
    ReadCsv path='t.csv' options=[[dtype, {a: 'int64'}], [nrows, 3]]

Conditions: ``n > 0`` (``head(-k)`` drops the *last* rows); assignments and projections whose
dtype does not depend on the rows they see (:func:`._rowwise.rows_independent`; a
projection of plain columns is left to the projection rules); a CSV read gives every column
an explicit, non-categorical ``dtype`` (otherwise pandas infers dtypes from the rows it
reads: ``nrows`` would change them), a default index, no option that moves rows
(``skiprows``, ``skipfooter``, ``index_col``, ``parse_dates``, the pyarrow engine ...) and
only options of the allow-list :data:`._readers.CSV_NARROWABLE` (``on_bad_lines="skip"``
would skip or warn about fewer lines, regex separators run the python engine). Never across
filters, sorts, groupbys, joins, ``drop_duplicates`` or ``dropna``.

Known limit: with ``nrows`` pandas does not read, so does not reject, malformed lines after
the first ``n`` rows (``read_csv(...).head(n)`` raises ``ParserError`` for them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from typing import Any, TypeAlias

import pandas as pd

from ..ir.base import FrozenDict, Node, thaw
from ..ir.expressions import Col
from ..ir.relations import Concat, Head, Project, ReadCsv, Relation, Tail, WithColumns
from ..meta import meta_of
from ._readers import csv_implicit_index, csv_narrowable
from ._rowwise import flat_unique_columns, rows_independent
from ._util import rewrite_relations

ORDER = 25

_CSV_ROW_OPTIONS = frozenset(
    {
        "skiprows",
        "skipfooter",
        "index_col",
        "chunksize",
        "iterator",
        "parse_dates",
        "date_format",
        "date_parser",
        "converters",
        "engine",
        "nrows",
    }
)
"""Options that move, parse or count rows in ways ``nrows`` does not compose with simply."""

Limit: TypeAlias = Head | Tail


def limit_pushdown(plan: Node) -> Node:
    """Push ``head``/``tail`` below row-wise nodes, into concats and CSV scans.

    Parameters
    ----------
    plan : Node
        The plan to rewrite.

    Returns
    -------
    Node
        The rewritten plan, or ``plan`` itself when no limit moves.
    """
    return rewrite_relations(plan, _rule)


def _rule(n: Node) -> Node:
    if isinstance(n, (Head, Tail)):
        return _push(n)
    return n


def _limit(like: Limit, rel: Relation) -> Limit:
    return dataclasses.replace(like, input=rel)


def _push(lim: Limit) -> Relation:
    """``lim`` moved as far down as is exact (``lim`` itself when it cannot move)."""
    if not _positive(lim.n):
        return lim  # head(-k) drops the last rows; pandas rejects a non-integer n itself
    x = lim.input
    if isinstance(x, WithColumns):
        if flat_unique_columns(x.input) is None:
            return lim
        if not rows_independent((e for _, e in x.expressions), x.input):
            return lim
        return WithColumns(_push(_limit(lim, x.input)), x.expressions)
    if isinstance(x, Project):
        if all(isinstance(e, Col) for _, e in x.expressions):
            return lim  # nothing computed: left to the projection rules (no bouncing)
        if flat_unique_columns(x.input) is None:
            return lim
        if not rows_independent((e for _, e in x.expressions), x.input):
            return lim
        return Project(_push(_limit(lim, x.input)), x.expressions)
    if isinstance(x, Concat):
        return _into_concat(lim, x)
    if isinstance(x, ReadCsv) and isinstance(lim, Head):
        return _into_csv(lim, x)
    return lim


def _positive(n: Any) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and n > 0


def _into_concat(lim: Limit, x: Concat) -> Relation:
    if x.axis not in (0, "index", "rows"):
        return lim
    if isinstance(lim, Tail) and x.ignore_index:
        return lim  # the last rows are numbered from the length of the whole concatenation
    inputs: list[Relation] = []
    for i in x.inputs:
        if isinstance(i, (Head, Tail)) and type(i) is type(lim) and _positive(i.n):
            # already limited, or limited less than needed: head(head(r, m), n) = head(r, n)
            inputs.append(i if i.n <= lim.n else _push(_limit(lim, i.input)))
        else:
            inputs.append(_push(_limit(lim, i)))
    if all(a is b for a, b in zip(inputs, x.inputs, strict=True)):
        return lim
    return _limit(lim, dataclasses.replace(x, inputs=tuple(inputs)))


def _dtype_for_all(dtype: Any, columns: tuple[Hashable, ...]) -> bool:
    """``dtype`` (a ``read_csv`` argument) fixes every column's dtype, none categorical."""

    def fixed(d: Any) -> bool:
        try:
            resolved = pd.api.types.pandas_dtype(d)
        except TypeError:
            return False
        return not isinstance(resolved, pd.CategoricalDtype)

    if isinstance(dtype, FrozenDict):
        given = dict(thaw(dtype))
        return all(c in given and fixed(given[c]) for c in columns)
    return dtype is not None and fixed(dtype)


def _into_csv(lim: Head, x: ReadCsv) -> Relation:
    options = dict(x.options)
    if not x.narrow or set(options) & _CSV_ROW_OPTIONS or csv_narrowable(x.options) is not None:
        return lim
    columns = flat_unique_columns(x)
    if columns is None or not _dtype_for_all(options.get("dtype"), columns):
        return lim
    if not isinstance(meta_of(x).index, pd.RangeIndex) or csv_implicit_index(
        x.path, x.options, x.version
    ):
        return lim  # (an implicit index from rows longer than the header)
    options["nrows"] = lim.n
    return dataclasses.replace(x, options=tuple(sorted(options.items())))
