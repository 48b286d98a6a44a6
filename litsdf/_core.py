"""Shared machinery of the front end: execution of handles, the fallback path, wrapping."""

from __future__ import annotations

import collections
import contextlib
import contextvars
import os
import sys
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd

from litsdf_compiler import engine
from litsdf_compiler.ir.base import Node
from litsdf_compiler.ir.relations import DataRef, Relation, Source

from ._config import options

if TYPE_CHECKING:
    pass

__all__ = [
    "FallbackWarning",
    "FallbackError",
    "fallback_counts",
    "reset_fallback_counts",
    "materialize",
    "last_decision",
    "wrap",
    "unwrap",
    "fallback",
    "source",
    "probe",
]


class FallbackWarning(UserWarning):
    """pandas API that litsdf does not trace ran in pandas on materialized data."""


class FallbackError(NotImplementedError):
    """Raised instead of a fallback when ``litsdf.options.fallback == "raise"``."""


_COUNTS: collections.Counter[str] = collections.Counter()
_DECISIONS: weakref.WeakKeyDictionary[Node, engine.Decision] = weakref.WeakKeyDictionary()


def fallback_counts() -> dict[str, int]:
    """How many times each untraced method ran through the fallback path in this process."""
    return dict(_COUNTS)


def reset_fallback_counts() -> None:
    """Forget the fallback counts."""
    _COUNTS.clear()


def _note_fallback(what: str, stacklevel: int = 4, check: Callable[[], Any] | None = None) -> None:
    """Count/warn a fallback of ``what``, or raise :class:`FallbackError` in strict mode.

    ``check`` (from :func:`probe`) runs the pandas call first in strict mode, so a call that
    pandas rejects raises pandas' own error rather than ``FallbackError``.
    """
    mode = options.fallback
    if mode == "raise":
        if check is not None:
            check()
        raise FallbackError(
            f"{what} is not traced by litsdf (options.fallback='raise'); "
            "set litsdf.options.fallback='warn' to run it in pandas"
        )
    _COUNTS[what] += 1
    if mode == "warn":
        warnings.warn(
            f"{what} is not traced by litsdf: ran it in pandas on materialized data",
            FallbackWarning,
            stacklevel=_user_stacklevel(),
        )


_PACKAGE_DIRS = (
    os.path.dirname(os.path.abspath(__file__)) + os.sep,  # litsdf/
    os.path.dirname(os.path.abspath(engine.__file__)) + os.sep,  # litsdf_compiler/
)


def _user_stacklevel() -> int:
    """``stacklevel`` for ``warnings.warn`` (called from :func:`_note_fallback`) that points at
    the first frame outside litsdf: the user's line that caused the fallback."""
    frame = sys._getframe(1)  # _note_fallback
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIRS):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


_TRACING: contextvars.ContextVar[frozenset[str] | None] = contextvars.ContextVar(
    "litsdf_tracing", default=None
)
"""Tokens of the placeholder inputs while :func:`litsdf.compile` traces a function."""


class TraceError(TypeError):
    """A function traced by :func:`litsdf.compile` needs its input's *values*."""


@contextlib.contextmanager
def tracing(tokens: frozenset[str]) -> Iterator[None]:
    """Within the block, computing anything from the placeholder inputs ``tokens`` raises
    :class:`TraceError` (a compiled pipeline cannot depend on values seen while tracing)."""
    reset = _TRACING.set(tokens)
    try:
        yield
    finally:
        _TRACING.reset(reset)


def _check_not_tracing(plan: Relation, what: str | None = None) -> None:
    tokens = _TRACING.get()
    if tokens is None:
        return
    from litsdf_compiler.ir.base import walk

    for n in walk(plan):
        if isinstance(n, Source) and n.data.token in tokens:
            why = (
                f"{what} is pandas API that litsdf does not trace"
                if what
                else "len(), bool(), printing, iterating, .values, ..."
            )
            raise TraceError(
                f"litsdf.compile: the function needs the values of its input while it is "
                f"traced ({why}); a compiled pipeline must be whole-column pandas calls"
            )


def materialize(plan: Relation) -> Any:
    """Execute ``plan`` (or reuse its remembered result) and return the raw pandas value."""
    hit = engine.cached(plan)
    if hit is not None:
        return hit
    _check_not_tracing(plan)
    try:
        result, decision = engine.execute(plan, options.backend, options.optimize)
    except engine.BackendDeclined as err:
        if options.fallback == "raise" or options.backend == "auto":
            raise
        _note_fallback(f"backend {options.backend!r} ({err})")
        result, decision = engine.execute(plan, "pandas", options.optimize)
    engine.remember(plan, result)
    _DECISIONS[plan] = decision
    return result


def last_decision(plan: Relation) -> engine.Decision | None:
    """The backend decision of the last execution of ``plan``, if it ran."""
    return _DECISIONS.get(plan)


def source(data: Any, origin: str = "DataFrame", lineage: tuple[Relation, ...] = ()) -> Source:
    """A plan source holding the pandas DataFrame ``data``."""
    return Source(DataRef(data), origin=origin, lineage=lineage)


