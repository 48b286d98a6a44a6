"""Projection pushdown: read and carry only the columns that are eventually used.

Before::

    Aggregate keys=['k'] measures=['v': sum('v')] selection='series' ...
      Filter (x > 1)
        ReadParquet /data/t.parquet

After::

    Aggregate keys=['k'] measures=['v': sum('v')] selection='series' ...
      Filter (x > 1)
        ReadParquet /data/t.parquet columns=['k', 'v', 'x']

The observed columns of every relation come from :mod:`._columns` (through filters, column
assignments, joins, groupbys, concats, ...; the root's output is observed in full). Then, at
the leaves:

- ``ReadParquet`` reads only the observed columns (its ``columns`` argument, in the order the
  read would otherwise produce them), under the options of
  :data:`._readers.PARQUET_NARROWABLE`;
- ``ReadCsv`` gets ``usecols`` (file order) only when every option it was given is on the
  allow-list :data:`._readers.CSV_NARROWABLE` (no ``on_bad_lines="skip"``, ``skipfooter``,
  python engine, regex or sniffed ``sep``, ``index_col``/``names``/``header``/``usecols``/
  ``converters``, pyarrow engine, ...: those change which rows exist or how they parse), a
  default index, plain header labels, no ``dtype`` that could fail on a dropped column
  (columns named in a ``dtype`` dict are kept); per-column ``parse_dates``/``na_values``/
  ``date_format`` entries are restricted to the kept columns. Known limit: pandas does not
  reject a line with too many fields under ``usecols``, so with the default
  ``on_bad_lines="error"`` a file malformed past the sampled head reads where pandas raises
  (see :mod:`._readers`);
- an in-memory ``Source`` gets a pure column-selection ``Project`` above it, so that filters,
  sorts and joins move fewer columns; not when every parent already reads only the columns it
  needs (``Project``, ``Aggregate``, ``ScalarResult``, ``SeriesMethod``): that also makes the
  rewrite idempotent, the inserted ``Project`` being the Source's only parent.

A leaf always keeps at least one column (the row count and index survive any projection, but
zero-column reads are a corner case readers treat differently).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Hashable
from typing import Any

import pandas as pd

from ..ir.base import FrozenDict, FrozenList, Node, freeze
from ..ir.expressions import Col
from ..ir.relations import (
    Aggregate,
    Project,
    ReadCsv,
    ReadParquet,
    Relation,
    ScalarResult,
    SeriesMethod,
    Source,
)
from ._columns import Analysis, analyze, flat_columns, rewrite_with
from ._readers import csv_implicit_index, csv_narrowable, parquet_narrowable

ORDER = 70

_COLUMN_READERS = (Project, Aggregate, ScalarResult, SeriesMethod)
"""Parents that read only the columns they need (a selection below them saves nothing)."""

_CSV_PER_COLUMN = ("na_values", "date_format")


def _text_dtype(dtype: Any) -> bool:
    """A whole-file ``dtype`` that every value can take (``str``, ``object``)."""
    if isinstance(dtype, str):
        return dtype in ("str", "string", "object")
    return dtype is str or dtype is object


_MANGLED = re.compile(r"^(.*)\.(\d+)$")


def _kept(
    analysis: Analysis, n: Relation
) -> tuple[tuple[Hashable, ...], tuple[Hashable, ...]] | None:
    """(all columns, observed columns) of leaf ``n`` when a strict subset is observed."""
    cols = flat_columns(n)
    used = analysis.used(n)
    if cols is None or used is None:
        return None
    used = used or cols[:1]  # (pandas needs one column to know the rows)
    if len(used) == len(cols):
        return None
    return cols, used


def _parquet(analysis: Analysis, n: ReadParquet) -> ReadParquet:
    if parquet_narrowable(n.options) is not None:
        return n
    kept = _kept(analysis, n)
    if kept is None:
        return n
    cols, used = kept
    if not all(isinstance(c, str) for c in cols):
        return n
    return dataclasses.replace(n, columns=used)


def _plain_header(cols: tuple[Hashable, ...]) -> bool:
    """Header labels as written in the file (no ``a.1`` de-duplication, no ``Unnamed: 0``)."""
    for c in cols:
        if not isinstance(c, str) or c.startswith("Unnamed: "):
            return False
        m = _MANGLED.match(c)
        if m and m.group(1) in cols:
            return False
    return True


def _csv(analysis: Analysis, n: ReadCsv) -> ReadCsv:
    from ..meta import meta_of

    if not n.narrow or csv_narrowable(n.options) is not None:
        return n
    opts = dict(n.options)
    kept = _kept(analysis, n)
    if kept is None or not isinstance(meta_of(n).index, pd.RangeIndex):
        return n
    if csv_implicit_index(n.path, n.options, n.version):
        return n
    cols, used = kept
    if not _plain_header(cols):
        return n
    dtype = opts.get("dtype")
    if isinstance(dtype, FrozenDict):  # a column that fails its dtype makes pandas raise
        used = tuple(c for c in cols if c in set(used) or c in dict(dtype))
        if len(used) == len(cols):
            return n
    elif dtype is not None and not _text_dtype(dtype):
        return n
    keep = set(used)
    parse_dates = opts.get("parse_dates")
    if isinstance(parse_dates, FrozenList):
        if not all(isinstance(c, str) and c in cols for c in parse_dates):
            return n
        opts["parse_dates"] = FrozenList(c for c in parse_dates if c in keep)
        if not opts["parse_dates"]:
            del opts["parse_dates"]
    elif parse_dates is not None and not isinstance(parse_dates, bool):
        return n
    for name in _CSV_PER_COLUMN:
        value: Any = opts.get(name)
        if isinstance(value, FrozenDict):
            opts[name] = FrozenDict((k, v) for k, v in value if k in keep or k not in cols)
            if not opts[name] and name != "na_values":
                del opts[name]
    opts["usecols"] = freeze(list(used))
    return dataclasses.replace(n, options=tuple(sorted(opts.items(), key=lambda kv: kv[0])))


def _source(analysis: Analysis, n: Source) -> Relation:
    parents = analysis.parents.get(id(n), [])
    if not parents or all(isinstance(p, _COLUMN_READERS) for p in parents):
        return n
    kept = _kept(analysis, n)
    if kept is None:
        return n
    return Project(n, tuple((c, Col(c)) for c in kept[1]))


def _push(analysis: Analysis, orig: Relation, new: Relation) -> Relation:
    if isinstance(new, ReadParquet):
        return _parquet(analysis, new)
    if isinstance(new, ReadCsv):
        return _csv(analysis, new)
    if isinstance(new, Source):
        return _source(analysis, new)
    return new


def projection_pushdown(plan: Node) -> Node:
    """Read and carry only the columns that are used (see the module docstring).

    Parameters
    ----------
    plan : Node
        The plan root.

    Returns
    -------
    Node
        The plan with pruned reads and narrowed sources, or ``plan`` itself.
    """
    analysis = analyze(plan)
    return rewrite_with(plan, lambda orig, rebuilt: _push(analysis, orig, rebuilt))
