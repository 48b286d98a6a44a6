"""Metadata inference: a node's output is computed by pandas on empty inputs (dask's ``_meta``).

This gives exact column labels, dtypes, index and Series names for value-independent
operations, and makes pandas raise its own errors (``KeyError`` for a missing column,
``TypeError`` for incompatible dtypes) when the node is built rather than when it runs.
Dtypes that depend on the values (``map`` with a dict, object inference) are approximate.
"""

from __future__ import annotations

import io
import os
import warnings
import weakref
from typing import Any

import pandas as pd

from .files import naming_file
from .ir.base import _PLAIN, Node, _key, inputs, thaw
from .ir.expressions import Expr
from .ir.frames import as_frame
from .ir.relations import Filter, Head, ReadCsv, ReadParquet, Relation, Slice, Source, Tail
from .ir.schema import Schema
from .semantics import REFERENCE

__all__ = [
    "meta_of",
    "schema_of",
    "expr_meta",
    "adopt_meta",
    "derive_meta",
    "same_meta",
]

_META: dict[int, tuple[weakref.ref[Node], Any]] = {}
"""Metadata by node *identity*: a structurally equal node built elsewhere gets its metadata
from the shape-keyed memo below (cheap), and no lookup ever compares two plans deeply."""
_CSV_SAMPLE_ROWS = 1000


def _leaf_meta(n: Relation) -> Any:
    if isinstance(n, Source):
        return n.data.data.iloc[:0]
    if isinstance(n, ReadCsv):
        opts = thaw(dict(n.options))
        # a sample of the head, except where pandas reads whole files only (pyarrow) or
        # cannot combine ``nrows`` with the option (``skipfooter``: it raises for both)
        if opts.get("engine") != "pyarrow" and not opts.get("skipfooter"):
            nrows = opts.get("nrows")  # (``nrows=0`` reads no line: not even a bad one)
            opts["nrows"] = _CSV_SAMPLE_ROWS if nrows is None else min(nrows, _CSV_SAMPLE_ROWS)
        return pd.read_csv(n.path, **opts).iloc[:0]
    if isinstance(n, ReadParquet):
        import pyarrow.parquet as pq

        try:
            if os.path.isdir(n.path):  # a directory dataset (partition columns included)
                schema = pq.ParquetDataset(n.path).schema
            else:
                schema = pq.read_schema(n.path)
        except (OSError, ValueError) as err:  # (pyarrow's ArrowInvalid names no file)
            raise naming_file(err, n.path, "read_parquet") from err
        buf = io.BytesIO()
        pq.write_table(schema.empty_table(), buf)
        buf.seek(0)
        cols = None if n.columns is None else list(n.columns)
        return pd.read_parquet(buf, columns=cols, **thaw(dict(n.options)))
    raise TypeError(f"not a leaf relation: {type(n).__name__}")


def meta_of(n: Relation) -> Any:
    """The empty pandas object (DataFrame, Series or scalar) that ``n`` produces."""
    entry = _META.get(id(n))
    hit = entry[1] if entry is not None and entry[0]() is n else None
    if hit is None:
        if isinstance(n, (Source, ReadCsv, ReadParquet)):
            hit = _leaf_meta(n)
        else:
            old = _replaced(n)
            hit = meta_of(old) if isinstance(old, Relation) else _inner_meta(n)
        key = id(n)
        _META[key] = (weakref.ref(n, lambda _: _META.pop(key, None)), hit)
    return hit


def _inner_meta(n: Relation) -> Any:
    raw = [meta_of(c) for c in inputs(n)]  # type: ignore[arg-type]
    hit = _derived_meta(n, raw)
    if hit is not None:
        return hit
    frames = [as_frame(r) for r in raw]
    try:
        return _meta_from_inputs(n, frames)
    except (KeyError, IndexError, AttributeError, NameError):
        raise  # about labels and structure: the same on the real data; no execution
    except Exception:
        return _meta_from_data(n)


_DERIVED: dict[int, tuple[weakref.ref[Node], weakref.ref[Node]]] = {}
"""For a node rebuilt over new inputs (same parameters): the node it was rebuilt from (see
:func:`derive_meta`). Entries are looked at only when the new node's metadata is asked for;
no entry keeps a node alive, and a stale one (its node gone) is never matched. Bounded."""
_DERIVED_LIMIT = 8192


def derive_meta(new: Node, old: Node) -> None:
    """Record that ``new`` is ``old`` with the same parameters over rewritten inputs.

    When ``new``'s metadata is asked for and its inputs turn out to have the schemas
    ``old``'s inputs had, ``meta_of(new)`` is ``old``'s metadata (metadata depends only on
    parameters and input schemas, as the shape memo of :func:`_meta_from_inputs` assumes),
    found without building that memo's key. ``old`` may itself be such a rebuilt node whose
    metadata was not asked for: the record passes on. Nothing is derived when neither
    ``old``'s metadata (with its inputs') nor that of a node it was rebuilt from is known.
    Recording is cheap: the work happens only for nodes whose metadata a rule asks for.
    """
    if len(_DERIVED) >= _DERIVED_LIMIT:
        _DERIVED.clear()  # (a node whose record is dropped gets its metadata computed)
    _DERIVED[id(new)] = (weakref.ref(new), weakref.ref(old))