def wrap(value: Any, origin: str = "DataFrame", lineage: tuple[Relation, ...] = ()) -> Any:
    """Wrap pandas results as litsdf handles; anything else is returned unchanged."""
    from .frame import DataFrame
    from .series import Series

    if isinstance(value, pd.DataFrame):
        return DataFrame._from_plan(source(value, origin, lineage))
    if isinstance(value, pd.Series):
        return Series._from_pandas(value, origin, lineage)
    if isinstance(value, _PROXIED):
        return PandasProxy(value, origin, lineage)
    return value


_PROXIED = tuple(
    getattr(pd.api.typing, name)
    for name in (
        "DataFrameGroupBy",
        "SeriesGroupBy",
        "Rolling",
        "RollingGroupBy",
        "Expanding",
        "ExpandingGroupBy",
        "ExponentialMovingWindow",
        "ExponentialMovingWindowGroupBy",
        "Window",
        "Resampler",
    )
    if hasattr(pd.api.typing, name)
)


class PandasProxy:
    """An intermediate pandas object returned by a fallback (``df.rolling(2)``, a groupby with
    a function key, ``df.resample(...)``): its methods run in pandas and their results are
    wrapped again, so the chain ends in litsdf objects (the first fallback was counted)."""

    __slots__ = ("_lineage", "_obj", "_origin")

    def __init__(self, obj: Any, origin: str, lineage: tuple[Relation, ...]) -> None:
        self._obj, self._origin, self._lineage = obj, origin, lineage

    def _wrap(self, value: Any, name: str) -> Any:
        return wrap(value, f"{self._origin}.{name}", self._lineage)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._obj, name)
        if callable(attr):

            def call(*args: Any, **kwargs: Any) -> Any:
                return self._wrap(attr(*unwrap(list(args)), **unwrap(kwargs)), name)

            return call
        return self._wrap(attr, name)

    def __getitem__(self, key: Any) -> Any:
        return self._wrap(self._obj[unwrap(key)], "__getitem__")

    def __iter__(self) -> Any:
        for item in self._obj:
            if isinstance(item, tuple):
                yield tuple(self._wrap(v, "__iter__") for v in item)
            else:
                yield self._wrap(item, "__iter__")

    def __len__(self) -> int:
        return len(self._obj)

    def __repr__(self) -> str:
        return repr(self._obj)

    def to_pandas(self) -> Any:
        """The pandas object itself."""
        return self._obj


def unwrap(value: Any) -> Any:
    """Materialize litsdf handles (also inside lists, tuples and dicts) to pandas objects."""
    from .frame import DataFrame
    from .series import Series

    if isinstance(value, (DataFrame, Series, PandasProxy)):
        return value.to_pandas()
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    if isinstance(value, tuple):
        return tuple(unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    return value


def lineage_of(*values: Any) -> tuple[Relation, ...]:
    """Plans of the litsdf handles among ``values`` (for explain's fallback lineage)."""
    from .frame import DataFrame
    from .series import Series

    out: list[Relation] = []
    for v in values:
        if isinstance(v, DataFrame):
            out.append(v._plan)
        elif isinstance(v, Series):
            out.append(v._rel)
        elif isinstance(v, (list, tuple)):
            out.extend(lineage_of(*v))
        elif isinstance(v, dict):
            out.extend(lineage_of(*v.values()))
    return tuple(out)


def _meta_value(value: Any) -> Any:
    """Like :func:`unwrap`, but litsdf handles become (copies of) their empty pandas meta."""
    from .frame import DataFrame
    from .series import Series

    if isinstance(value, DataFrame):
        return value._meta.copy()
    if isinstance(value, Series):
        return value._meta.copy()
    if isinstance(value, list):
        return [_meta_value(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_meta_value(v) for v in value)
    if isinstance(value, dict):
        return {k: _meta_value(v) for k, v in value.items()}
    return value


def probe(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[], None]:
    """A check that raises pandas' own error if ``func(*args, **kwargs)`` fails in pandas.

    The call is tried on the empty metadata first (cheap); only if pandas rejects it there is
    it run on the real (materialized) data, so an error that depends on the values is not
    reported for data where pandas succeeds. Used in strict mode before raising
    :class:`FallbackError`: an invalid call must fail like pandas, not as "untraced".
    """

    def run() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                func(*_meta_value(list(args)), **_meta_value(kwargs))
            except Exception:
                pass
            else:
                return
            func(*unwrap(list(args)), **unwrap(kwargs))  # pandas' error for these values

    return run


def fallback(what: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The one fallback path: note it, materialize the arguments, call pandas, wrap the result.

    Parameters
    ----------
    what : str
        The API being run, e.g. ``"DataFrame.pivot_table"`` (named in warnings and explain).
    func : callable
        Called with the unwrapped (pandas) arguments.
    """
    lineage = lineage_of(*args, *kwargs.values())
    for plan in lineage:
        _check_not_tracing(plan, what)
    _note_fallback(what, check=probe(func, *args, **kwargs))
    result = func(*unwrap(list(args)), **unwrap(kwargs))
    return wrap(result, origin=f"fallback {what}", lineage=lineage)


def is_scalar(value: Any) -> bool:
    """True for values that can be a plan literal (hashable pandas/NumPy/Python scalars)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return bool(pd.api.types.is_scalar(value))
