"""Hash-consing: structurally equal sub-plans become one node object.

The same sub-plan can appear as distinct but equal objects: pandas code that builds the same
step twice (``df[df.a > 1]`` written in two places), cached results substituted below a
shared node, or two rules rewriting two copies alike. :func:`share` makes every equal pair
one object, so each backend computes a shared sub-plan once (a backend that memoizes by node
identity as well as one that memoizes by equality), equality tests between plan nodes hit
their identity fast path, and rules walking the plan by identity visit it once.

The optimizer driver applies it before and after the rules (it changes no plan's structure,
so it is not a rule: a rule must change the plan's structure when it returns a new object).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..ir.base import Node
from ..meta import adopt_meta

__all__ = ["share"]


def _map(value: Any, fn: Any) -> Any:
    if isinstance(value, Node):
        return fn(value)
    if isinstance(value, tuple):
        items = tuple(_map(v, fn) for v in value)
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return type(value)(items) if type(value) is not tuple else items
    return value


def share(plan: Node) -> Node:
    """``plan`` with equal sub-plans (and sub-expressions) merged into single objects.

    Parameters
    ----------
    plan : Node
        Any plan or expression.

    Returns
    -------
    Node
        An equal plan in which equal nodes are the same object; ``plan`` itself when that
        already holds.

    Examples
    --------
    >>> import litsdf as pd
    >>> df = pd.DataFrame({"a": [1, 2]})
    >>> both = pd.concat([df[df["a"] > 1], df[df["a"] > 1]])
    >>> left, right = both._plan.inputs
    >>> left is right
    False
    >>> left, right = share(both._plan).inputs
    >>> left is right
    True
    """
    canon: dict[Node, Node] = {}
    memo: dict[int, Node] = {}

    def visit(n: Node) -> Node:
        hit = memo.get(id(n))
        if hit is None:
            changes = {}
            for f in n.__match_args__:
                old = getattr(n, f)
                new = _map(old, visit)
                if new is not old:
                    changes[f] = new
            rebuilt = dataclasses.replace(n, **changes) if changes else n  # type: ignore[type-var]
            hit = canon.setdefault(rebuilt, rebuilt)
            if hit is not n:
                adopt_meta(hit, n)  # an equal node has the same metadata
            memo[id(n)] = hit
        return hit

    return visit(plan)
