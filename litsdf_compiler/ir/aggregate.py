"""pandas' groupby call forms <-> the normalized :class:`~.relations.Aggregate` node.

:func:`aggregate` decodes the four ways pandas aggregates (a method ``gb.sum()``, ``gb.agg``
with a name, a list or a dict, and named aggregation ``gb.agg(out=(column, func))``) once,
where the front end builds the node: explicit keys, one :class:`~.relations.Measure` per
result column, pandas' flags and the result's shape. :func:`call_pandas` is the inverse: it
replays the original call from those fields, so the pandas reference kernel gives exactly
pandas' result.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import pandas as pd

from .base import thaw
from .relations import Aggregate, Measure, Relation

__all__ = ["aggregate", "call_pandas"]


def aggregate(
    input: Relation,
    meta: pd.DataFrame,
    keys: tuple[Hashable, ...],
    *,
    method: str | None = None,
    arguments: tuple[tuple[str, Any], ...] = (),
    func: str | Sequence[str] | Mapping[Hashable, str | Sequence[str]] | None = None,
    named: Mapping[str, str | tuple[Hashable, str]] | None = None,
    selection: tuple[str, Any] | None = None,
    key_list: bool = True,
    as_index: bool = True,
    sort: bool = True,
    dropna: bool = True,
) -> Aggregate:
    """The :class:`~.relations.Aggregate` for ``input.groupby(keys, ...)[selection]``
    aggregated by exactly one of ``method`` / ``func`` / ``named``.

    Parameters
    ----------
    input : Relation
        The grouped relation.
    meta : pandas.DataFrame
        ``input``'s metadata (its empty frame): the columns an aggregation over "every
        column" expands to, and their dtypes (``numeric_only=True``).
    keys : tuple
        Group key labels.
    method : str, optional
        ``gb.<method>(**arguments)`` (``arguments``: frozen ``(name, value)`` pairs).
    func : str, list of str or dict, optional
        ``gb.agg(func)``: a function name, a list of them, or ``{column: name or [names]}``.
    named : dict, optional
        ``gb.agg(**named)``: ``{output: (column, name)}``, or ``{output: name}`` for a
        Series selection.
    selection : tuple, optional
        ``None`` (``gb``), ``("frame", labels)`` (``gb[[...]]``) or ``("series", label)``.
    key_list, as_index, sort, dropna : bool
        pandas' flags (``key_list``: the keys were given as a list).

    Returns
    -------
    Aggregate
        The normalized node.

    Raises
    ------
    TypeError
        Not exactly one of ``method``, ``func`` and ``named`` is given.
    """
    if sum(x is not None for x in (method, func, named)) != 1:
        raise TypeError("aggregate: give exactly one of method=, func= and named=")
    kind, selected = _selection(selection)
    measures, form, functions, shape = _decode(meta, keys, method, arguments, func, named)
    if form != "method":
        arguments = ()
    if form == "agg_named" and kind == "series":  # ``gb[label].agg(out=f)``
        measures = [m._replace(input=selected[0]) for m in measures]
    if shape is None:  # a call over every column: ``gb.<f>()`` / ``gb.agg(f)`` / ``[f, ...]``
        measures, shape = _expand(meta, keys, form, functions, arguments, kind, selected, as_index)
    return Aggregate(
        input,
        keys,
        tuple(measures),
        form,
        functions,
        arguments,
        selection=kind,
        selected=selected,
        shape=shape,
        key_list=key_list,
        as_index=as_index,
        sort=sort,
        dropna=dropna,
    )


def _decode(
    meta: pd.DataFrame,
    keys: tuple[Hashable, ...],
    method: str | None,
    arguments: tuple[tuple[str, Any], ...],
    func: Any,
    named: Mapping[str, Any] | None,
) -> tuple[list[Measure], str, tuple[str, ...], str | None]:
    """``(measures, form, functions, shape)``; the measures and shape of a call over every
    column are left to :func:`_expand` (``shape`` ``None``)."""
    if named is not None:  # ``{out: (column, f)}``; ``{out: f}`` for a Series selection
        measures = [
            Measure(out, None, spec) if isinstance(spec, str) else Measure(out, *spec)
            for out, spec in named.items()
        ]
        return measures, "agg_named", (), "frame"
    if isinstance(func, Mapping):
        multi = any(not isinstance(f, str) for f in func.values())
        measures = [
            Measure((col, f) if multi else col, col, f)
            for col, fs in func.items()
            for f in ((fs,) if isinstance(fs, str) else fs)
        ]
        return measures, "agg_dict", (), "multi" if multi else "frame"
    if method is not None:
        return [], "method", (method,), None
    if isinstance(func, str):
        return [], "agg", (func,), None
    return [], "agg_list", tuple(func), None


def _expand(
    meta: pd.DataFrame,
    keys: tuple[Hashable, ...],
    form: str,
    functions: tuple[str, ...],
    arguments: tuple[tuple[str, Any], ...],
    kind: str,
    selected: tuple[Hashable, ...],
    as_index: bool,
) -> tuple[list[Measure], str]:
    """The measures and shape of a call of ``functions`` over every selected column."""
    columns = _value_columns(meta, keys, kind, selected, arguments)
    if form == "agg_list":
        measures = [
            Measure(f if kind == "series" else (c, f), None if f == "size" else c, f)
            for c in columns
            for f in functions
        ]
        return measures, "frame" if kind == "series" else "multi"
    f = functions[0]
    series = as_index and (kind == "series" or f == "size")
    if f == "size":
        out: Hashable = (selected[0] if kind == "series" else None) if series else "size"
        return [Measure(out, None, f, arguments)], "series" if series else "frame"
    return [Measure(c, c, f, arguments) for c in columns], "series" if series else "frame"


def _selection(selection: tuple[str, Any] | None) -> tuple[str, tuple[Hashable, ...]]:
    if selection is None:
        return "all", ()
    kind, labels = selection
    return kind, ((labels,) if kind == "series" else tuple(labels))


def _value_columns(
    meta: pd.DataFrame,
    keys: tuple[Hashable, ...],
    kind: str,
    selected: tuple[Hashable, ...],
    arguments: tuple[tuple[str, Any], ...],
) -> list[Hashable]:
    """The columns an aggregation over the selection reads, in pandas' order."""
    if kind != "all":
        return list(selected)
    pairs = [(c, t) for c, t in zip(meta.columns, meta.dtypes, strict=True) if c not in keys]
    if dict(arguments).get("numeric_only") is True:
        pairs = [(c, t) for c, t in pairs if pd.api.types.is_numeric_dtype(t)]
    return [c for c, _ in pairs]


