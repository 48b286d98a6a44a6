"""How the differential harness compares a litsdf result with pandas' result.

Comparisons are exact: values (``check_exact=True``; ``-0.0 == 0.0`` and NaN equals NaN, as
``pandas.testing`` has it), dtypes, index, names, container types. The one exception is a
float reduction: the sum behind ``sum``/``mean``/``std``/... may add the values in another
order on another backend, so its last bits may differ. Whether a case may differ that way is
decided from the plans that ran, not by the test: :func:`executed_plans` records every plan
that :func:`litsdf_compiler.engine.execute` ran during a case, and only when one of them holds
a float reduction node (:func:`has_float_reduction`) is an exact mismatch compared again with
a relative tolerance of ``RTOL`` — for the float columns and scalars only (integers, strings,
booleans, dates, the index and the labels stay exact).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas

from litsdf_compiler import engine
from litsdf_compiler.ir.base import Node, walk
from litsdf_compiler.ir.expressions import Reduce
from litsdf_compiler.ir.relations import Aggregate, Describe, FrameReduce, SeriesMethod

RTOL = 1e-12
"""The relative difference a float reduction's result may have (a reordered summation)."""

FLOAT_REDUCTIONS = frozenset(
    {"sum", "mean", "std", "var", "sem", "prod", "median", "skew", "kurt", "quantile"}
)
"""Reductions whose float result depends on the order the values are combined in (``min``,
``max``, ``count``, ``nunique``, ``first``, ``last``, ``any``, ``all``, ``idx*`` do not)."""

TOLERATED = {"cases": 0}
"""How many comparisons passed only with the float-reduction tolerance (this session)."""


@contextlib.contextmanager
def executed_plans() -> Iterator[list[Node]]:
    """Record the plans that ``litsdf_compiler.engine.execute`` runs inside the block.

    Yields
    ------
    list of Node
        Filled as plans run: each execution's ``Decision.optimized`` (the plan that ran,
        after the optimizer when it was on).
    """
    plans: list[Node] = []
    real = engine.execute

    def recording(*args: Any, **kwargs: Any) -> tuple[Any, engine.Decision]:
        result, decision = real(*args, **kwargs)
        if decision.optimized is not None:
            plans.append(decision.optimized)
        return result, decision

    engine.execute = recording  # type: ignore[assignment]
    try:
        yield plans
    finally:
        engine.execute = real  # type: ignore[assignment]


def float_reduction(n: Node) -> bool:
    """Whether the node ``n`` reduces values in an order-dependent way (see
    ``FLOAT_REDUCTIONS``): a ``Reduce``, ``FrameReduce`` or ``Aggregate`` calling one of them,
    ``describe`` (mean and std)."""
    if isinstance(n, (Reduce, FrameReduce)):
        return n.func in FLOAT_REDUCTIONS
    if isinstance(n, Aggregate):
        names = [*n.functions, *(m.function for m in n.measures)]
        return any(name in FLOAT_REDUCTIONS for name in names)
    if isinstance(n, SeriesMethod):
        return n.method == "describe"
    return isinstance(n, Describe)


def has_float_reduction(plans: Iterable[Node]) -> bool:
    """Whether a node that runs in one of ``plans`` is a :func:`float_reduction`."""
    return any(float_reduction(n) for plan in plans for n in walk(plan))


def assert_matches(got: Any, expected: Any, plans: Iterable[Node]) -> None:
    """``got`` equals ``expected`` exactly, or — when one of the ``plans`` that computed it
    holds a float reduction — equals it with the float values within ``RTOL``.

    Parameters
    ----------
    got : Any
        The litsdf result, converted to pandas objects.
    expected : Any
        pandas' result.
    plans : iterable of Node
        The plans that ran to compute ``got`` (:func:`executed_plans`).

    Raises
    ------
    AssertionError
        The exact mismatch, when no float reduction ran or the tolerant comparison fails too.
    """
    try:
        assert_same(got, expected)
    except AssertionError:
        if not has_float_reduction(plans):
            raise
        assert_same(got, expected, tolerant=True)
        TOLERATED["cases"] += 1


def _is_float(dtype: Any) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind in "fc"


def _assert_frame(got: pandas.DataFrame, expected: pandas.DataFrame, tolerant: bool) -> None:
    if not tolerant or not any(_is_float(d) for d in expected.dtypes):
        pandas.testing.assert_frame_equal(got, expected, check_exact=True)
        return
    # the frame's shape, labels, index and dtypes exactly; then each column, the float ones
    # within RTOL
    pandas.testing.assert_index_equal(got.columns, expected.columns, exact=True)
    pandas.testing.assert_index_equal(got.index, expected.index, exact=True, check_exact=True)
    pandas.testing.assert_series_equal(got.dtypes, expected.dtypes, check_exact=True)
    for i in range(expected.shape[1]):
        _assert_series(got.iloc[:, i], expected.iloc[:, i], tolerant, check_index=False)


