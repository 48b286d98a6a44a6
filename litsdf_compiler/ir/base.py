"""Immutable plan-node base: frozen slotted dataclasses with cached structural hashing.

Every IR node holds data only. Two nodes are equal when they have the same type and equal
fields; the hash is computed once and cached, so plans can be dictionary keys cheaply.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, TypeVar, dataclass_transform

__all__ = [
    "Node",
    "node",
    "NODE_TYPES",
    "children",
    "walk",
    "replace_children",
    "FrozenList",
    "FrozenDict",
    "freeze",
    "thaw",
]

NODE_TYPES: dict[str, type[Node]] = {}
"""Every concrete node class by name (used by the JSON deserializer)."""

_T = TypeVar("_T")


@dataclass_transform(frozen_default=True, eq_default=False)
def node(cls: type[_T]) -> type[_T]:
    """Class decorator: make ``cls`` a frozen, slotted, structurally hashed plan node."""
    out = dataclasses.dataclass(frozen=True, slots=True, eq=False, repr=False)(cls)
    NODE_TYPES[out.__name__] = out  # type: ignore[assignment]
    return out


class Node:
    """Base of relational and expression nodes (holds data only, never executes)."""

    __slots__ = ("__weakref__", "_hash")
    __match_args__: ClassVar[tuple[str, ...]] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(_key(getattr(self, f)) for f in self.__match_args__)

    def __hash__(self) -> int:
        try:
            return self._hash  # type: ignore[attr-defined,no-any-return]
        except AttributeError:
            h = hash((type(self).__name__, self._values()))
            object.__setattr__(self, "_hash", h)
            return h

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(self) is not type(other) or hash(self) != hash(other):
            return False
        return _nodes_equal(self, other, set())  # type: ignore[arg-type]

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.__match_args__)
        return f"{type(self).__name__}({inner})"


class FrozenList(tuple):  # type: ignore[type-arg]
    """A list argument stored in a node (pandas treats lists and tuples differently)."""

    __slots__ = ()


class FrozenDict(tuple):  # type: ignore[type-arg]
    """A dict argument stored in a node, as ``(key, value)`` pairs in insertion order."""

    __slots__ = ()


def freeze(value: Any) -> Any:
    """Make a pandas argument hashable: lists, arrays and dicts become frozen tuples."""
    import numpy as np

    if isinstance(value, dict):
        return FrozenDict((k, freeze(v)) for k, v in value.items())
    if isinstance(value, (list, np.ndarray)):
        return FrozenList(freeze(v) for v in value)
    if isinstance(value, tuple) and type(value) is tuple:
        return tuple(freeze(v) for v in value)
    hash(value)  # raises TypeError for anything else that cannot live in a plan
    return value


def thaw(value: Any) -> Any:
    """Reverse :func:`freeze`: frozen lists and dicts back to ``list`` and ``dict``."""
    if isinstance(value, FrozenDict):
        return {k: thaw(v) for k, v in value}
    if type(value) is dict:  # ``thaw(dict(node.kwargs))``: thaw the values
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, FrozenList):
        return [thaw(v) for v in value]
    if type(value) is tuple:
        return tuple(thaw(v) for v in value)
    return value


def _key(value: Any) -> Any:
    """Comparison key: type-aware for scalars (``1``, ``1.0`` and ``True`` differ; NaN == NaN)."""
    if isinstance(value, Node):
        return value
    if type(value) is tuple:
        return tuple(_key(v) for v in value)
    if isinstance(value, tuple):
        return (type(value), tuple(_key(v) for v in value))
    if isinstance(value, float) and value != value:
        return (float, "nan")
    return (type(value), value)


def _nodes_equal(a: Node, b: Node, seen: set[tuple[int, int]]) -> bool:
    """Structural equality that compares each pair of sub-plans once.

    Plans are DAGs (a frame reused by two later steps is one shared node); comparing them as
    trees would take time exponential in the number of such reuses.
    """
    pair = (id(a), id(b))
    if pair in seen:
        return True
    seen.add(pair)
    return all(_values_equal(getattr(a, f), getattr(b, f), seen) for f in a.__match_args__)


def _values_equal(x: Any, y: Any, seen: set[tuple[int, int]]) -> bool:
    if x is y:
        return True
    if isinstance(x, Node):
        return type(x) is type(y) and hash(x) == hash(y) and _nodes_equal(x, y, seen)
    if isinstance(x, tuple):
        return (
            isinstance(y, tuple)
            and type(x) is type(y)
            and len(x) == len(y)
            and all(_values_equal(a, b, seen) for a, b in zip(x, y, strict=True))
        )
    return bool(_key(x) == _key(y))


def _child_nodes(value: Any) -> Iterator[Node]:
    if isinstance(value, Node):
        yield value
    elif isinstance(value, tuple):
        for v in value:
            yield from _child_nodes(v)


def children(n: Node) -> list[Node]:
    """Direct child nodes of ``n`` (relations and expressions), in field order."""
    out: list[Node] = []
    for f in n.__match_args__:
        out.extend(_child_nodes(getattr(n, f)))
    return out


def walk(root: Node) -> Iterator[Node]:
    """Yield every distinct node reachable from ``root`` (pre-order, each node once)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        yield n
        stack.extend(reversed(children(n)))


def _map_value(value: Any, fn: Callable[[Node], Node]) -> Any:
    """``value`` with ``fn`` applied to the nodes in it; the very same object when ``fn``
    returned every node unchanged (so callers compare by identity, not deeply)."""
    if isinstance(value, Node):
        return fn(value)
    if isinstance(value, tuple) and value:
        items = [_map_value(v, fn) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return tuple(items) if type(value) is tuple else type(value)(items)
    return value


def replace_children(n: _NodeT, fn: Callable[[Node], Node]) -> _NodeT:
    """Return ``n`` with every child replaced by ``fn(child)``; ``n`` itself if none changed."""
    changes: dict[str, Any] = {}
    for f in n.__match_args__:
        old = getattr(n, f)
        new = _map_value(old, fn)
        if new is not old and new != old:
            changes[f] = new
    if not changes:
        return n
    return dataclasses.replace(n, **changes)  # type: ignore[type-var]


_NodeT = TypeVar("_NodeT", bound=Node)
