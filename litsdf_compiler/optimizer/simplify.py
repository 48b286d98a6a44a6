"""Expression simplification: identities removed and literal arithmetic folded.

Before::

    Filter ((x * 1) > (2 + 3))
      WithColumns y=astype(-(-(a)), 'int64'), z=fillna(a, 0)
        Source DataFrame 3x2 [a, x]

After::

    Filter (x > 5)
      WithColumns y=a, z=a
        Source DataFrame 3x2 [a, x]

(``a`` is ``int64``, ``x`` is ``float64``.) The rewrites, each only where it is the identity
in values *and* dtype:

- ``x * 1``, ``1 * x``: numeric ``x`` (not ``bool``: ``bool * 1`` is ``int64``; not
  ``int * 1.0``, which is ``float64``; not timedeltas, which ``* 1.0`` rounds through floats);
- ``x + 0``, ``0 + x``: integer ``x`` only (``-0.0 + 0`` is ``0.0``);
- ``x - 0``: integer or float ``x`` (``-0.0 - 0`` is ``-0.0``); not ``x - (-0.0)``;
- ``x / 1``: float ``x`` (``int / 1`` is ``float64``);
- ``~~m``: ``bool``, integer, nullable ``boolean``/integer ``m`` (not object: ``~True`` is
  ``-2``);
- ``--x``: integer (wrap-around is its own inverse) and float ``x``;
- ``x.fillna(v)`` where ``x`` is NumPy ``int``/``uint``/``bool`` (no missing value can be
  there) and ``v`` a literal or a column (nothing that could raise);
- ``x.astype(t)`` where ``t`` is ``x``'s own dtype (not categorical: the categories' order
  could change);
- an operator applied to literals (Python or NumPy numbers and booleans): the value the
  backend would compute, unless computing it raises or warns (``1 / 0``, overflow) or
  could be huge (``**`` with a large exponent).

``x``'s dtype must be exact (:mod:`._dtypes`: not a left-merge column that becomes
``float64`` at run time, not a CSV column inferred from a sample, not object), and the
expression's inferred dtype must equal ``x``'s (``int8 + 0`` stays ``int8``, but
``int8 + np.int64(0)`` is ``int64``). A scalar operation keeps its operand's Series name, so
names, indexes and sign of zero are unchanged wherever the expression sits (assignments,
projections, filters, reductions, ``value_counts()``, ...).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pandas as pd
from pandas.core.dtypes.dtypes import BaseMaskedDtype

from ..ir.base import Node, replace_children
from ..ir.expressions import BinaryOp, Cast, Col, Expr, FillNa, Lit, UnaryOp
from ..ir.operators import BINARY, UNARY
from ..ir.relations import Relation
from ..meta import expr_meta
from ._dtypes import ExactColumns, exact_expr
from ._rowwise import dtypes_of, input_meta
from ._util import expr_columns, rewrite_relations, shared_memo

ORDER = 10

_UNARY = {op: fn for op, fn in UNARY.items() if op != "invert"}
"""``invert`` is not folded: ``~True`` is ``-2`` and deprecated (a warning at run time)."""
_LITERAL_TYPES = (bool, int, float, np.bool_, np.integer, np.floating)
_MAX_POW_EXPONENT = 64

_FOLDED = shared_memo()
"""``id(e) -> (e, folded, asked)`` across nodes and calls: ``asked`` tells whether folding
``e`` or any part of it asked for a dtype (then the result depends on the input, see
``_FOLDED_IN``; whether it asks is the same on every input: nothing before the first
question depends on the input)."""
_FOLDED_IN = shared_memo()
"""``(id(e), context) -> (e, frame or None, folded)`` for folds that asked dtypes: the answers
depend only on the dtypes and exactness of the columns ``e`` reads (``_Folder._context``)."""
_FOLDED_LIMIT = 8192
_HOLDS = shared_memo()
"""``id(t) -> (t, holds)``: whether parameter tuple ``t`` holds ``(label, expression)`` pairs."""


def simplify(plan: Node) -> Node:
    """Remove identity operations and fold literal arithmetic in every expression.

    Parameters
    ----------
    plan : Node
        The plan to rewrite.

    Returns
    -------
    Node
        The plan with simplified expressions, or ``plan`` itself when nothing folds.
    """
    return rewrite_relations(plan, local_rewrite())


def local_rewrite() -> Callable[[Node], Node]:
    """A fresh per-relation rewrite (a local rule: see :mod:`litsdf_compiler.optimizer`)."""
    exact = ExactColumns()

    def fn(n: Node) -> Node:
        if isinstance(n, Relation):
            return _simplify_relation(n, exact)
        return n

    return fn


def _simplify_relation(n: Relation, exact: ExactColumns) -> Relation:
    fields: list[str] = []
    inputs: list[Relation] = []
    settled = True  # every expression folded before to itself, asking no dtype
    for f in n.__match_args__:
        v = getattr(n, f)
        if isinstance(v, Relation):
            inputs.append(v)
        elif isinstance(v, Expr):
            fields.append(f)
            settled = settled and _settled(v)
        elif isinstance(v, tuple) and _holds_expressions(v):
            fields.append(f)
            settled = settled and all(_settled(e) for _, e in v)
    if not fields or len(inputs) != 1 or settled:
        return n  # (a settled expression folds to itself on any input: see ``_known``)
    folder = _Folder(inputs[0], exact)
    changes: dict[str, Any] = {}
    for f in fields:
        old = getattr(n, f)
        if isinstance(old, Expr):
            new: Any = folder.fold(old)
        else:
            new = tuple((label, folder.fold(e)) for label, e in old)
        if any(a is not b for a, b in zip(_exprs(new), _exprs(old), strict=True)):
            changes[f] = new
    if not changes:
        return n
    return dataclasses.replace(n, **changes)  # type: ignore[type-var]


def _holds_expressions(value: tuple[Any, ...]) -> bool:
    """``value`` is a non-empty tuple of ``(label, expression)`` pairs (memoized by identity:
    a node rebuilt over new inputs keeps its parameter tuples)."""
    hit = _HOLDS.get(id(value))
    if hit is not None and hit[0] is value:
        return hit[1]
    out = bool(value) and all(
        isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Expr) for item in value
    )
    if len(_HOLDS) >= _FOLDED_LIMIT:
        _HOLDS.clear()
    _HOLDS[id(value)] = (value, out)
    return out


def _settled(e: Expr) -> bool:
    """``e`` is a leaf, or folding it (by any node, on any input) gave ``e`` itself without
    asking for a dtype: folding it again changes nothing."""
    if isinstance(e, (Col, Lit)):
        return True
    hit = _FOLDED.get(id(e))
    return hit is not None and hit[0] is e and hit[1] is e and not hit[2]


def _exprs(value: Any) -> list[Expr]:
    if isinstance(value, Expr):
        return [value]
    return [e for _, e in value]


class _Folder:
    """Folds the expressions of one node, evaluated on ``rel``."""

    def __init__(self, rel: Relation, exact: ExactColumns) -> None:
        self.rel = rel
        self.exact = exact
        self._frame: pd.DataFrame | bool | None = False
        self._columns: frozenset[Hashable] | None = None
        self._metas: dict[Expr, Any] = {}
        self._folded: dict[int, tuple[Expr, Expr, bool]] = {}  # id -> (e, folded, asked)
        self._asked = False  # whether folding the current expression asked for a dtype

    # metadata ----------------------------------------------------------------------------
    def frame(self) -> pd.DataFrame | None:
        if self._frame is False:
            self._frame = input_meta(self.rel)
        return self._frame  # type: ignore[return-value]

    def columns(self) -> frozenset[Hashable]:
        if self._columns is None:
            self._columns = self.exact(self.rel)
        return self._columns

    def dtype(self, e: Expr, exact: bool = True) -> Any:
        """The dtype ``e`` evaluates to, or ``None`` when not a Series, raising, or (with
        ``exact``) not exact."""
        self._asked = True
        frame = self.frame()
        if frame is None or (exact and not exact_expr(e, self.columns())):
            return None
        meta = self._metas.get(e, self._metas)
        if meta is self._metas:
            try:
                meta = expr_meta(e, frame, {}, quiet=True)
            except Exception:
                meta = None
            self._metas[e] = meta
        return meta.dtype if isinstance(meta, pd.Series) else None

    # folding -----------------------------------------------------------------------------
    def fold(self, e: Expr) -> Expr:
        """``e`` with every foldable sub-expression folded (bottom-up; a sub-expression shared
        by several parents is folded once)."""
        if isinstance(e, (Col, Lit)):
            return e  # a leaf: nothing to fold
        hit = self._folded.get(id(e))
        if hit is not None and hit[0] is e:
            self._asked = self._asked or hit[2]  # a parent depends on what its parts did
            return hit[1]
        outer, self._asked = self._asked, False
        folded = self._known(e)
        if folded is None:
            out = replace_children(e, lambda c: self.fold(c) if isinstance(c, Expr) else c)
            folded = self._fold_node(e, out)
            self._remember(e, folded)
        self._folded[id(e)] = (e, folded, self._asked)
        self._asked = self._asked or outer
        return folded

    def _context(self, e: Expr) -> tuple[Any, pd.DataFrame | None]:
        """What the dtypes asked while folding ``e`` depend on, as a memo key (and the frame
        an entry under that key must keep alive): the dtype and exactness of each column
        ``e`` reads (all ``str`` labels of a frame with unique labels), so an expression
        folded on one node's input is known on every input with the same such columns;
        else this very input (its metadata frame and exact columns)."""
        frame = self.frame()
        if frame is None:
            return (None,), None
        reads = expr_columns(e)
        cols = self.columns()
        dtypes = dtypes_of(frame, reads)
        if dtypes is None:
            return (id(frame), cols), frame
        return (dtypes, tuple([c in cols for c in reads])), None

    def _known(self, e: Expr) -> Expr | None:
        """``e`` folded earlier (by another node or call) on an input that gives the same
        answers, or ``None``."""
        hit = _FOLDED.get(id(e))
        if hit is None or hit[0] is not e:
            return None
        if not hit[2]:
            return hit[1]  # asked no dtype (nor did its parts): folds alike on every input
        self._asked = True  # (folding it again asks again: whether it asks depends on e only)
        key, _ = self._context(e)
        entry = _FOLDED_IN.get((id(e), key))
        if entry is None or entry[0] is not e:
            return None
        return entry[2]  # type: ignore[no-any-return]

    def _remember(self, e: Expr, folded: Expr) -> None:
        if len(_FOLDED) >= _FOLDED_LIMIT or len(_FOLDED_IN) >= _FOLDED_LIMIT:
            _FOLDED.clear()
            _FOLDED_IN.clear()
        _FOLDED[id(e)] = (e, folded, self._asked)
        if self._asked:
            key, frame = self._context(e)
            _FOLDED_IN[(id(e), key)] = (e, frame, folded)  # (holds ``e`` and ``frame``)

    def _fold_node(self, orig: Expr, e: Expr) -> Expr:
        if isinstance(e, BinaryOp):
            lit = _fold_literals(e)
            if lit is not None:
                return lit
            return self._identity_binary(orig, e)
        if isinstance(e, UnaryOp):
            if isinstance(e.input, Lit):
                return _fold_unary_literal(e) or e
            return self._identity_unary(orig, e)
        if isinstance(e, FillNa):
            return self._fillna(orig, e)
        if isinstance(e, Cast):
            return self._cast(orig, e)
        return e

    def _same_dtype(self, orig: Expr, operand: Expr, kinds: str, masked: str) -> bool:
        """``operand`` has an exact dtype of one of ``kinds`` (NumPy) or a nullable dtype of
        one of ``masked`` kinds, and ``orig`` has that very dtype."""
        dtype = self.dtype(operand)
        if dtype is None:
            return False
        if isinstance(dtype, np.dtype):
            if dtype.kind not in kinds:
                return False
        elif not (isinstance(dtype, BaseMaskedDtype) and dtype.kind in masked):
            return False
        result = self.dtype(orig)
        if result is None or result != dtype:
            return False
        return isinstance(dtype, np.dtype) or repr(result) == repr(dtype)  # (str storages)

    def _identity_binary(self, orig: Expr, e: BinaryOp) -> Expr:
        assert isinstance(orig, BinaryOp)
        op = e.op
        if op == "mul":
            for side, other, o in ((e.left, e.right, orig.left), (e.right, e.left, orig.right)):
                if _is_number(other, 1) and self._same_dtype(orig, o, "iuf", "iuf"):
                    return side
        elif op == "add":
            for side, other, o in ((e.left, e.right, orig.left), (e.right, e.left, orig.right)):
                if _is_number(other, 0) and self._same_dtype(orig, o, "iu", "iu"):
                    return side
        elif op == "sub":
            if _is_number(e.right, 0) and self._same_dtype(orig, orig.left, "iuf", "iuf"):
                return e.left
        elif (
            op == "truediv"
            and _is_number(e.right, 1)
            and self._same_dtype(orig, orig.left, "f", "f")
        ):
            return e.left
        return e

    def _identity_unary(self, orig: Expr, e: UnaryOp) -> Expr:
        assert isinstance(orig, UnaryOp)
        inner = e.input
        if not (isinstance(inner, UnaryOp) and inner.op == e.op):
            return e
        assert isinstance(orig.input, UnaryOp)
        operand = orig.input.input
        if e.op == "invert":
            ok = self._same_dtype(orig, operand, "biu", "biub")
        elif e.op == "neg":
            ok = self._same_dtype(orig, operand, "iuf", "iuf")
        else:
            ok = False
        if ok and self._same_dtype(orig.input, operand, "biuf", "biuf"):
            return inner.input
        return e

    def _fillna(self, orig: Expr, e: FillNa) -> Expr:
        assert isinstance(orig, FillNa)
        if not isinstance(e.value, (Lit, Col)):
            return e
        dtype = self.dtype(orig.input)
        if not (isinstance(dtype, np.dtype) and dtype.kind in "iub"):
            return e
        result = self.dtype(orig, exact=False)
        if result is not None and result == dtype:
            return e.input
        return e

    def _cast(self, orig: Expr, e: Cast) -> Expr:
        assert isinstance(orig, Cast)
        dtype = self.dtype(orig.input)
        if dtype is None or isinstance(dtype, pd.CategoricalDtype):
            return e
        try:
            target = pd.api.types.pandas_dtype(e.dtype)
        except TypeError:
            return e
        if target != dtype or repr(target) != repr(dtype):
            return e
        result = self.dtype(orig, exact=False)
        if result is not None and result == dtype and repr(result) == repr(dtype):
            return e.input
        return e


def _is_number(e: Expr, value: int) -> bool:
    """``e`` is the literal ``value`` as a (non-boolean) int or float, and ``+0`` for zero."""
    if not isinstance(e, Lit):
        return False
    v = e.value
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        return False
    if v != value:
        return False
    return value != 0 or math.copysign(1.0, float(v)) > 0


def _literal_value(e: Expr) -> Any:
    if isinstance(e, Lit) and isinstance(e.value, _LITERAL_TYPES):
        return e.value
    return None


def _safe_compute(fn: Any, *args: Any) -> Lit | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            value = fn(*args)
    except Exception:
        return None
    if not isinstance(value, _LITERAL_TYPES):
        return None
    return Lit(value)


def _fold_literals(e: BinaryOp) -> Lit | None:
    a, b = _literal_value(e.left), _literal_value(e.right)
    if a is None or b is None:
        return None
    if e.op == "pow" and not (abs(b) <= _MAX_POW_EXPONENT and abs(a) <= 2**32):
        return None
    return _safe_compute(BINARY[e.op], a, b)


def _fold_unary_literal(e: UnaryOp) -> Lit | None:
    a = _literal_value(e.input)
    fn = _UNARY.get(e.op)
    if a is None or fn is None:
        return None
    return _safe_compute(fn, a)
