"""Literal typing: every numeric dtype x literals inside and outside its range x comparison and
arithmetic operators, the literal on either side, in assignments and filters.

pandas (NumPy 2, NEP 50) types a literal by its kind and compares an integer column with an
integer literal *by value* (``uint8 > -1`` is all True, ``int8 == 300`` all False), while
arithmetic with a Python int the column's dtype can't hold raises ``OverflowError``. Frames
of ``LARGE`` rows reach every backend's preferred range (numba's ``numba_min_rows``), small
ones the row kernel's. Each case assigns many expressions to one frame (one compiled stage)
and returns pandas' errors as values, so the matrix stays fast; an expression pandas rejects
is rejected by litsdf with the same exception type.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas
import pytest

import litsdf
from litsdf_compiler.backends import get_backend
from litsdf_compiler.ir.relations import ReadParquet
from litsdf_compiler.optimizer import optimize

pytestmark = [
    pytest.mark.filterwarnings("ignore::pandas.errors.PerformanceWarning"),
    pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning"),  # pandas'
]

LARGE = 10_000
SMALL = 16

INTS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
FLOATS = ["float32", "float64"]
NUMPY = [*INTS, *FLOATS, "bool"]
NULLABLE = ["Int8", "UInt64", "Float32", "boolean"]
"""Nullable dtypes: the compiled backends decline them (pandas' own kernels run)."""
ROWS = ["int64", "float64", "bool"]
"""The dtypes the row kernel computes in (the others it declines): also run on small frames."""

COMMON: list[Any] = [-1, 0, 300, -129, 2**31, 2**63, 2**64 - 1, 0.5, -0.5, np.nan, np.inf]
COMMON += [3e9, 1e20, True, np.int8(5), np.int64(2**63 - 1), np.uint64(2**63)]
COMMON += [np.uint64(2**64 - 1), np.float32(0.1)]
"""Literals tried on every dtype (Python and NumPy scalars, in and out of each range)."""

COMPARE = ["eq", "ne", "lt", "le", "gt", "ge"]


def edges(dtype: str) -> tuple[list[Any], list[Any]]:
    """The literals just outside ``dtype``'s range (or its exact integers, which a float
    rounds) and the ones at its edges."""
    np_dtype = _numpy_dtype(dtype)
    if np_dtype.kind in "iu":
        info = np.iinfo(np_dtype)
        return [int(info.min) - 1, int(info.max) + 1], [int(info.min), int(info.max)]
    if np_dtype == np.float32:
        return [2**24 + 1, 2**60 + 2**36 + 1], [-(2**24), 1e39]  # (1e39 is inf in float32)
    if np_dtype == np.float64:
        return [2**53 + 1, 2**60 + 2**36 + 1], [-(2**53), -np.inf]
    return [-1, 2], [False, np.bool_(True)]


def _numpy_dtype(dtype: str) -> np.dtype:
    return np.dtype(bool) if dtype == "boolean" else np.dtype(dtype.lower())


_COLUMNS: dict[tuple[str, int], Any] = {}


def column(dtype: str, n: int) -> Any:
    """``n`` values of ``dtype``: its min and max, values next to the literals' boundaries,
    NaN/inf/-0.0 for floats, a missing value for nullable dtypes (built once)."""
    hit = _COLUMNS.get((dtype, n))
    if hit is not None:
        return hit
    np_dtype = _numpy_dtype(dtype)
    if np_dtype.kind == "b":
        base: list[Any] = [True, False, False, True]
    elif np_dtype.kind == "f":
        info = np.finfo(np_dtype)
        base = [info.min, info.max, 0.0, -0.0, 0.5, -0.5, 1.0, -1.0, np.float32(0.1), 127.0]
        base += [300.0, 2.0**31, 3e9, 2.0**53, 2.0**60 + 2.0**37, 1e20, np.nan, np.inf, -np.inf]
    else:
        info = np.iinfo(np_dtype)
        wanted = [0, 1, -1, 2, 5, 127, 128, 255, 256, 300, -128, -129, 2**31, 2**63 - 1, 2**63]
        base = [int(info.min), int(info.max), int(info.max) - 1]
        base += [v for v in wanted if info.min <= v <= info.max]
    values = np.resize(np.array(base, dtype=np_dtype), n)
    out: Any = values
    if dtype in NULLABLE:
        out = pandas.array(values, dtype=dtype)
        out[1] = pandas.NA
    _COLUMNS[(dtype, n)] = out
    return out


def frame(pd: Any, dtype: str, n: int) -> Any:
    """Column ``a`` of ``dtype`` and an int64 group key ``k``."""
    return pd.DataFrame({"a": column(dtype, n), "k": np.arange(n) % 3})


def table(df: Any, exprs: list[tuple[str, Callable[[Any], Any]]]) -> tuple[Any, dict[str, str]]:
    """The expressions as columns of ``df`` (one ``assign``) and the type of the error of
    each one pandas rejects."""
    columns: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, make in exprs:
        try:
            columns[name] = make(df)
        except Exception as err:  # (litsdf's differing or missing error fails the case)
            errors[name] = type(err).__name__
    return df.assign(**columns), errors


def _binary(op: str, value: Any, left: bool) -> Callable[[Any], Any]:
    fn = getattr(operator, op)
    if left:
        return lambda df: fn(value, df["a"])
    return lambda df: fn(df["a"], value)


def _exprs(pairs: list[tuple[str, Any, bool]]) -> list[tuple[str, Callable[[Any], Any]]]:
    """Named expressions ``a <op> v`` (or ``v <op> a``)."""
    return [
        (f"{'r' * left}{op}_{k}", _binary(op, v, left)) for k, (op, v, left) in enumerate(pairs)
    ]


def _rotation(dtype: str) -> int:
    return sum(map(ord, dtype))


def comparisons(dtype: str) -> list[tuple[str, Any, bool]]:
    """(op, literal, literal on the left): every operator with the literals just outside
    ``dtype``'s range, three at its edges; one operator per common literal, rotating with
    the dtype (so the dtypes share out every pair). No duplicates, and none on the left:
    Python turns ``300 > a`` into ``a < 300`` (the very same expression)."""
    outside, edge = edges(dtype)
    pairs = [(op, v, False) for v in outside for op in COMPARE]
    pairs += [(op, v, False) for v in edge for op in ("lt", "eq", "ge")]
    r = _rotation(dtype)
    pairs += [(COMPARE[(k + r) % 6], v, False) for k, v in enumerate(COMMON)]
    seen: set[tuple[str, str]] = set()
    return [p for p in pairs if (key := (p[0], repr(p[1]))) not in seen and not seen.add(key)]


ARITH_LITERALS: list[Any] = [-1, 2, 300, 2**63, 2**64 - 1, 0.5, np.nan, True]
ARITH_LITERALS += [np.int8(5), np.uint64(2**64 - 1), np.float32(0.1)]
LEFT = ("sub", "truediv", "mod", "pow")
"""The operators also tried with the literal on the left (the others commute)."""


def arithmetic(dtype: str, ops: list[str]) -> list[tuple[str, Any, bool]]:
    """(op, literal, literal on the left): each literal (the edges of ``dtype`` and
    ``ARITH_LITERALS``) with one of ``ops`` on the right and, for a Python scalar, the next
    one on the left where it does not commute (a NumPy scalar on the left is NumPy's own
    call), rotating with the dtype. No integer power has a negative exponent: pandas raises
    from the values (see below)."""
    integer = _numpy_dtype(dtype).kind in "iub"
    outside, edge = edges(dtype)
    r = _rotation(dtype)
    pairs = []
    literals = outside + edge + ARITH_LITERALS
    literals = [v for k, v in enumerate(literals) if repr(v) not in map(repr, literals[:k])]
    for k, v in enumerate(literals):
        op = ops[(k + r) % len(ops)]
        if not (op == "pow" and integer and isinstance(v, (int, np.integer)) and v < 0):
            pairs.append((op, v, False))
        op = ops[(k + r + 1) % len(ops)]
        int_power = op == "pow" and integer and not isinstance(v, float)
        if op in LEFT and not isinstance(v, np.generic) and not int_power:
            pairs.append((op, v, True))
    return pairs


NUMERIC = [(d, LARGE) for d in NUMPY] + [(d, SMALL) for d in ROWS]
SIZES = NUMERIC + [(d, LARGE) for d in NULLABLE]
SIZE_IDS = [f"{d}-{n}" for d, n in SIZES]
ARITH = [["add", "sub", "mul", "truediv"], ["floordiv", "mod", "pow"]]
"""Two groups: numba compiles the first for every dtype, declines most of the second."""


@pytest.mark.parametrize(("dtype", "n"), SIZES, ids=SIZE_IDS)
def test_compare_with_literals(compare, dtype, n):
    compare(lambda pd: table(frame(pd, dtype, n), _exprs(comparisons(dtype))))


@pytest.mark.parametrize("ops", ARITH, ids=["-".join(o) for o in ARITH])
@pytest.mark.parametrize(("dtype", "n"), SIZES, ids=SIZE_IDS)
def test_arithmetic_with_literals(compare, dtype, n, ops):
    with np.errstate(all="ignore"):
        compare(lambda pd: table(frame(pd, dtype, n), _exprs(arithmetic(dtype, ops))))


@pytest.mark.parametrize("dtype", [d for d in INTS if d.startswith("i")])
def test_integer_power_with_negative_exponent_raises(compare, dtype):
    compare(lambda pd: frame(pd, dtype, SMALL)["a"] ** -1)


FILTERS: list[tuple[str, Any]] = [("gt", -1), ("le", 300)]
"""One kernel each: the issue's ``uint8 > -1``, a bound above int8/uint8."""


@pytest.mark.parametrize(("dtype", "n"), NUMERIC, ids=[f"{d}-{n}" for d, n in NUMERIC])
def test_filters_with_literals(compare, dtype, n):
    def case(pd):
        df = frame(pd, dtype, n)
        out = [df[getattr(operator, op)(df["a"], value)] for op, value in FILTERS]
        out.append(df[300 > df["a"]])  # noqa: SIM300 (the literal on the left)
        return out

    compare(case)


def test_assignments_with_literals(compare):
    """``df[name] = <expression with a literal>`` on small dtypes (a chain of assignments)."""

    def case(pd):
        df = frame(pd, "uint8", LARGE)
        df["b"] = df["a"] > -1
        df["c"] = df["a"] == 256
        df["d"] = df["a"] + 3
        df["e"] = 300 > df["a"]  # noqa: SIM300
        df["f"] = df["a"] / 300
        df["g"] = np.uint64(2**64 - 1) > 0  # a constant column
        return df

    compare(case)


@pytest.mark.parametrize("value", [-1, 300, 0.5])
@pytest.mark.parametrize("dtype", ["int8", "uint8", "uint64", "float32"])
def test_filter_then_groupby_with_literal(compare, dtype, value):
    def case(pd):
        df = frame(pd, dtype, LARGE)
        return df[df["a"] > value].groupby("k").agg(s=("a", "sum"), n=("a", "count"))

    compare(case)


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "uint64", "float32"])
def test_identities_keep_dtype_and_values(compare, dtype):
    """What the optimizer folds (``x * 1``, ``x + 0``, ``x - 0``, ``x / 1``) keeps small and
    unsigned dtypes, with the optimizer on and off."""

    def case(pd):
        df = frame(pd, dtype, LARGE)
        exprs = [
            ("mul1", lambda d: d["a"] * 1),
            ("rmul1", lambda d: 1 * d["a"]),
            ("add0", lambda d: d["a"] + 0),
            ("sub0", lambda d: d["a"] - 0),
            ("div1", lambda d: d["a"] / 1),
            ("mulf", lambda d: d["a"] * 1.0),
            ("addnp", lambda d: d["a"] + np.int8(0)),
            ("cmp", lambda d: (d["a"] * 1) > (200 + 100)),
        ]
        return table(df, exprs)

    compare(case)


