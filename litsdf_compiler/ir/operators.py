"""Operator tables: ``BinaryOp.op`` / ``UnaryOp.op`` names to the Python operators they mean.

The reference kernels (:mod:`litsdf_compiler.semantics`) apply them to pandas values and the
optimizer's constant folding applies them to scalars, so both read the same table.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

__all__ = ["BINARY", "UNARY"]

BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
    "floordiv": operator.floordiv,
    "mod": operator.mod,
    "pow": operator.pow,
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "and": operator.and_,
    "or": operator.or_,
    "xor": operator.xor,
}
"""Binary operators by ``BinaryOp.op``."""

UNARY: dict[str, Callable[[Any], Any]] = {
    "neg": operator.neg,
    "pos": operator.pos,
    "invert": operator.invert,
    "abs": abs,
}
"""Unary operators by ``UnaryOp.op``."""
