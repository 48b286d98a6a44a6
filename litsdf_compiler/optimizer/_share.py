"""Hash-consing: structurally equal sub-plans become one node object.

The same sub-plan can appear as distinct but equal objects: pandas code that builds the same
step twice (``df[df.a > 1]`` written in two places), cached results substituted below a
shared node, or two rules rewriting two copies alike. :func:`share` makes every equal pair
one object, so each backend computes a shared sub-plan once (a backend that memoizes by node
identity as well as one that memoizes by equality), equality tests between plan nodes hit
their identity fast path, and rules walking the plan by identity visit it once.

The optimizer driver applies it before and after the rules (it changes no plan's structure,
so it is not a rule: a rule must change the plan's structure when it returns a new object).
Expressions are interned when they are built (:class:`..ir.base.Interned`), so it visits
relations only and keys each expression by its identity.
"""

from __future__ import annotations

from typing import Any

from ..ir.base import _PLAIN, Node, _key, _rebuild
from ..ir.relations import Relation
from ..meta import adopt_meta

__all__ = ["share", "Sharer"]


class Sharer:
    """Hash-consing with a table that outlives one call: :func:`share` is ``Sharer()(plan)``.

    The optimizer driver calls one ``Sharer`` before and after the rules, so the second call
    visits only the nodes the rules built (every node the first call saw or made maps to its
    canonical node at once). The table keeps each node it saw alive (so no identity is
    reused while it is a key) until the ``Sharer`` is dropped.
    """

    __slots__ = ("_canon", "_memo")

    def __init__(self) -> None:
        # (type, field keys with nodes by the id of their canonical node) -> canonical node
        self._canon: dict[Any, Node] = {}
        self._memo: dict[int, tuple[Node, Node]] = {}  # id(node) -> (node, canonical)

    def __call__(self, plan: Node) -> Node:
        canon = self._canon
        memo = self._memo

        def values(value: tuple[Any, ...]) -> tuple[tuple[Any, ...], Any]:
            """``value`` with its nodes canonical, and its comparison key (a node keyed by
            identity: its canonical object is the same for every equal node)."""
            items: list[Any] | None = None
            parts: list[Any] = []
            for i, v in enumerate(value):
                t = type(v)
                if t in _PLAIN:
                    parts.append((t, v))
                    continue
                new: Any
                if t is tuple and len(v) == 2 and type(v[0]) in _PLAIN and isinstance(v[1], Node):
                    # a ``(label, expression)`` pair: what the general case below gives, inline
                    label, e = v
                    ne = visit(e)
                    parts.append(((type(label), label), id(ne)))
                    if ne is e:
                        continue
                    new = (label, ne)
                elif isinstance(v, Node):
                    new = visit(v)
                    parts.append(id(new))
                elif isinstance(v, tuple):
                    new, k = values(v)
                    parts.append(k)
                else:
                    parts.append(_key(v))
                    continue
                if new is not v:
                    if items is None:
                        items = list(value)
                    items[i] = new
            if type(value) is tuple:
                return (value if items is None else tuple(items)), tuple(parts)
            out = value if items is None else type(value)(items)
            return out, (type(value), tuple(parts))

        def visit(n: Node) -> Node:
            if n._interned:  # (an expression: equal live ones are one object already)
                return n
            entry = memo.get(id(n))
            if entry is not None:
                return entry[1]
            names = n.__match_args__
            fields = tuple([getattr(n, f) for f in names])
            new_fields, key = values(fields)
            rebuilt = n
            if new_fields is not fields:
                changes = {
                    f: v for f, v, o in zip(names, new_fields, fields, strict=True) if v is not o
                }
                rebuilt = _rebuild(n, changes)
            hit = canon.setdefault((type(n), key), rebuilt)
            if hit is not n:
                if isinstance(n, Relation):  # (expressions have no metadata of their own)
                    adopt_meta(hit, n)  # an equal node has the same metadata
                if hit is rebuilt:  # a new canonical node: a later call meets it in plans
                    memo[id(hit)] = (hit, hit)
            memo[id(n)] = (n, hit)
            return hit

        return visit(plan)


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
    return Sharer()(plan)
