"""What a plan read from JSON may hold: one explicit policy per node kind.

A plan is data, but several nodes name the pandas/NumPy method or function that runs
(``FrameElementwise.method``, ``Reduce.func``, ``Ufunc.name``, ...), and readers name files.
A crafted plan could otherwise pick ``DataFrame.eval`` with ``engine="python"`` (runs shell
commands), a writer (``to_csv``, ``numpy.savetxt``) or read any file. So
:func:`~.serde.from_json` checks every node against :data:`POLICIES` *before* building it
(building a node may compute its metadata, which runs pandas on empty inputs):

- every string that selects a method or function is in an allow-list taken from what the
  front end emits (``FRAME_ELEMENTWISE``, ``SERIES_METHODS``, ``REDUCTIONS``,
  ``GROUP_REDUCTIONS``, NumPy ufuncs, ``STR_METHODS``, ``DT_METHODS``, ...);
- keyword arguments are named from a per-method list (no ``engine``, no file/buffer
  arguments) and every argument value is data only: scalars, dtypes, tuples of them;
- readers (``ReadCsv``, ``ReadParquet``) need ``allow_io=True`` or their file named in
  ``allow_paths`` (compared as resolved real paths; URLs need ``allow_io=True``).

A refusal is an :class:`UntrustedPlanError` naming the node index, its kind, the field, the
refused value and what is allowed. Plans built in-process by the front end are not checked
here (tracing stays fast); the pandas kernels check the method names they dispatch on.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import no_default

from . import expressions as ex
from . import relations as rel
from . import strings as st
from . import temporal as tm
from . import udf
from .base import Node

__all__ = [
    "PlanFormatError",
    "UntrustedPlanError",
    "Trust",
    "POLICIES",
    "UFUNCS",
    "FRAME_REDUCE_FUNCS",
    "GROUP_METHODS",
    "AGG_FUNCS",
    "INPLACE_METHODS",
    "check_node",
    "check_dispatch",
    "check_dtype_text",
]


class PlanFormatError(ValueError):
    """The text is not a plan this version of litsdf can read."""


class UntrustedPlanError(PlanFormatError):
    """A plan read from JSON holds something that is not data only (a method, function,
    argument or file outside the allow-lists)."""


@dataclasses.dataclass(frozen=True)
class Trust:
    """What the caller of ``from_json`` opted in to.

    Parameters
    ----------
    allow_io : bool
        Readers may read any path or URL.
    allow_paths : collection of str
        Local files readers may read (resolved real paths), when ``allow_io`` is false.
    """

    allow_io: bool = False
    allow_paths: frozenset[str] = frozenset()

    @classmethod
    def of(cls, allow_io: bool, allow_paths: Collection[str | os.PathLike[str]]) -> Trust:
        """Normalize the caller's arguments (``allow_paths`` resolved to real paths)."""
        if isinstance(allow_paths, (str, os.PathLike)):
            raise TypeError(
                "allow_paths must be a collection of paths (a list), not one path: "
                f"got {allow_paths!r}"
            )
        return cls(bool(allow_io), frozenset(os.path.realpath(p) for p in allow_paths))


# allow-lists ---------------------------------------------------------------------------------

UFUNCS: dict[str, np.ufunc] = {
    k: v for k, v in vars(np).items() if isinstance(v, np.ufunc) and v.nout == 1
}
"""NumPy ufuncs with one output, by name (``Ufunc.name``; ``vars`` runs no lazy import)."""

FRAME_REDUCE_FUNCS = frozenset({*ex.COLUMN_REDUCTIONS, "value_counts"})
"""``FrameReduce.func``: the DataFrame reductions and ``value_counts``."""

GROUP_METHODS = frozenset(rel.GROUP_REDUCTIONS)
"""Function names of an ``Aggregate`` of the ``method`` form: ``gb.<name>(**arguments)``."""

AGG_FUNCS = frozenset({*rel.GROUP_REDUCTIONS, "idxmax", "idxmin", "skew", "kurt", "quantile"})
"""Function names of an ``Aggregate`` of the ``agg*`` forms (``gb.agg``)."""

INPLACE_METHODS = frozenset({"fillna", "where", "mask", "clip", "replace"})
"""``InplaceCall.method``: the Series methods traced in their ``inplace=True`` form."""