def test_comparisons_are_compiled_not_declined():
    """numba compiles the comparison of every NumPy dtype with every literal (a decline
    would skip the matrix above for it silently)."""
    numba = get_backend("numba")
    if not numba.available():
        pytest.skip("numba is not installed")
    for dtype in NUMPY:
        df, _ = table(frame(litsdf, dtype, 8), _exprs(comparisons(dtype)))
        verdict = numba.supports(df._plan)
        assert verdict, f"{dtype}: {verdict.reason}"


@pytest.mark.parametrize(("dtype", "op", "value"), [("uint8", "gt", -1), ("int8", "gt", 300)])
def test_auto_runs_numba_from_numba_min_rows(dtype, op, value):
    """The default path of the issue: ``backend="auto"`` on ``numba_min_rows`` rows runs
    numba, and numba gives pandas' rows."""
    pytest.importorskip("numba")

    def case(pd):
        df = frame(pd, dtype, LARGE)
        return df[getattr(operator, op)(df["a"], value)]

    expected = case(pandas)
    with litsdf.option_context(backend="auto", fallback="raise"):
        got = case(litsdf)
        pandas.testing.assert_frame_equal(got.to_pandas(), expected)
        assert "ran on: numba" in got.explain()


PARQUET_FILTERS: list[tuple[str, str, Any, bool]] = [
    ("f32", "le", 0.1, False),  # pandas: float32(0.1) <= float32(0.1); pyarrow: in float64
    ("f32", "eq", 0.1, False),
    ("f32", "eq", 16777217, False),  # float32 rounds it to 2**24
    ("f32", "ge", np.float32(0.1), True),
    ("f32", "lt", 0.5, True),
    ("u8", "gt", -1, True),
    ("u8", "le", 300, True),
    ("i8", "eq", 300, True),
    ("i8", "ge", -129, True),
    ("u64", "gt", -1, False),  # pyarrow would cast the uint64 column to int64
]


@pytest.mark.parametrize(("col", "op", "value", "pushed"), PARQUET_FILTERS)
def test_parquet_filters_with_literals(compare, tmp_path, col, op, value, pushed):
    """A comparison pushed into the Parquet scan as a pyarrow filter keeps pandas' rows, and
    it is pushed only where pyarrow compares as pandas does."""
    path = str(tmp_path / "t.parquet")
    pandas.DataFrame(
        {
            "f32": np.array([0.1, 0.5, 16777216, -1, 2.5], dtype="float32"),
            "u8": np.array([0, 1, 255, 7, 128], dtype="uint8"),
            "i8": np.array([-128, 127, 0, -1, 44], dtype="int8"),
            "u64": np.array([0, 2**64 - 1, 2**63, 5, 1], dtype="uint64"),
        }
    ).to_parquet(path)

    def case(pd):
        df = pd.read_parquet(path)
        return df[getattr(operator, op)(df[col], value)].reset_index(drop=True)

    compare(case)
    scan = optimize(case(litsdf)._plan).plan.input.input
    assert isinstance(scan, ReadParquet)
    assert ("filters" in dict(scan.options)) == pushed, scan.options
