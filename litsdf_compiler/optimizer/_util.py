"""Helpers shared by optimizer rules: bottom-up rewriting, column analysis, substitution."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from ..ir.base import Node, inputs, replace_children, replace_inputs, walk
from ..ir.expressions import Col, Expr
from ..ir.relations import Relation
from ..meta import derive_meta, same_meta

__all__ = [
    "rebuild_inputs",
    "relation_inputs",
    "rewrite_up",
    "rewrite_relations",
    "rewrite_relations_saturated",
    "walk_relations",
    "expr_columns",
    "substitute",
    "forget_columns",
    "shared_memo",
]

_RelT = TypeVar("_RelT", bound=Relation)

_COLUMNS: dict[int, tuple[Expr, frozenset[Hashable]]] = {}
""":func:`expr_columns` by expression identity (each entry holds its expression, so an id is
not reused while it is here); bounded, and emptied by the optimizer driver when it is done."""
_COLUMNS_LIMIT = 8192

_MEMOS: list[dict[Any, Any]] = [_COLUMNS]
"""Memos that outlive one rule call (see :func:`shared_memo`); emptied with ``_COLUMNS``."""


def rewrite_up(plan: Node, fn: Callable[[Node], Node]) -> Node:
    """Apply ``fn`` to every node bottom-up (children first), sharing rewritten sub-plans.

    Returns ``plan`` itself when ``fn`` changes nothing anywhere.
    """
    memo: dict[int, Node] = {}

    def visit(n: Node) -> Node:
        key = id(n)
        hit = memo.get(key)
        if hit is None:
            hit = fn(replace_children(n, visit))
            memo[key] = hit
        return hit

    return visit(plan)


def relation_inputs(n: Node) -> list[Relation]:
    """The relation inputs of ``n``, in field order (its declared input fields)."""
    return inputs(n)  # type: ignore[return-value]


def rebuild_inputs(n: _RelT, fn: Callable[[Relation], Node]) -> _RelT:
    """``replace_children(n, fn)`` for a relation: ``fn`` maps its relation inputs only
    (expressions are left alone). A rebuilt node has ``n``'s parameters, which
    :func:`..meta.derive_meta` is told (its metadata is ``n``'s when its inputs keep their
    schemas)."""
    rebuilt = replace_inputs(n, fn)  # type: ignore[arg-type]
    if rebuilt is not n:
        derive_meta(rebuilt, n)
    return rebuilt


def rewrite_relations(plan: Node, fn: Callable[[Relation], Node]) -> Node:
    """Apply ``fn`` to every *relation* bottom-up (inputs first), sharing rewritten sub-plans.

    Expressions are not descended into (``fn`` rewrites a node's expressions itself if it
    wants to). Returns ``plan`` itself when ``fn`` changes nothing anywhere.
    """
    memo: dict[int, Node] = {}

    def visit(n: Node) -> Node:
        if not isinstance(n, Relation):
            return n
        key = id(n)
        hit = memo.get(key)
        if hit is None:
            hit = fn(rebuild_inputs(n, visit))
            memo[key] = hit
        return hit

    return visit(plan)


_MAX_LOCAL_REWRITES = 64
"""How many times local rules may change one relation before the walk calls it a loop."""


def rewrite_relations_saturated(
    plan: Node, rewrites: Sequence[tuple[str, Callable[[Relation], Node]]], fired: list[str]
) -> Node:
    """Apply named local ``rewrites`` to every relation bottom-up, each relation until none of
    them changes it: the result is a fixed point of every rewrite.

    A rewrite sees a relation whose inputs are already rewritten; inputs a rewrite builds are
    rewritten in turn before the relation is offered to the rewrites again. Names of the
    rewrites that changed something are appended to ``fired`` (each once, in the order they
    first fired). Returns ``plan`` itself when no rewrite changes anything.

    Raises
    ------
    OptimizerLoopError
        When the rewrites keep changing one relation (they cycle or grow it).
    """
    memo: dict[int, tuple[Node, Node]] = {}  # id -> (node, result): holds both alive
    count = len(rewrites)

    def visit(n: Node) -> Node:
        if not isinstance(n, Relation):
            return n
        hit = memo.get(id(n))
        if hit is not None:
            return hit[1]
        cur: Node = rebuild_inputs(n, visit)
        changes = 0
        unchanged = 0  # rewrites in a row that returned ``cur`` itself
        i = 0
        while unchanged < count:
            name, fn = rewrites[i]
            new = fn(cur)  # type: ignore[arg-type]
            if new is cur:
                unchanged += 1
            else:
                changes += 1
                if changes > _MAX_LOCAL_REWRITES:
                    from . import OptimizerLoopError

                    raise OptimizerLoopError(
                        f"local rules {', '.join(r for r, _ in rewrites)} keep changing a "
                        f"{type(cur).__name__} node (last: {name})"
                    )
                if name not in fired:
                    fired.append(name)
                if isinstance(new, Relation):
                    new = rebuild_inputs(new, visit)
                memo[id(new)] = (new, new)  # (visited: its inputs are rewritten)
                cur, unchanged = new, 0
                if not isinstance(cur, Relation):
                    break
            i = (i + 1) % count
        if cur is not n:
            # local rewrites keep each relation's output exactly (and inputs are replaced
            # by relations with their outputs): ``cur`` has ``n``'s metadata
            same_meta(cur, n)
        memo[id(n)] = (n, cur)
        memo[id(cur)] = (cur, cur)
        return cur

    return visit(plan) if count else plan


def walk_relations(plan: Node) -> list[Relation]:
    """Every distinct relation reachable from ``plan`` through relation inputs (not through
    expressions)."""
    out: list[Relation] = []
    seen: set[int] = set()
    stack = [plan]
    while stack:
        n = stack.pop()
        if id(n) in seen or not isinstance(n, Relation):
            continue
        seen.add(id(n))
        out.append(n)
        stack.extend(inputs(n))
    return out


def expr_columns(expr: Expr) -> frozenset[Hashable]:
    """Labels of the columns an expression reads (memoized by identity: rules ask about the
    same shared expressions many times)."""
    hit = _COLUMNS.get(id(expr))
    if hit is not None and hit[0] is expr:
        return hit[1]
    out = frozenset([n.name for n in walk(expr) if isinstance(n, Col)])
    if len(_COLUMNS) >= _COLUMNS_LIMIT:
        _COLUMNS.clear()
    _COLUMNS[id(expr)] = (expr, out)
    return out


def forget_columns() -> None:
    """Empty the :func:`expr_columns` memo and every :func:`shared_memo` (nothing is kept
    alive by them)."""
    for memo in _MEMOS:
        memo.clear()


def shared_memo() -> dict[Any, Any]:
    """A new dict for a memo that rules keep across calls (by node identity: each entry must
    hold the objects whose ids key it, so no id is reused while it is there). The optimizer
    driver empties it when it is done (:func:`forget_columns`); its owner bounds its size."""
    memo: dict[Any, Any] = {}
    _MEMOS.append(memo)
    return memo


def substitute(expr: Expr, mapping: dict[Hashable, Expr]) -> Expr:
    """``expr`` with every ``Col(label)`` in ``mapping`` replaced by ``mapping[label]``."""

    def fn(n: Node) -> Node:
        if isinstance(n, Col) and n.name in mapping:
            return mapping[n.name]
        return n

    out = rewrite_up(expr, fn)
    assert isinstance(out, Expr)
    return out


def has_duplicates(labels: tuple[Any, ...]) -> bool:
    """Whether ``labels`` repeats a label (rules stay away from such frames)."""
    return len(set(labels)) != len(labels)
