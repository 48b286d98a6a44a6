"""Dead fields out of the physical plan: each node carries only the fields something above
it reads.

The logical plan keeps every column a step produces (a merge outputs all columns of both
sides, and an ``Aggregate`` above it reads two). Lowering keeps that shape; :func:`prune`
then walks the physical plan from the root, collects the fields each node's consumers read
(the union, for a node shared by several), and rebuilds the plan with:

* a ``HashJoin`` producing only the outputs read above it (its keys are still read from its
  inputs);
* a ``Compute`` evaluating only the expressions read above it, except expressions that may
  raise on some values (``astype``, in-place calls): pandas raises when they run, so they
  stay, as in the logical dead-column rule;
* a ``Select`` (or the node's own schema) narrowed to the fields read;
* a ``GroupAgg`` reading only its keys and measured fields;
* ``Filter``, ``Limit``, ``OrderBy``, ``Distinct`` and ``TopK``, which carry every field of
  their input, narrowed through their input; over an input that keeps all its fields (a
  ``Scan``, a ``GroupAgg``, a ``UnionAll``, an island) a ``Select`` of the fields read is
  placed under them when that drops a field.

Finalize nodes read their value fields and index level fields; an island's operands are
Finalize nodes and keep every field (the pandas object they build is the island's input).
Row identities are untouched: no node here changes which rows there are or their order.
"""

from __future__ import annotations

from typing import Any

from ..ir import expressions as ex
from ..ir.base import Node, walk
from .nodes import (
    Compute,
    Distinct,
    Filter,
    Finalize,
    GroupAgg,
    HashJoin,
    Limit,
    OrderBy,
    Physical,
    Select,
    TopK,
)

__all__ = ["prune"]

_PASS_THROUGH = (Filter, Limit, OrderBy, Distinct, TopK)
"""Nodes whose output fields are their input's (their schema is the input's)."""


def _refs(e: Node) -> set[str]:
    return {x.name for x in walk(e) if isinstance(x, ex.Col)}  # type: ignore[misc]


def may_raise(e: ex.Expr) -> bool:
    """Whether evaluating ``e`` may raise on some values (a cast, an in-place call)."""
    return any(isinstance(x, (ex.Cast, ex.InplaceCall)) for x in walk(e))


def _reads(n: Physical, want: set[str]) -> list[tuple[Physical, set[str]]]:
    """The fields ``n`` reads from each input when ``want`` of its fields are read."""
    if isinstance(n, Finalize):
        fields = set(n.fields)
        if n.index and n.index[0] == "levels":
            fields |= set(n.index[1])
        return [(n.input, fields)]
    if isinstance(n, Compute):
        outs = {name for name, _ in n.expressions}
        need = {f for f in want if f not in outs}
        for name, e in n.expressions:
            if name in want or may_raise(e):
                need |= _refs(e)
        return [(n.input, need & set(n.input.names()))]
    if isinstance(n, Select):
        return [(n.input, set(want))]
    if isinstance(n, Filter):
        return [(n.input, set(want) | _refs(n.condition))]
    if isinstance(n, OrderBy):
        return [(n.input, set(want) | {k for k, _ in n.keys})]
    if isinstance(n, (Distinct, TopK)):
        return [(n.input, set(want) | set(n.keys))]
    if isinstance(n, Limit):
        return [(n.input, set(want))]
    if isinstance(n, GroupAgg):
        return [(n.input, set(n.keys) | {m[1] for m in n.measures if m[1] is not None})]
    if isinstance(n, HashJoin):
        left, right = set(n.left_keys), set(n.right_keys)
        for out, lf, rf in n.outputs:
            if out in want:
                left |= {lf} if lf is not None else set()
                right |= {rf} if rf is not None else set()
        return [(n.left, left), (n.right, right)]
    # (Scan, UnionAll, PandasCall: every field of every input)
    return [(i, set(i.names())) for i in n.inputs]