def _assert_series(
    got: pandas.Series, expected: pandas.Series, tolerant: bool, check_index: bool = True
) -> None:
    if tolerant and _is_float(expected.dtype):
        if check_index:
            pandas.testing.assert_index_equal(
                got.index, expected.index, exact=True, check_exact=True
            )
        pandas.testing.assert_series_equal(
            got, expected, check_exact=False, rtol=RTOL, atol=0.0, check_index=False
        )
    else:
        pandas.testing.assert_series_equal(got, expected, check_exact=True, check_index=check_index)


def assert_same(got: Any, expected: Any, tolerant: bool = False) -> None:
    """``got`` (litsdf, already converted) equals ``expected`` (pandas) exactly.

    Parameters
    ----------
    got, expected : Any
        Frames, Series, Index, NumPy arrays, scalars, or tuples/lists/dicts of them.
    tolerant : bool
        Float values (float columns, Series, arrays and scalars) may differ by ``RTOL``
        relatively; everything else stays exact. Only for results of a float reduction (use
        :func:`assert_matches`, which decides it from the plans that ran).
    """
    if isinstance(expected, pandas.DataFrame):
        assert isinstance(got, pandas.DataFrame), f"expected a DataFrame, got {type(got)}"
        _assert_frame(got, expected, tolerant)
    elif isinstance(expected, pandas.Series):
        assert isinstance(got, pandas.Series), f"expected a Series, got {type(got)}"
        _assert_series(got, expected, tolerant)
    elif isinstance(expected, pandas.Index):
        pandas.testing.assert_index_equal(got, expected, exact=True, check_exact=True)
    elif isinstance(expected, np.ndarray):
        assert isinstance(got, np.ndarray) and got.dtype == expected.dtype
        if tolerant and _is_float(expected.dtype):
            np.testing.assert_allclose(got, expected, rtol=RTOL, atol=0.0)
        else:
            np.testing.assert_array_equal(got, expected)
    elif isinstance(expected, (list, tuple, dict)):
        assert type(got) is type(expected), f"type {type(got)} != {type(expected)}"
        assert len(got) == len(expected)
        if isinstance(expected, dict):
            assert list(got) == list(expected), f"keys {list(got)} != {list(expected)}"
            pairs: Iterable[tuple[Any, Any]] = zip(got.values(), expected.values())
        else:
            pairs = zip(got, expected)
        for g, e in pairs:
            assert_same(g, e, tolerant)
    else:
        _assert_scalar(got, expected, tolerant)


def _assert_scalar(got: Any, expected: Any, tolerant: bool) -> None:
    assert type(got) is type(expected), f"type {type(got)} != {type(expected)}"
    if expected is pandas.NA or expected is pandas.NaT:
        assert got is expected, f"{got!r} is not {expected!r}"
    elif isinstance(expected, (float, np.floating)) and math.isnan(expected):
        assert math.isnan(got), f"{got!r} is not NaN"
    elif tolerant and isinstance(expected, (float, np.floating)):
        assert math.isclose(got, expected, rel_tol=RTOL), f"{got!r} != {expected!r} (rtol)"
    else:
        assert got == expected, f"{got!r} != {expected!r}"


def ran_pandas_islands(plans: Iterable[Node], backend: str) -> bool:
    """Whether running ``plans`` on ``backend`` used pandas for part of the work: a plan
    with a pandas island (``PandasCall``), a physical node the backend runs with one of the
    base's shared pandas implementations (``Backend.pandas_call`` / ``group_agg`` /
    ``order_by``), or a plan with no physical form (pandas' reference kernels). Reported by
    the decline ledger next to the declines, so pandas running under a backend's name is
    visible, not counted as coverage."""
    from litsdf_compiler.backends import get_backend
    from litsdf_compiler.backends.base import Backend
    from litsdf_compiler.lower import PandasCall, lower, physical_nodes

    kind = type(get_backend(backend))
    shared = {Backend.pandas_call, Backend.group_agg, Backend.order_by}
    for plan in plans:
        try:
            root = lower(plan)  # type: ignore[arg-type]
        except Exception:
            return True
        for n in physical_nodes(root):
            if isinstance(n, PandasCall):
                return True
            if getattr(kind, f"visit_{type(n).__name__}", None) in shared:
                return True
    return False