def call_pandas(n: Aggregate, df: pd.DataFrame) -> Any:
    """Run ``n`` on ``df`` by replaying the pandas call it was built from (the reference)."""
    keys = list(n.keys) if n.key_list else n.keys[0]
    gb: Any = df.groupby(keys, as_index=n.as_index, sort=n.sort, dropna=n.dropna)
    if n.selection == "series":
        gb = gb[n.selected[0]]
    elif n.selection == "frame":
        gb = gb[list(n.selected)]
    if n.form == "method":
        return getattr(gb, n.functions[0])(**thaw(dict(n.arguments)))
    if n.form == "agg":
        return gb.agg(n.functions[0])
    if n.form == "agg_list":
        return gb.agg(list(n.functions))
    if n.form == "agg_dict":
        spec: dict[Hashable, Any] = {}
        for m in n.measures:
            spec.setdefault(m.input, []).append(m.function)
        if n.shape != "multi":
            spec = {col: fs[0] for col, fs in spec.items()}
        return gb.agg(spec)
    if n.form == "agg_named":  # (outputs are keyword names: strings)
        if n.selection == "series":
            return gb.agg(**{str(m.output): m.function for m in n.measures})
        return gb.agg(**{str(m.output): pd.NamedAgg(m.input, m.function) for m in n.measures})
    raise ValueError(f"Aggregate.form {n.form!r} is not one of pandas' call forms")