_SAME: dict[int, tuple[weakref.ref[Node], weakref.ref[Node]]] = {}
"""For a node that a rewrite put in the place of another with the same output (see
:func:`same_meta`): that node. Weak both ways, bounded, like ``_DERIVED``."""


def same_meta(new: Node, old: Node) -> None:
    """Record that ``new`` produces exactly what ``old`` produces (a local optimizer rule's
    rewrite: same columns, dtypes, index), so ``meta_of(new)`` is ``meta_of(old)`` without
    running pandas on the rewritten node: ``old``'s metadata now when it is known (it then
    outlives ``old``), else a weak link followed when ``new``'s is asked for."""
    entry = _META.get(id(old))
    if entry is not None and entry[0]() is old:
        adopt_meta(new, old)
        return
    if len(_SAME) >= _DERIVED_LIMIT:
        _SAME.clear()
    _SAME[id(new)] = (weakref.ref(new), weakref.ref(old))


def _replaced(n: Node) -> Node | None:
    """The node ``n`` replaced with the same output (:func:`same_meta`), if recorded, alive."""
    entry = _SAME.get(id(n))
    if entry is None or entry[0]() is not n:
        return None
    return entry[1]()


def _known_input_metas(n: Node) -> list[Any] | None:
    out = []
    for c in inputs(n):
        kid = _META.get(id(c))
        if kid is None or kid[0]() is not c:
            return None
        out.append(kid[1])
    return out


def _rebuilt_from(n: Node) -> Node | None:
    """The node ``n`` was rebuilt from (:func:`derive_meta`), if recorded and alive."""
    entry = _DERIVED.get(id(n))
    if entry is None or entry[0]() is not n:
        return None
    return entry[1]()


def _derived_meta(n: Node, inputs: list[Any]) -> Any:
    """``n``'s metadata from the node it was rebuilt from (:func:`derive_meta`), or ``None``."""
    old = _rebuilt_from(n)
    while old is not None:
        entry = _META.get(id(old))
        if entry is not None and entry[0]() is old:
            olds = _known_input_metas(old)
            if olds is None or len(olds) != len(inputs):
                return None
            for new, was in zip(inputs, olds, strict=True):
                if new is not was and not _same_schema(new, was):
                    return None
            return entry[1]
        old = _rebuilt_from(old)
    return None


def _same_schema(a: Any, b: Any) -> bool:
    if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame):
        return _frame_signature(a).same_as(_frame_signature(b))
    if isinstance(a, pd.Series) and isinstance(b, pd.Series):
        same_name = _key(a.name) == _key(b.name)
        return same_name and _frame_signature(as_frame(a)).same_as(_frame_signature(as_frame(b)))
    return False


_ROW_SUBSETS = (Filter, Head, Tail, Slice)
_BY_SHAPE: dict[Any, Any] = {}
_BY_SHAPE_LIMIT = 8192


