"""Immutable plan-node base: frozen slotted dataclasses with cached structural hashing.

Every IR node holds data only. Two nodes are equal when they have the same type and equal
fields; the hash is computed once and cached, so plans can be dictionary keys cheaply.
"""

from __future__ import annotations

import dataclasses
import types
import typing
import weakref
from collections.abc import Callable, Iterator
from functools import partial
from types import MemberDescriptorType
from typing import Any, ClassVar, TypeVar, dataclass_transform

import numpy as np

__all__ = [
    "Node",
    "node",
    "NODE_TYPES",
    "children",
    "inputs",
    "walk",
    "replace_children",
    "replace_inputs",
    "FrozenList",
    "FrozenDict",
    "freeze",
    "thaw",
]

NODE_TYPES: dict[str, type[Node]] = {}
"""Every concrete node class by name (used by the JSON deserializer)."""

_T = TypeVar("_T")


@dataclass_transform(frozen_default=True, eq_default=False)
def node(cls: type[_T] | None = None, *, register: bool = True) -> Any:
    """Class decorator: make ``cls`` a frozen, slotted, structurally hashed plan node.

    It also declares the node's children once, from the field annotations (see
    :attr:`Node._children`): a field annotated as a node class, a ``tuple[<node>, ...]`` or a
    ``tuple[tuple[<label>, <node>], ...]`` holds children; the fields named in the class's
    ``_non_child`` are data although their annotation names nodes. Any other annotation that
    mentions a node class is refused (say which it is).

    ``@node(register=False)`` leaves the class out of :data:`NODE_TYPES`, so the JSON reader
    never builds it (the physical plan of :mod:`litsdf_compiler.lower` is never serialized).
    """

    def make(c: type[_T]) -> type[_T]:
        out = dataclasses.dataclass(frozen=True, slots=True, eq=False, repr=False)(c)
        _declare_children(out)  # type: ignore[arg-type]
        if register:
            NODE_TYPES[out.__name__] = out  # type: ignore[assignment]
        return out

    return make if cls is None else make(cls)


_ONE, _SEQ, _PAIRS = 0, 1, 2
"""How a child field holds its children: one node, a tuple of nodes, ``(label, node)`` pairs."""


class Node:
    """Base of relational and expression nodes (holds data only, never executes).

    Every concrete class (made by :func:`node`) declares which fields hold its children:
    :func:`children`, :func:`walk`, :func:`replace_children` and :func:`inputs` read those
    fields only, never the others (a ``Source``'s ``lineage``, for one, is explain-only data).
    """

    __slots__ = ("__weakref__", "_hash")
    __match_args__: ClassVar[tuple[str, ...]] = ()
    _interned: ClassVar[bool] = False
    """Whether construction returns the one live node equal to the new one (see
    :class:`Interned`)."""
    _relational: ClassVar[bool] = False
    """Whether nodes of this class are relations (their fields are a node's *inputs*)."""
    _non_child: ClassVar[tuple[str, ...]] = ()
    """Fields whose annotation names nodes but which hold data, not children (explicit)."""
    _children: ClassVar[tuple[str, ...]] = ()
    """The fields that hold child nodes (relations and expressions), in field order."""
    _inputs: ClassVar[tuple[str, ...]] = ()
    """The child fields that hold relations (the relation inputs), in field order."""
    _child_fields: ClassVar[tuple[tuple[str, int], ...]] = ()
    """``(field, how)`` per child field (``_ONE``, ``_SEQ`` or ``_PAIRS``)."""
    _input_fields: ClassVar[tuple[tuple[str, int], ...]] = ()
    """``(field, how)`` per relation-input field."""

    def __hash__(self) -> int:
        h = getattr(self, "_hash", None)  # (cheaper than catching the unset slot's error)
        if h is None:
            parts = [_hash_part(getattr(self, f)) for f in self.__match_args__]
            h = hash((type(self).__name__, *parts))
            object.__setattr__(self, "_hash", h)
        return h  # type: ignore[no-any-return]

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


_PLAIN = frozenset({str, int, bool, type(None), bytes})
"""Scalar types whose comparison key is ``(type, value)`` (fast path of :func:`_key`)."""


def _key(value: Any) -> Any:
    """Comparison key: type-aware for scalars (``1``, ``1.0`` and ``True`` differ; NaN == NaN)."""
    t = type(value)
    if t in _PLAIN:
        return (t, value)
    if isinstance(value, Node):
        return value
    if t is tuple:
        return tuple([_key(v) for v in value])
    if isinstance(value, tuple):
        return (t, tuple([_key(v) for v in value]))
    if isinstance(value, (float, np.floating)):
        return (t, float(value).hex())  # ``-0.0`` differs from ``0.0``; every NaN is equal
    return (t, value)


_TUPLE_HASHES: dict[int, tuple[tuple[Any, ...], int]] = {}
"""``hash(_key(t))`` by the identity of parameter tuple ``t`` (each entry holds its tuple, so
no id is reused while it is here): a node rebuilt over new inputs keeps its parameter tuples
(a ``WithColumns``' expressions), so hashing it does not walk them again. Bounded; tuples of
nodes (inputs, lineage) are not memoized."""
_TUPLE_HASHES_LIMIT = 4096


