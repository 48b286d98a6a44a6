"""Shared machinery of the front end: execution of handles, the fallback path, wrapping."""

from __future__ import annotations

import collections
import contextlib
import contextvars
import copy
import functools
import inspect
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
    "fallback_inplace",
    "call_method",
    "mutates",
    "lend",
    "LentSlot",
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


def fallback(what: str, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
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


# in-place fallbacks -----------------------------------------------------------------------------

_BY_NATURE = frozenset({"insert", "pop", "update", "__setitem__", "__delitem__"})
"""pandas methods that always mutate their receiver (the rest do so with ``inplace=True``)."""


@functools.cache
def _inplace_position(cls: type, name: str) -> int | None:
    """Where ``cls.name`` takes ``inplace`` (its position, or -1 if keyword-only), or None if
    it has no such parameter (read once per method from pandas' own signature)."""
    try:
        params = list(inspect.signature(getattr(cls, name)).parameters.values())
    except (AttributeError, TypeError, ValueError):
        return None
    for i, p in enumerate(params[1:]):  # params[0] is self
        if p.name == "inplace":
            return i if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD else -1
    return None


def mutates(cls: type, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether ``cls.name(*args, **kwargs)`` changes its receiver in pandas: a method that is
    in-place by nature (``insert``, ``pop``, ``update``, ...) or one called with ``inplace``
    set to anything but False (an invalid value makes pandas raise, leaving the data as it
    was)."""
    if name in _BY_NATURE:
        return True
    pos = _inplace_position(cls, name)
    if pos is None:
        return False
    if "inplace" in kwargs:
        value = kwargs["inplace"]
    elif 0 <= pos < len(args):
        value = args[pos]
    else:
        return False
    return value is not False and value is not pd.api.extensions.no_default


def fallback_inplace(
    what: str, handle: Any, func: Callable[..., Any], /, *args: Any, **kw: Any
) -> Any:
    """The fallback path for a pandas call that mutates its receiver.

    ``func(target, *args, **kw)`` runs on a materialized copy ``target`` of ``handle`` (a
    litsdf DataFrame or Series; copy-on-write keeps every other result intact); then the
    handle is rebound to the mutated copy (its plan becomes a Source of it, with the old plan
    as lineage), so the change is never lost. If pandas raises, the handle is left as it was.

    Returns
    -------
    Any
        What pandas returned: ``handle`` itself where pandas returns its receiver (pandas 3.1's
        ``inplace=True`` forms), other values wrapped (``pop``'s column), None as None.
    """
    lineage = lineage_of(handle, *args, *kw.values())
    for plan in lineage:
        _check_not_tracing(plan, what)
    _note_fallback(what, check=probe(func, handle, *args, **kw))
    target = handle.to_pandas()
    out = func(target, *unwrap(list(args)), **unwrap(kw))
    handle._write_back(target, f"fallback {what}", lineage)
    if out is target:
        return handle
    return wrap(out, origin=f"fallback {what}", lineage=lineage)


def call_method(handle: Any, kind: str, name: str, /, *args: Any, **kwargs: Any) -> Any:
    """Run pandas' ``name`` method of a litsdf ``handle`` (``kind`` is "DataFrame" or
    "Series") through the fallback path; calls that mutate the receiver (see
    :func:`mutates`) write their result back into the handle."""

    def func(obj: Any, *a: Any, **k: Any) -> Any:
        return getattr(obj, name)(*a, **k)

    what = f"{kind}.{name}"
    if mutates(getattr(pd, kind), name, args, kwargs):
        return fallback_inplace(what, handle, func, *args, **kwargs)
    return fallback(what, func, handle, *args, **kwargs)


# lent objects -----------------------------------------------------------------------------------

_LENT: dict[int, tuple[weakref.ref[Any], dict[str, tuple[Any, Any, Callable[..., Any]]]]] = {}
"""Mutable pandas parts handed out by a handle (``df.index``, ``df.columns``, ``df.attrs``),
by the handle's id: ``{kind: (object, snapshot, apply)}``. A change made to one of them (its
names, the attrs dict) lands in the handle the next time the handle is used."""


def _fingerprint(obj: Any) -> Any:
    if isinstance(obj, pd.Index):
        return tuple(obj.names)
    return copy.deepcopy(obj)


def _changed(obj: Any, snapshot: Any) -> bool:
    try:
        return not bool(_fingerprint(obj) == snapshot)
    except Exception:  # values that do not compare to a bool (arrays in attrs)
        return True


def lend(handle: Any, kind: str, obj: Any, apply: Callable[[Any, Any], None]) -> Any:
    """Hand out ``obj`` (a mutable part of ``handle``'s value, e.g. its index) and return it.

    ``apply(target, obj)`` copies a later change of ``obj`` onto the materialized ``target``;
    it runs, through :func:`fallback_inplace` (named ``<kind>=``), the next time the handle is
    used. Rebinding the handle to another plan forgets what it lent (as pandas' new Index).
    """
    key = id(handle)
    entry = _LENT.get(key)
    if entry is None or entry[0]() is not handle:
        entry = (weakref.ref(handle, lambda _: _LENT.pop(key, None)), {})
        _LENT[key] = entry
    entry[1][kind] = (obj, _fingerprint(obj), apply)
    return obj


def forget_lent(handle: Any) -> None:
    """Forget what ``handle`` lent (it was rebound to another plan)."""
    entry = _LENT.get(id(handle))
    if entry is not None and entry[0]() is handle:
        entry[1].clear()


def sync_lent(handle: Any) -> None:
    """Write the changes made to the objects ``handle`` lent back into it."""
    entry = _LENT.get(id(handle))
    if entry is None or entry[0]() is not handle or not entry[1]:
        return
    lent, kind = entry[1], type(handle).__name__
    changed = [(k, v) for k, v in lent.items() if _changed(v[0], v[1])]
    if not changed:
        return
    for k, _ in changed:
        del lent[k]  # before running: a failure (strict mode) does not repeat
    for k, (obj, _snap, apply) in changed:
        fallback_inplace(f"{kind}.{k}=", handle, lambda t, o=obj, f=apply: f(t, o))


def set_names(axis: str) -> Callable[[Any, pd.Index], None]:
    """For :func:`lend`: copies the names of a lent ``index``/``columns`` onto ``axis``."""

    def apply(target: Any, lent: pd.Index) -> None:
        setattr(target, axis, getattr(target, axis).set_names(list(lent.names)))

    return apply


def set_attrs(target: Any, lent: dict[Any, Any]) -> None:
    """For :func:`lend`: copies a lent ``attrs`` dict onto ``target``."""
    target.attrs = copy.deepcopy(lent)


def is_accessor(cls: type, name: str) -> bool:
    """Whether ``cls.name`` is a pandas accessor namespace (``.cat``, ``.plot``, ...)."""
    return isinstance(inspect.getattr_static(cls, name, None), pd.core.accessor.Accessor)


class LentSlot:
    """A handle's slot (``DataFrame._plan``, ``Series._rel``, ...) whose reads first write back
    changes to the objects the handle lent (see :func:`lend`), and whose writes (a rebinding)
    forget them."""

    __slots__ = ("_member",)

    def __init__(self, member: Any) -> None:
        self._member = member

    def __get__(self, obj: Any, cls: type | None = None) -> Any:
        if obj is None:
            return self
        if _LENT:
            sync_lent(obj)
        return self._member.__get__(obj, cls)

    def __set__(self, obj: Any, value: Any) -> None:
        if _LENT:
            forget_lent(obj)
        self._member.__set__(obj, value)


def is_scalar(value: Any) -> bool:
    """True for values that can be a plan literal (hashable pandas/NumPy/Python scalars)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return bool(pd.api.types.is_scalar(value))