_REDUCE_KWARGS = frozenset(
    {"axis", "skipna", "numeric_only", "min_count", "ddof", "dropna", "bool_only"}
)
_REDUCE_KWARGS_BY_FUNC: dict[str, frozenset[str]] = {
    **{f: _REDUCE_KWARGS for f in ex.REDUCTIONS},
    "quantile": frozenset({"q", "interpolation", "axis", "numeric_only"}),
    "value_counts": frozenset({"subset", "normalize", "sort", "ascending", "dropna"}),
}
"""Keyword arguments of ``Reduce`` / ``FrameReduce`` by function."""

FRAME_ELEMENTWISE_KWARGS: dict[str, frozenset[str]] = {
    "fillna": frozenset({"value", "axis", "inplace", "limit"}),
    "isna": frozenset(),
    "notna": frozenset(),
    "astype": frozenset({"dtype", "copy", "errors"}),
    "abs": frozenset(),
    "round": frozenset({"decimals"}),
    "clip": frozenset({"lower", "upper", "axis", "inplace"}),
    "replace": frozenset({"to_replace", "value", "inplace", "regex"}),
    "where": frozenset({"cond", "other", "inplace", "axis", "level"}),
    "mask": frozenset({"cond", "other", "inplace", "axis", "level"}),
}
"""``FrameElementwise`` keyword arguments by method (one entry per ``FRAME_ELEMENTWISE``)."""

SERIES_METHOD_KWARGS: dict[str, frozenset[str]] = {
    "sort_values": frozenset({"axis", "ascending", "kind", "na_position", "ignore_index"}),
    "sort_index": frozenset(
        {"axis", "level", "ascending", "kind", "na_position", "sort_remaining", "ignore_index"}
    ),
    "value_counts": frozenset({"normalize", "sort", "ascending", "bins", "dropna"}),
    "describe": frozenset({"percentiles", "include", "exclude"}),
    "drop_duplicates": frozenset({"keep", "ignore_index"}),
    "dropna": frozenset({"axis", "how", "ignore_index"}),
    "nlargest": frozenset({"n", "keep"}),
    "nsmallest": frozenset({"n", "keep"}),
    "reset_index": frozenset({"level", "drop", "name", "allow_duplicates"}),
    "to_frame": frozenset({"name"}),
    "unique": frozenset(),
}
"""``SeriesMethod`` keyword arguments by method (one entry per ``SERIES_METHODS``)."""

GROUP_KWARGS = frozenset({"numeric_only", "min_count", "skipna", "ddof", "dropna"})
"""Keyword arguments of an ``Aggregate``'s method / measures (no ``engine``)."""

STR_KWARGS = frozenset(
    {
        *("width", "side", "fillchar", "pat", "flags", "sub", "start", "end", "repeats"),
        *("case", "na", "prefix", "suffix", "stop", "repl", "form"),
    }
)
"""Keyword arguments of the ``StrMethod`` methods (``STR_METHODS``)."""

DT_KWARGS = frozenset({"freq", "ambiguous", "nonexistent", "date_format", "locale", "tz", "unit"})
"""Keyword arguments of the ``DtMethod`` methods (``DT_METHODS``)."""

INPLACE_KWARGS = frozenset(
    {"value", "axis", "limit", "cond", "other", "level", "lower", "upper", "to_replace", "regex"}
)
"""Keyword names of ``InplaceCall`` (their values are expression nodes)."""

_STRIP_SIDES = frozenset({"both", "left", "right"})
_MAP_METHODS = frozenset({"map", "apply"})
_REPLACE_KINDS = frozenset({"scalar", "list", "dict", "default"})
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_TZ_FILE = re.compile(r"dateutil/\s*(/|.*\.\.)")
"""A ``dateutil/<path>`` time zone reads that file (pandas' ``maybe_get_tz``)."""


# checks ----------------------------------------------------------------------------------

Check = Callable[[Any, Mapping[str, Any], Trust], "str | None"]
"""``check(value, fields, trust)``: ``None`` when the field's value is allowed, else what is
wrong with it (the refused value and what is allowed)."""


