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

from typing import Any

from ..ir.base import Node, _key, _map_tuple, _rebuild
from ..meta import adopt_meta

__all__ = ["share"]


def _shallow(value: Any) -> Any:
    """Comparison key of a field whose nodes are canonical already: equal nodes are then the
    same object, so a node is keyed by identity (``Node.__eq__`` would compare it deeply);
    other values as ``Node.__eq__`` compares them. The canonical nodes stay alive in the
    table, so no identity is reused while it is a key."""
    if isinstance(value, Node):
        return id(value)
    if type(value) is tuple:
        return tuple([_shallow(v) for v in value])
    if isinstance(value, tuple):
        return (type(value), tuple([_shallow(v) for v in value]))
    return _key(value)


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
    canon: dict[Any, Node] = {}  # shallow key (see _shallow) -> the canonical node
    memo: dict[int, Node] = {}

    def visit(n: Node) -> Node:
        hit = memo.get(id(n))
        if hit is None:
            changes: dict[str, Any] = {}
            for f in n.__match_args__:
                old = getattr(n, f)
                new: Any
                if isinstance(old, Node):
                    new = visit(old)
                elif isinstance(old, tuple) and old:
                    new = _map_tuple(old, visit)
                else:
                    continue
                if new is not old:
                    changes[f] = new
            rebuilt = _rebuild(n, changes) if changes else n
            key = (type(rebuilt), tuple([_shallow(getattr(rebuilt, f)) for f in n.__match_args__]))
            hit = canon.setdefault(key, rebuilt)
            if hit is not n:
                adopt_meta(hit, n)  # an equal node has the same metadata
            memo[id(n)] = hit
        return hit

    return visit(plan)