def _hash_part(value: Any) -> Any:
    """A field's part of its node's hash, such that fields with equal :func:`_key` have equal
    parts: a plain scalar itself (a hash may be coarser than equality: ``1`` and ``True``
    hash alike), a node itself, the (memoized) hash of a tuple's key, else the key."""
    t = type(value)
    if t in _PLAIN or isinstance(value, Node):
        return value
    if not isinstance(value, tuple) or not value or isinstance(value[0], Node):
        return _key(value)  # (a tuple of relations is not kept alive here: it may hold data)
    hit = _TUPLE_HASHES.get(id(value))
    if hit is not None and hit[0] is value:
        return hit[1]
    h = hash(_key(value))
    if len(_TUPLE_HASHES) >= _TUPLE_HASHES_LIMIT:
        _TUPLE_HASHES.clear()
    _TUPLE_HASHES[id(value)] = (value, h)
    return h


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


def _declare_children(cls: type[Node]) -> None:
    """Set ``cls``'s child declarations from its field annotations (see :func:`node`)."""
    try:
        hints = typing.get_type_hints(cls)
    except Exception as err:  # (an annotation naming something undefined)
        raise TypeError(f"cannot resolve the field annotations of {cls.__name__}: {err}") from err
    fields = cls.__match_args__
    unknown = set(cls._non_child) - set(fields)
    if unknown:
        raise TypeError(f"{cls.__name__}._non_child names no field: {sorted(unknown)}")
    kids: list[tuple[str, int]] = []
    ins: list[tuple[str, int]] = []
    for f in fields:
        if f in cls._non_child:
            continue
        kind = _child_kind(hints[f])
        if kind is None:
            if _mentions_node(hints[f]):
                raise TypeError(
                    f"{cls.__name__}.{f}: the annotation {hints[f]!r} mentions a node class but "
                    "is not a node, a tuple of nodes or (label, node) pairs; declare it as "
                    "one of those or list it in _non_child"
                )
            continue
        how, elem = kind
        kids.append((f, how))
        if elem._relational:
            ins.append((f, how))
    cls._child_fields = tuple(kids)
    cls._input_fields = tuple(ins)
    cls._children = tuple(f for f, _ in kids)
    cls._inputs = tuple(f for f, _ in ins)


def _node_class(tp: Any) -> type[Node] | None:
    return tp if isinstance(tp, type) and issubclass(tp, Node) else None


def _child_kind(tp: Any) -> tuple[int, type[Node]] | None:
    """``(how, element class)`` when annotation ``tp`` declares children, else ``None``."""
    elem = _node_class(tp)
    if elem is not None:
        return _ONE, elem
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):  # ``X | None``: an optional child
        inner = [a for a in args if a is not type(None)]
        elem = _node_class(inner[0]) if len(inner) == 1 else None
        return (_ONE, elem) if elem is not None else None
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = args[0]
        elem = _node_class(item)
        if elem is not None:
            return _SEQ, elem
        sub = typing.get_args(item)
        if typing.get_origin(item) is tuple and len(sub) == 2 and not _mentions_node(sub[0]):
            elem = _node_class(sub[1])
            if elem is not None:
                return _PAIRS, elem
    return None


def _mentions_node(tp: Any) -> bool:
    return _node_class(tp) is not None or any(_mentions_node(a) for a in typing.get_args(tp))


def _collect(n: Node, fields: tuple[tuple[str, int], ...]) -> list[Node]:
    """The nodes that ``n``'s ``fields`` (``(field, how)`` declarations) hold, in order."""
    out: list[Node] = []
    for f, how in fields:
        v = getattr(n, f)
        if how == _ONE:
            if v is not None:
                out.append(v)
        elif how == _SEQ:
            out.extend(v)
        else:
            out.extend([e for _, e in v])
    return out


def children(n: Node) -> list[Node]:
    """Direct child nodes of ``n`` (relations and expressions), in field order: what its
    declared child fields hold (:attr:`Node._children`)."""
    return _collect(n, n._child_fields)


def inputs(n: Node) -> list[Node]:
    """The relation inputs of ``n`` (its children that are relations), in field order."""
    return _collect(n, n._input_fields)


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
        kids = children(n)
        if kids:
            kids.reverse()
            stack.extend(kids)


def _rebuild(n: _NodeT, changes: dict[str, Any]) -> _NodeT:
    """``dataclasses.replace(n, **changes)`` without its per-call checks (nodes have no
    ``__post_init__`` and every field is an ``__init__`` argument)."""
    cls = type(n)
    new = object.__new__(cls)
    setters = _SETTERS.get(cls)
    if setters is None:
        setters = _SETTERS[cls] = _field_setters(cls)
    for f, set_field in setters:
        set_field(new, changes[f] if f in changes else getattr(n, f))
    if cls._interned:
        return intern(new)
    return new


_SETTERS: dict[type, tuple[tuple[str, Callable[[Any, Any], None]], ...]] = {}