def _order(root: Physical) -> list[Physical]:
    """Every node once, each before all of its inputs (consumers first)."""
    post: list[Physical] = []
    seen: set[int] = set()
    stack: list[tuple[Physical, bool]] = [(root, False)]
    while stack:
        n, done = stack.pop()
        if done:
            post.append(n)
            continue
        if id(n) in seen:
            continue
        seen.add(id(n))
        stack.append((n, True))
        stack.extend((i, False) for i in n.inputs)
    return post[::-1]


def prune(root: Finalize) -> Finalize:
    """``root``'s plan with every field no consumer reads removed (see the module
    docstring); the same plan when nothing is dead.

    Parameters
    ----------
    root : Finalize
        A lowered plan.

    Returns
    -------
    Finalize
        The plan computing the same result with fewer fields.
    """
    order = _order(root)
    want: dict[int, set[str]] = {id(root): set(root.names())}
    for n in order:  # (consumers first: a node's set is complete when it is reached)
        fields = want.setdefault(id(n), set())
        if not fields and n.schema:  # (every node keeps a field: a table has a length)
            fields.add(n.schema[0].name)
        for child, reads in _reads(n, fields):
            want.setdefault(id(child), set()).update(reads)
    if all(want.get(id(n), set()) >= set(n.names()) for n in order):
        return root
    built: dict[int, Physical] = {}
    for n in reversed(order):  # (inputs first)
        built[id(n)] = _rebuild(n, want.get(id(n), set()), built)
    out = built[id(root)]
    assert isinstance(out, Finalize)
    return out


def _narrowed(node: Physical, fields: set[str]) -> Physical:
    """``node``, or a ``Select`` of ``fields`` over it when that drops a field."""
    if set(node.names()) <= fields or not fields:
        return node
    schema = tuple(f for f in node.schema if f.name in fields)
    return Select(input=node, schema=schema)


def _rebuild(n: Physical, want: set[str], built: dict[int, Physical]) -> Physical:
    import dataclasses

    def new(i: Physical) -> Physical:
        return built[id(i)]

    if isinstance(n, Finalize):
        inp = new(n.input)
        if inp is n.input:
            return n
        return dataclasses.replace(n, input=inp, schema=inp.schema)
    if isinstance(n, Compute):
        inp = new(n.input)
        exprs = tuple((name, e) for name, e in n.expressions if name in want or may_raise(e))
        schema = tuple(f for f in n.schema if f.name in want or f.name in dict(exprs))
        if inp is n.input and exprs == n.expressions and schema == n.schema:
            return n
        return dataclasses.replace(n, input=inp, expressions=exprs, schema=schema)
    if isinstance(n, Select):
        inp = new(n.input)
        schema = tuple(f for f in n.schema if f.name in want)
        if not schema:
            schema = n.schema[:1]
        if inp is n.input and schema == n.schema:
            return n
        return dataclasses.replace(n, input=inp, schema=schema)
    if isinstance(n, _PASS_THROUGH):
        reads = _reads(n, want)[0][1]
        inp = _narrowed(new(n.input), reads)
        if inp is n.input:
            return n
        return dataclasses.replace(n, input=inp, schema=inp.schema)
    if isinstance(n, HashJoin):
        left, right = new(n.left), new(n.right)
        outputs = tuple(o for o in n.outputs if o[0] in want) or n.outputs[:1]
        kept = {o[0] for o in outputs}
        schema = tuple(f for f in n.schema if f.name in kept)
        if left is n.left and right is n.right and outputs == n.outputs:
            return n
        return dataclasses.replace(n, left=left, right=right, outputs=outputs, schema=schema)
    # (a node that keeps its fields: only its inputs are rebuilt)
    return _same_fields(n, built)


def _same_fields(n: Physical, built: dict[int, Physical]) -> Physical:
    from ..ir.base import replace_children

    def sub(x: Node) -> Node:
        if isinstance(x, Physical):
            return built.get(id(x), x)
        return x

    out: Any = replace_children(n, sub)
    return out  # type: ignore[no-any-return]