def _show(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _names(allowed: Collection[str], limit: int = 40) -> str:
    names = sorted(allowed)
    if len(names) > limit:
        return f"{', '.join(names[:limit])}, ... ({len(names)} in all)"
    return ", ".join(names) if names else "none"


def check_dtype_text(text: str) -> str | None:
    """What is wrong with a dtype or time-zone string from an untrusted plan, or ``None``.

    ``"dateutil/<path>"`` makes pandas read that file as a time zone: only relative zone
    names (``"dateutil/Europe/Paris"``) are data.
    """
    if _TZ_FILE.search(text):
        return f"{text!r} names a time-zone file by path (only zone names are data)"
    return None


def _data_problem(v: Any) -> str | None:
    """What in ``v`` is not data only (scalars, dtypes, tuples of them), or ``None``."""
    if v is None or isinstance(v, (bool, int, float, str, bytes, np.generic)):
        return None
    if v is no_default or v is pd.NA or v is pd.NaT or isinstance(v, (pd.Timestamp, pd.Timedelta)):
        return None
    if isinstance(v, (np.dtype, pd.api.extensions.ExtensionDtype)):
        return check_dtype_text(str(v))
    if isinstance(v, tuple):  # also FrozenList / FrozenDict
        for x in v:
            problem = _data_problem(x)
            if problem is not None:
                return problem
        return None
    if isinstance(v, list):
        return "a plain JSON array (plan lists are stored as {'$list': [...]})"
    if isinstance(v, Node):
        return f"a {type(v).__name__} node where only data (scalars, dtypes, tuples) is allowed"
    return f"a {type(v).__name__} where only data (scalars, dtypes, tuples) is allowed"


def data(value: Any, fields: Mapping[str, Any], trust: Trust) -> str | None:
    """Data only: scalars, dtypes, ``no_default``/NA/NaT, tuples (frozen lists/dicts) of them."""
    return _data_problem(value)


def _dtype_value(value: Any, fields: Mapping[str, Any], trust: Trust) -> str | None:
    """Data, and no dtype string (or tuple of them) that names a time-zone file."""
    if isinstance(value, str):
        return check_dtype_text(value)
    if isinstance(value, tuple):
        return next((p for x in value if (p := _dtype_value(x, fields, trust))), None)
    return _data_problem(value)


def one_of(allowed: Collection[str]) -> Check:
    """A string in ``allowed``."""

    def check(value: Any, fields: Mapping[str, Any], trust: Trust) -> str | None:
        if isinstance(value, str) and value in allowed:
            return None
        return f"{_show(value)} is not allowed; allowed: {_names(allowed)}"

    return check


def _ufunc(value: Any, fields: Mapping[str, Any], trust: Trust) -> str | None:
    if isinstance(value, str) and value in UFUNCS:
        return None
    return f"{_show(value)} is not a NumPy ufunc with one output (numpy.sqrt, numpy.log, ...)"


def _node_of(kind: type[Node]) -> Check:
    def check(value: Any, fields: Mapping[str, Any], trust: Trust) -> str | None:
        if isinstance(value, kind):
            return None
        return f"{_show(value)} is not a {kind.__name__} node"

    return check


def _nodes_of(kind: type[Node]) -> Check:
    def check(value: Any, fields: Mapping[str, Any], trust: Trust) -> str | None:
        if isinstance(value, tuple) and all(isinstance(x, kind) for x in value):
            return None
        return f"{_show(value)} is not a tuple of {kind.__name__} nodes"

    return check


expr = _node_of(ex.Expr)
relation = _node_of(rel.Relation)
exprs = _nodes_of(ex.Expr)
relations = _nodes_of(rel.Relation)


def _labelled_exprs(value: Any, fields: Mapping[str, Any], trust: Trust) -> str | None:
    ok = isinstance(value, tuple) and all(
        isinstance(p, tuple)
        and len(p) == 2
        and _data_problem(p[0]) is None
        and isinstance(p[1], ex.Expr)
        for p in value
    )
    return None if ok else f"{_show(value)} is not a tuple of (label, expression) pairs"


def _kwargs_problem(value: Any, allowed: Collection[str], what: str) -> str | None:
    if not isinstance(value, tuple) or not all(
        isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in value
    ):
        return f"{_show(value)} is not a tuple of (name, value) pairs"
    for name, v in value:
        if name not in allowed:
            return f"keyword {name!r} is not allowed for {what}; allowed: {_names(allowed)}"
        problem = _data_problem(v)
        if problem is not None:
            return f"keyword {name!r} of {what}: {problem}"
    return None


def kwargs_in(allowed: Collection[str], what: str) -> Check:
    """``(name, data)`` pairs with every name in ``allowed``."""

    def check(value: Any, fields: Mapping[str, Any], trust: Trust) -> str | None:
        return _kwargs_problem(value, allowed, what)

    return check


def kwargs_by(selector: str, table: Mapping[str, Collection[str]]) -> Check:
    """``(name, data)`` pairs named from ``table[fields[selector]]`` (the method's options)."""

    def check(value: Any, fields: Mapping[str, Any], trust: Trust) -> str | None:
        method = fields.get(selector)
        allowed = table.get(method, ()) if isinstance(method, str) else ()
        return _kwargs_problem(value, allowed, repr(method))

    return check


def _dt_args(value: Any, fields: Mapping[str, Any], trust: Trust) -> str | None:
    """Data; a time zone (``tz_localize("...")``) is a zone name, not a file path."""
    return _dtype_value(value, fields, trust)


def _dt_kwargs(value: Any, fields: Mapping[str, Any], trust: Trust) -> str | None:
    problem = _kwargs_problem(value, DT_KWARGS, f"dt.{fields.get('method')}")
    if problem is None:
        return _dtype_value(tuple(v for _, v in value), fields, trust)
    return problem


def _names_in(allowed: Collection[str]) -> Check:
    def check(value: Any, fields: Mapping[str, Any], trust: Trust) -> str | None:
        if not isinstance(value, tuple) or not all(isinstance(x, str) for x in value):
            return f"{_show(value)} is not a tuple of keyword names"
        bad = [x for x in value if x not in allowed]
        if bad:
            return f"keyword {bad[0]!r} is not allowed; allowed: {_names(allowed)}"
        return None

    return check


def _agg_function(name: Any, fields: Mapping[str, Any]) -> str | None:
    """``name`` is allowed for the ``Aggregate``'s form (a method, or a ``gb.agg`` name)."""
    allowed = GROUP_METHODS if fields.get("form", "method") == "method" else AGG_FUNCS
    if isinstance(name, str) and name in allowed:
        return None
    return f"aggregation {_show(name)} is not allowed; allowed: {_names(allowed)}"


def _agg_functions(value: Any, fields: Mapping[str, Any], trust: Trust) -> str | None:
    if not isinstance(value, tuple):
        return f"{_show(value)} is not a tuple of function names"
    return next((p for f in value if (p := _agg_function(f, fields))), None)


def _agg_arguments(value: Any, fields: Mapping[str, Any], trust: Trust) -> str | None:
    return _kwargs_problem(value, GROUP_KWARGS, "a groupby aggregation")


def _measures(value: Any, fields: Mapping[str, Any], trust: Trust) -> str | None:
    """A tuple of measures: data labels, an allowed function, allowed keyword arguments."""
    if not isinstance(value, tuple):
        return f"{_show(value)} is not a tuple of measures"
    for m in value:
        if not isinstance(m, rel.Measure):
            return f"{_show(m)} is not a measure (output, input, function, arguments)"
        problem = (
            _data_problem((m.output, m.input))
            or _agg_function(m.function, fields)
            or _agg_arguments(m.arguments, fields, trust)
        )
        if problem is not None:
            return f"measure {_show(m.output)}: {problem}"
    return None


def _replace_arg(value: Any, fields: Mapping[str, Any], trust: Trust) -> str | None:
    if isinstance(value, tuple) and len(value) == 2 and value[0] in _REPLACE_KINDS:
        return _data_problem(value[1])
    return f"{_show(value)} is not a tagged replace argument ({_names(_REPLACE_KINDS)})"


def _pyfunc(value: Any, fields: Mapping[str, Any], trust: Trust) -> str | None:
    return None if isinstance(value, udf.PyFunc) else f"{_show(value)} is not a Python function"


def _dataref(value: Any, fields: Mapping[str, Any], trust: Trust) -> str | None:
    return None if isinstance(value, rel.DataRef) else f"{_show(value)} is not in-memory data"


def _path(value: Any, fields: Mapping[str, Any], trust: Trust) -> str | None:
    if not isinstance(value, str):
        return f"{_show(value)} is not a path"
    if trust.allow_io:
        return None
    if _SCHEME.match(value) or "://" in value:
        return f"{value!r} is not a local file: reading URLs needs allow_io=True"
    if os.path.realpath(value) in trust.allow_paths:
        return None
    named = f" (allow_paths names {_names(trust.allow_paths)})" if trust.allow_paths else ""
    return (
        f"reading the file {value!r} needs allow_io=True or allow_paths naming it{named}: "
        "a plan from JSON reads no file unless the caller says so"
    )


def _version_entry(e: Any) -> bool:
    return (
        isinstance(e, tuple)
        and len(e) == 6
        and isinstance(e[0], str)
        and all(isinstance(x, int) and not isinstance(x, bool) for x in e[1:])
    )


def _file_version(value: Any, fields: Mapping[str, Any], trust: Trust) -> str | None:
    """A reader's recorded file identity: compared with the file, never opened by name."""
    if value is None or (isinstance(value, tuple) and all(map(_version_entry, value))):
        return None
    return f"{_show(value)} is not None or ((name, size, mtime, inode, device, digest), ...)"


# the policy table ------------------------------------------------------------------------

Policy = Mapping[str, Check]
"""A check per field of a node class."""

_UNARY_EXPR: Policy = {"input": expr}

POLICIES: dict[type[Node], Policy] = {
    # relations
    rel.Source: {"data": _dataref, "origin": data, "lineage": relations},
    rel.ReadCsv: {"path": _path, "options": data, "version": _file_version, "narrow": data},
    rel.ReadParquet: {"path": _path, "columns": data, "options": data, "version": _file_version},
    rel.Project: {"input": relation, "expressions": _labelled_exprs},
    rel.WithColumns: {"input": relation, "expressions": _labelled_exprs},
    rel.Filter: {"input": relation, "condition": expr},
    rel.Drop: {"input": relation, "columns": data},
    rel.Rename: {"input": relation, "mapping": data},
    rel.Head: {"input": relation, "n": data},
    rel.Tail: {"input": relation, "n": data},
    rel.Slice: {"input": relation, "start": data, "stop": data, "step": data},
    rel.Sort: {
        "input": relation,
        **dict.fromkeys(("by", "ascending", "kind", "na_position", "ignore_index"), data),
    },
    rel.SortIndex: {
        "input": relation,
        **dict.fromkeys(("ascending", "kind", "na_position", "ignore_index"), data),
    },
    rel.TopK: {"input": relation, **dict.fromkeys(("n", "columns", "keep", "largest"), data)},
    rel.SeriesMethod: {
        "input": relation,
        "value": expr,
        "method": one_of(rel.SERIES_METHODS),
        "kwargs": kwargs_by("method", SERIES_METHOD_KWARGS),
    },
    rel.Aggregate: {
        "input": relation,
        "keys": data,
        "measures": _measures,
        "form": one_of(rel.AGG_FORMS),
        "functions": _agg_functions,
        "arguments": _agg_arguments,
        "selection": one_of(rel.AGG_SELECTIONS),
        "selected": data,
        "shape": one_of(rel.AGG_SHAPES),
        **dict.fromkeys(("key_list", "as_index", "sort", "dropna"), data),
    },
    rel.FrameReduce: {
        "input": relation,
        "func": one_of(FRAME_REDUCE_FUNCS),
        "kwargs": kwargs_by("func", _REDUCE_KWARGS_BY_FUNC),
    },
    rel.ScalarResult: {"input": relation, "expr": expr},
    rel.Join: {
        "left": relation,
        "right": relation,
        **dict.fromkeys(
            (
                *("how", "on", "left_on", "right_on", "left_index", "right_index"),
                *("suffixes", "sort", "indicator", "validate"),
            ),
            data,
        ),
    },
    rel.IndexJoin: {
        "left": relation,
        "right": relation,
        **dict.fromkeys(("on", "how", "lsuffix", "rsuffix", "sort", "validate", "suffixes"), data),
    },
    rel.Concat: {
        "inputs": relations,
        **dict.fromkeys(("axis", "join", "ignore_index", "sort"), data),
    },
    rel.SetIndex: {"input": relation, **dict.fromkeys(("keys", "drop", "append"), data)},
    rel.ResetIndex: {"input": relation, "drop": data, "names": data},
    rel.DropDuplicates: {
        "input": relation,
        **dict.fromkeys(("subset", "keep", "ignore_index"), data),
    },
    rel.DropNa: {
        "input": relation,
        **dict.fromkeys(("how", "thresh", "subset", "ignore_index"), data),
    },
    rel.FrameElementwise: {
        "input": relation,
        "method": one_of(rel.FRAME_ELEMENTWISE),
        "kwargs": kwargs_by("method", FRAME_ELEMENTWISE_KWARGS),
    },
    rel.Describe: {
        "input": relation,
        "percentiles": data,
        "include": _dtype_value,
        "exclude": _dtype_value,
    },
    # expressions
    ex.Col: {"name": data},
    ex.Lit: {"value": data},
    ex.Alias: {"input": expr, "name": data},
    ex.BinaryOp: {"op": one_of(ex.BINARY_OPS), "left": expr, "right": expr},
    ex.UnaryOp: {"op": one_of(ex.UNARY_OPS), "input": expr},
    ex.Ufunc: {"name": _ufunc, "inputs": exprs},
    ex.FillNa: {"input": expr, "value": expr},
    ex.IsNa: _UNARY_EXPR,
    ex.NotNa: _UNARY_EXPR,
    ex.Cast: {"input": expr, "dtype": _dtype_value},
    ex.Where: {"input": expr, "cond": expr, "other": expr, "mask": data},
    ex.Clip: {"input": expr, "lower": expr, "upper": expr},
    ex.Round: {"input": expr, "decimals": data},
    ex.Between: {"input": expr, "left": expr, "right": expr, "inclusive": data},
    ex.IsIn: {"input": expr, "values": data},
    ex.MapDict: {"input": expr, "mapping": data, "na_action": data},
    ex.Replace: {
        "input": expr,
        "to_replace": _replace_arg,
        "value": _replace_arg,
        "regex": data,
    },
    ex.Reduce: {
        "func": one_of(ex.REDUCTIONS),
        "input": expr,
        "kwargs": kwargs_by("func", _REDUCE_KWARGS_BY_FUNC),
    },
    ex.InplaceCall: {
        "input": expr,
        "method": one_of(INPLACE_METHODS),
        "args": exprs,
        "kwnames": _names_in(INPLACE_KWARGS),
        "kwvalues": exprs,
    },
    # strings
    st.StrCase: {"input": expr, "how": one_of(st.STR_CASES)},
    st.StrStrip: {"input": expr, "side": one_of(_STRIP_SIDES), "to_strip": data},
    st.StrLen: _UNARY_EXPR,
    st.StrContains: {
        "input": expr,
        **dict.fromkeys(("pat", "case", "flags", "na", "regex"), data),
    },
    st.StrStartsWith: {"input": expr, "pat": data, "na": data},
    st.StrEndsWith: {"input": expr, "pat": data, "na": data},
    st.StrReplace: {
        "input": expr,
        **dict.fromkeys(("pat", "repl", "n", "case", "flags", "regex"), data),
    },
    st.StrSlice: {"input": expr, "start": data, "stop": data, "step": data},
    st.StrSplit: {"input": expr, "pat": data, "n": data, "regex": data},
    st.StrGet: {"input": expr, "i": data},
    st.StrCat: {"input": expr, "others": exprs, "sep": data, "na_rep": data},
    st.StrMethod: {
        "input": expr,
        "method": one_of(st.STR_METHODS),
        "args": data,
        "kwargs": kwargs_in(STR_KWARGS, "a .str method"),
    },
    # temporal
    tm.DtField: {"input": expr, "field": one_of(tm.DT_FIELDS)},
    tm.DtNormalize: _UNARY_EXPR,
    tm.DtMethod: {
        "input": expr,
        "method": one_of(tm.DT_METHODS),
        "args": _dt_args,
        "kwargs": _dt_kwargs,
    },
    # Python functions (only reachable with allow_pickle=True)
    udf.MapFunc: {
        "input": expr,
        "func": _pyfunc,
        "na_action": data,
        "method": one_of(_MAP_METHODS),
    },
    udf.RowApply: {"inputs": exprs, "labels": data, "func": _pyfunc},
}
"""The policy of every node kind: a check per field (a node kind without one is refused)."""


def check_node(cls: type[Node], fields: Mapping[str, Any], index: int, trust: Trust) -> None:
    """Refuse node ``index`` of kind ``cls`` (not built yet) unless its ``fields`` pass
    ``cls``'s policy.

    Fields the class does not declare are left to the constructor (a format error).

    Raises
    ------
    UntrustedPlanError
        Naming the node index, its kind, the field, the refused value and what is allowed.
    """
    policy = POLICIES.get(cls)
    if policy is None:
        raise UntrustedPlanError(
            f"plan node {index} ({cls.__name__}): this node kind has no trust policy, so a "
            "plan from JSON may not hold it"
        )
    for name, value in fields.items():
        check = policy.get(name)
        problem = None if check is None else check(value, fields, trust)
        if problem is not None:
            raise UntrustedPlanError(
                f"refused plan node {index} ({cls.__name__}), field {name!r}: {problem}"
            )


def check_dispatch(n: Node, field: str, allowed: Collection[str]) -> None:
    """Raise unless ``n.<field>`` (a method/function name a kernel dispatches on) is in
    ``allowed``: the kernels' own guard, for plans however they were built."""
    value = getattr(n, field)
    if value not in allowed:
        raise UntrustedPlanError(
            f"{type(n).__name__}.{field} = {_show(value)} is not allowed; "
            f"allowed: {_names(allowed)}"
        )