def _field_setters(cls: type[Node]) -> tuple[tuple[str, Callable[[Any, Any], None]], ...]:
    """``(field, setter)`` per field of ``cls``: the slot's own setter (what
    ``object.__setattr__`` ends up calling on a frozen slotted node, without the lookup)."""
    out: list[tuple[str, Callable[[Any, Any], None]]] = []
    for f in cls.__match_args__:
        slot = getattr(cls, f, None)
        if isinstance(slot, MemberDescriptorType):
            out.append((f, slot.__set__))
        else:
            out.append((f, partial(_set_attribute, name=f)))
    return tuple(out)


def _set_attribute(obj: Any, value: Any, name: str) -> None:
    object.__setattr__(obj, name, value)


def replace_children(n: _NodeT, fn: Callable[[Node], Node]) -> _NodeT:
    """Return ``n`` with every child replaced by ``fn(child)``; ``n`` itself if none changed."""
    return _replace(n, n._child_fields, fn)


def replace_inputs(n: _NodeT, fn: Callable[[Node], Node]) -> _NodeT:
    """Return ``n`` with every relation input replaced by ``fn(input)`` (expressions are left
    alone); ``n`` itself if none changed."""
    return _replace(n, n._input_fields, fn)


def _replace(n: _NodeT, fields: tuple[tuple[str, int], ...], fn: Callable[[Node], Node]) -> _NodeT:
    changes: dict[str, Any] | None = None
    for f, how in fields:
        old = getattr(n, f)
        new: Any
        if how == _ONE:
            if old is None:
                continue
            new = fn(old)
        elif how == _SEQ:
            new = _map_seq(old, fn)
        else:
            new = _map_pairs(old, fn)
        if new is not old:
            if changes is None:
                changes = {}
            changes[f] = new
    if changes is None:
        return n
    return _rebuild(n, changes)


def _map_seq(value: tuple[Node, ...], fn: Callable[[Node], Node]) -> tuple[Node, ...]:
    """``value`` with ``fn`` applied to each node; the very same tuple when nothing changed."""
    new = [fn(v) for v in value]
    if all(a is b for a, b in zip(new, value, strict=True)):
        return value
    return tuple(new) if type(value) is tuple else type(value)(new)


def _map_pairs(
    value: tuple[tuple[Any, Node], ...], fn: Callable[[Node], Node]
) -> tuple[tuple[Any, Node], ...]:
    """``(label, node)`` pairs with ``fn`` applied to the nodes; the same tuple if unchanged."""
    items: list[Any] | None = None
    for i, pair in enumerate(value):
        e = pair[1]
        new = fn(e)
        if new is not e:
            if items is None:
                items = list(value)
            items[i] = (pair[0], new)
    if items is None:
        return value
    return tuple(items) if type(value) is tuple else type(value)(items)


_NodeT = TypeVar("_NodeT", bound=Node)


class Interned(type):
    """Metaclass of node classes whose construction is hash-consed: building a node equal to
    a live one returns that one, so equal nodes of these classes are usually one object.

    Expressions use it (they hold no data and no file: equal ones are interchangeable
    anywhere). Equality stays structural: interning only makes equal nodes *usually*
    identical (not when two threads build the same node at once, nor for a node whose fields
    cannot be keyed), so the optimizer can share them without comparing structures, and rules
    asking about an expression seen in another node find their memo by identity.
    """

    def __init__(cls, name: str, bases: tuple[type, ...], ns: dict[str, Any]) -> None:
        super().__init__(name, bases, ns)
        cls._interned = True

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return intern(super().__call__(*args, **kwargs))


_INTERNED: dict[Any, Any] = {}
"""Intern key (:func:`_intern_key`) -> weak reference to the live node with that key."""


def _intern_key(n: Node) -> Any:
    """``n``'s type and fields, child nodes by identity: equal keys mean equal nodes (the key
    holds the ids of children that ``n`` keeps alive, so no id is reused while it is used)."""
    return (type(n), _tuple_key(tuple([getattr(n, f) for f in n.__match_args__])))


def _tuple_key(value: tuple[Any, ...]) -> Any:
    """:func:`_key` of ``value`` with the nodes in it keyed by identity."""
    out: list[Any] = [type(value)]
    for v in value:
        t = type(v)
        if t in _PLAIN:
            out.append((t, v))
        elif isinstance(v, Node):
            out.append(id(v))
        elif isinstance(v, tuple):
            out.append(_tuple_key(v))
        else:
            out.append(_key(v))
    return tuple(out)


def intern(n: _NodeT) -> _NodeT:
    """The live node equal to ``n`` that was interned first, else ``n`` (now interned)."""
    try:
        key = _intern_key(n)
        ref = _INTERNED.get(key)
    except TypeError:  # a field that cannot be a dict key: ``n`` stays on its own
        return n
    if ref is not None:
        hit = ref()
        if hit is not None:
            return hit  # type: ignore[no-any-return]
    _INTERNED[key] = weakref.ref(n, partial(_forget_interned, _INTERNED, key))
    return n


def _forget_interned(table: dict[Any, Any], key: Any, ref: weakref.ref[Node]) -> None:
    if table.get(key) is ref:  # (not a newer node interned under the same key)
        del table[key]