class _Signature:
    """A frame signature (:func:`_compute_signature`), one object per equal signature (as
    long as the bounded table holds it): memo keys holding it hash and compare it by
    identity instead of hashing and comparing its labels and dtypes each time."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def same_as(self, other: _Signature) -> bool:
        """Equal labels and dtypes (``==`` on the values, as before interning)."""
        return self is other or bool(self.value == other.value)


_INTERNED: dict[Any, _Signature] = {}
_SIGNATURES: dict[int, tuple[weakref.ref[Any], _Signature]] = {}


def _frame_signature(frame: Any) -> _Signature:
    """Labels and dtypes of ``frame`` (columns and index), memoized per frame object (the
    empty frames here are immutable metadata, shared by every node that reads them)."""
    entry = _SIGNATURES.get(id(frame))
    if entry is not None and entry[0]() is frame:
        return entry[1]
    value = _compute_signature(frame)
    sig = _INTERNED.get(value)
    if sig is None:
        if len(_INTERNED) >= _BY_SHAPE_LIMIT:
            _INTERNED.clear()  # later equal signatures get a new object: memo misses only
        sig = _INTERNED[value] = _Signature(value)
    key, table = id(frame), _SIGNATURES
    table[key] = (weakref.ref(frame, lambda _: table.pop(key, None)), sig)
    return sig


def _compute_signature(frame: Any) -> Any:
    index = frame.index
    return (
        type(frame.columns).__name__,
        tuple(frame.columns),
        tuple(frame.columns.names),
        repr(frame.attrs) if frame.attrs else "",  # pandas propagates attrs (may not hash)
        tuple(frame.dtypes.tolist()),
        type(index).__name__,
        tuple(index.names),
        tuple(getattr(index, "dtypes", [index.dtype])),
    )


def _meta_from_inputs(n: Relation, inputs: list[Any]) -> Any:
    """Run ``n``'s pandas kernel on empty inputs, memoized by (node parameters, input schemas).

    The output of a node on empty inputs depends only on its parameters and its inputs'
    schemas, so tracing the same pipeline shape again (a loop, a served pipeline, another
    file with the same columns) reuses the metadata instead of re-running pandas.
    A row subset (filter, head, tail, slice) has its input's schema.
    """
    if isinstance(n, _ROW_SUBSETS):
        return inputs[0]
    ins = n._inputs
    params = tuple(_param_key(getattr(n, f)) for f in n.__match_args__ if f not in ins)
    key = (type(n), params, tuple(_frame_signature(i) for i in inputs))
    hit = _BY_SHAPE.get(key)
    if hit is None:
        hit = REFERENCE.kernel(n)(n, *inputs)
        if len(_BY_SHAPE) >= _BY_SHAPE_LIMIT:
            _BY_SHAPE.clear()
        _BY_SHAPE[key] = hit
    return hit


_CANON: dict[Node, Node] = {}
"""One object per structure among the nodes in memo keys (see :func:`_canonical`)."""
_CANON_OF: dict[int, tuple[weakref.ref[Node], Node]] = {}


def _canonical(n: Node) -> Node:
    """The node equal to ``n`` that memo keys hold: keys built from equal nodes then hold
    the very same object, so comparing them is an identity check, not a walk of the two
    structures (a node is compared deeply once, when its canonical node is looked up)."""
    entry = _CANON_OF.get(id(n))
    if entry is not None and entry[0]() is n:
        return entry[1]
    if len(_CANON) >= _BY_SHAPE_LIMIT:
        _CANON.clear()  # earlier keys keep their nodes: still equal, compared deeply again
    canon = _CANON.setdefault(n, n)
    key, table = id(n), _CANON_OF  # (the callback may run at exit, after module globals)
    table[key] = (weakref.ref(n, lambda _: table.pop(key, None)), canon)
    return canon


def _param_key(value: Any) -> Any:
    """:func:`~.ir.base._key` of a node parameter, with nodes :func:`_canonical` (the same
    comparison: canonical nodes are equal exactly when the nodes are)."""
    t = type(value)
    if t in _PLAIN:
        return (t, value)
    if isinstance(value, Node):
        return _canonical(value)
    if t is tuple:
        return tuple([_param_key(v) for v in value])
    if isinstance(value, tuple):
        return (t, tuple([_param_key(v) for v in value]))
    return _key(value)


def _meta_from_data(n: Relation) -> Any:
    """pandas rejected ``n`` on empty inputs: run it on the real data, so the error raised is
    the one pandas raises for these values (with several problems, pandas reports the first
    it meets, e.g. a string that is not a number before a datetime column that can't be
    cast). If the real data runs, the empty-input error was spurious: use the real result."""
    result = REFERENCE.execute(n)
    if isinstance(result, (pd.DataFrame, pd.Series)):
        return result.iloc[:0]
    return result


def adopt_meta(new: Node, old: Node) -> None:
    """Give ``new`` the metadata already inferred for ``old``, an equal node (when it has
    some and ``new`` has none): rewrites that rebuild equal nodes keep what is known."""
    entry = _META.get(id(old))
    if entry is None or entry[0]() is not old or id(new) in _META:
        return
    key = id(new)
    _META[key] = (weakref.ref(new, lambda _: _META.pop(key, None)), entry[1])


def schema_of(n: Relation) -> Schema:
    """Column labels and dtypes (and index) of relation ``n``."""
    return Schema.from_frame(as_frame(meta_of(n)))


_EXPR_META: dict[Any, Any] = {}


def expr_meta(
    expr: Expr, frame_meta: pd.DataFrame, known: dict[Expr, Any], *, quiet: bool = False
) -> Any:
    """Empty Series that ``expr`` evaluates to on ``frame_meta``, reusing ``known`` parts.

    With no ``known`` parts the answer depends only on the expression and the frame's schema,
    so it is memoized by (expression, schema): optimizer rules asking about the same
    expression on the same schema (again in the next pass, or elsewhere in the plan) get it
    without running pandas again. ``quiet`` silences the warnings pandas gives while
    computing it (a rule asking about a dtype is not the user's code running).
    """
    if known:
        return REFERENCE.apply_expr(expr, known, frame_meta)
    key = (_canonical(expr), _frame_signature(frame_meta))
    hit = _EXPR_META.get(key, _EXPR_META)
    if hit is _EXPR_META:
        if quiet:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                hit = REFERENCE.apply_expr(expr, {}, frame_meta)
        else:
            hit = REFERENCE.apply_expr(expr, {}, frame_meta)
        if len(_EXPR_META) >= _BY_SHAPE_LIMIT:
            _EXPR_META.clear()
        _EXPR_META[key] = hit
    return hit
