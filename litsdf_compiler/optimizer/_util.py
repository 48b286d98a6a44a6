"""Helpers shared by optimizer rules: bottom-up rewriting, column analysis, substitution."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from ..ir.base import Node, replace_children, walk
from ..ir.expressions import Col, Expr
from ..ir.relations import Relation

__all__ = [
    "rewrite_up",
    "rewrite_relations",
    "walk_relations",
    "expr_columns",
    "substitute",
]


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


def rewrite_relations(plan: Node, fn: Callable[[Relation], Node]) -> Node:
    """Apply ``fn`` to every *relation* bottom-up (inputs first), sharing rewritten sub-plans.

    Expressions are not descended into (``fn`` rewrites a node's expressions itself if it
    wants to), nor is a ``Source``'s lineage (history, not input). Returns ``plan`` itself
    when ``fn`` changes nothing anywhere.
    """
    from ..ir.relations import Source

    memo: dict[int, Node] = {}

    def visit(n: Node) -> Node:
        if not isinstance(n, Relation):
            return n
        key = id(n)
        hit = memo.get(key)
        if hit is None:
            rebuilt = n if isinstance(n, Source) else replace_children(n, visit)
            assert isinstance(rebuilt, Relation)
            hit = fn(rebuilt)
            memo[key] = hit
        return hit

    return visit(plan)


def walk_relations(plan: Node) -> list[Relation]:
    """Every distinct relation reachable from ``plan`` through relation inputs (not through
    expressions, nor a ``Source``'s lineage)."""
    from ..ir.relations import Source

    out: list[Relation] = []
    seen: set[int] = set()
    stack = [plan]
    while stack:
        n = stack.pop()
        if id(n) in seen or not isinstance(n, Relation):
            continue
        seen.add(id(n))
        out.append(n)
        if isinstance(n, Source):
            continue
        for f in n.__match_args__:
            v = getattr(n, f)
            if isinstance(v, Relation):
                stack.append(v)
            elif isinstance(v, tuple):
                stack.extend(x for x in v if isinstance(x, Relation))
    return out


def expr_columns(expr: Expr) -> frozenset[Hashable]:
    """Labels of the columns an expression reads."""
    return frozenset(n.name for n in walk(expr) if isinstance(n, Col))


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
