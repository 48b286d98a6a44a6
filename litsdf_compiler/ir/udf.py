"""Python functions inside a plan: ``s.map(func)``, ``s.apply(func)``, ``df.apply(f, axis=1)``.

A UDF stays a plan node (not a fallback), so backends can inline it into a row kernel or
compile it; the function itself is held by :class:`PyFunc`, compared by identity and stored in
JSON with cloudpickle (marked as such: loading one runs code, so readers must opt in).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from .base import node
from .expressions import Expr

__all__ = ["PyFunc", "MapFunc", "RowApply"]


class PyFunc:
    """A Python callable held by a plan: equal only to itself (identity), named for display."""

    __slots__ = ("args", "func", "kwargs")

    def __init__(
        self, func: Callable[..., Any], args: tuple[Any, ...] = (), kwargs: Any = ()
    ) -> None:
        if not callable(func):
            raise TypeError(f"expected a callable, got {type(func).__name__}: {func!r}")
        self.func = func
        self.args = tuple(args)
        self.kwargs = tuple(dict(kwargs).items())

    @property
    def name(self) -> str:
        """``module.qualname`` of the function (``<lambda>`` for lambdas)."""
        qual = getattr(self.func, "__qualname__", None) or type(self.func).__name__
        module = getattr(self.func, "__module__", None)
        return f"{module}.{qual}" if module not in (None, "builtins", "__main__") else qual

    def __call__(self, value: Any) -> Any:
        if self.args or self.kwargs:
            return self.func(value, *self.args, **dict(self.kwargs))
        return self.func(value)

    def bound(self) -> Callable[[Any], Any]:
        """A one-argument callable: the function itself when no extra arguments are bound."""
        return self.func if not (self.args or self.kwargs) else self

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, PyFunc)
            and other.func is self.func
            and other.args == self.args
            and other.kwargs == self.kwargs
        )

    def __hash__(self) -> int:
        return hash((id(self.func), self.args, self.kwargs))

    def __repr__(self) -> str:
        extra = "".join(f", {a!r}" for a in self.args) + "".join(
            f", {k}={v!r}" for k, v in self.kwargs
        )
        return f"{self.name}(x{extra})" if extra else self.name


@node
class MapFunc(Expr):
    """``s.map(func, na_action)`` / ``s.apply(func)`` (``method``): ``func`` on every element."""

    input: Expr
    func: PyFunc
    na_action: str | None = None
    method: str = "map"


@node
class RowApply(Expr):
    """``df.apply(func, axis=1)`` returning one scalar per row; ``func`` gets the row as a
    Series indexed by ``labels`` (named by the row's index label)."""

    inputs: tuple[Expr, ...]
    labels: tuple[Hashable, ...]
    func: PyFunc
