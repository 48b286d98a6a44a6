"""Property test: random small frames and random chains of supported operations give exactly
pandas' result (or pandas' exception type) on every available backend, in strict mode.

Each step is a small object with a readable ``repr`` (the pandas code it runs), so a failing
example reads as a program. Steps know which column kinds they apply to and how they change
the frame's columns, so most generated programs are valid; the ones pandas rejects check that
litsdf rejects them with the same exception type.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import litsdf
from litsdf import FallbackError
from litsdf_compiler.engine import BackendDeclined

from .comparison import assert_matches, executed_plans
from .conftest import MODES, to_pandas

# frames ---------------------------------------------------------------------------------------

KINDS = ("int", "float", "str", "bool", "dt")
NUMERIC = ("int", "float")
WORDS = ["a", "b", "B", " a", "ab ", "xyz", ""]
INT_DTYPES = ["int64", "int64", "int8", "int16", "int32", "uint8", "uint16", "uint32", "uint64"]
FLOAT_DTYPES = ["float64", "float64", "float32"]
LARGE = 10_000
"""Rows of a large frame (numba's preferred range, ``numba_min_rows``): drawn values tiled."""
EDGE_INTS = [-1, 127, 128, 255, 256, 300, -129, 2**31, 3 * 10**9, 2**63 - 1, 2**63, 2**64 - 1]
EDGE_INTS += [-(2**63)]
"""Integer literals at and past the edges of the integer dtypes' ranges."""
EDGE_SCALARS = ["np.int8(5)", "np.uint64(18446744073709551615)", "np.float32(0.1)", "3e9"]
EDGE_SCALARS += ["1e20", "-0.5", "np.nan", "np.inf"]


def _int_values(draw: Any, dtype: np.dtype, n: int) -> list[int]:
    """Small values and the dtype's own edges (min, max)."""
    info = np.iinfo(dtype)
    edges = [int(info.min), int(info.max), int(info.max) - 1]
    small = st.integers(max(-5, int(info.min)), 5)
    return draw(st.lists(st.one_of(small, small, st.sampled_from(edges)), min_size=n, max_size=n))


def _column(draw: Any, kind: str, n: int) -> Any:
    if kind == "int":
        dtype = np.dtype(draw(st.sampled_from(INT_DTYPES)))
        return np.array(_int_values(draw, dtype, n), dtype=dtype)
    if kind == "float":
        dtype = np.dtype(draw(st.sampled_from(FLOAT_DTYPES)))
        vals = draw(
            st.lists(
                st.one_of(
                    st.sampled_from([np.nan, 0.0, -0.5, 2.5, 0.1, 3e9]),
                    st.floats(-100, 100, allow_nan=False, width=32),
                ),
                min_size=n,
                max_size=n,
            )
        )
        return np.array(vals, dtype=dtype)
    if kind == "str":
        return draw(st.lists(st.one_of(st.none(), st.sampled_from(WORDS)), min_size=n, max_size=n))
    if kind == "bool":
        return np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    days = draw(st.lists(st.one_of(st.none(), st.integers(0, 800)), min_size=n, max_size=n))
    base = np.datetime64("2023-01-01T00:00:00", "ns")
    return np.array(
        [
            np.datetime64("NaT", "ns") if d is None else base + np.timedelta64(d * 36, "h")
            for d in days
        ],
        dtype="datetime64[ns]",
    )


@st.composite
def frames(draw: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Column data (same for pandas and litsdf) and each column's kind."""
    n = draw(st.sampled_from([8, 30, 0, 1, 15, 3, 22, LARGE]))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=6))
    data: dict[str, Any] = {}
    schema: dict[str, str] = {}
    for i, kind in enumerate(kinds):
        name = f"{kind[0]}{i}"
        values = _column(draw, kind, min(n, 30))
        if n > 30:  # a large frame: the drawn values tiled (drawing 10,000 is too slow)
            values = np.resize(values, n) if isinstance(values, np.ndarray) else (values * n)[:n]
        data[name] = values
        schema[name] = kind
    return data, schema


# steps ----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Step:
    """One pandas statement applied to ``df``; ``code`` is its readable form."""

    code: str

    def __repr__(self) -> str:
        return self.code

    def run(self, pd: Any, df: Any) -> Any:
        env = {"pd": pd, "df": df, "np": np}
        exec(self.code, env)  # the statement rebinds ``df`` (or sets ``out``)
        return env.get("out", env["df"])


def _cols(schema: dict[str, str], *kinds: str) -> list[str]:
    return [c for c, k in schema.items() if k in kinds]


def _scalar(draw: Any, kind: str) -> str:
    if kind == "int":
        return repr(draw(st.one_of(st.integers(-3, 3), st.sampled_from(EDGE_INTS))))
    if kind == "float":
        return draw(st.one_of(st.sampled_from(["0.0", "1.5", "-2.0", "0.25"]), _edge_scalar()))
    if kind == "str":
        return repr(draw(st.sampled_from(WORDS)))
    if kind == "bool":
        return repr(draw(st.booleans()))
    return repr(f"2023-0{draw(st.integers(1, 9))}-15")


def _compared(draw: Any, kind: str) -> str:
    """A literal to compare a ``kind`` column with: for numbers mostly one at or past the
    edges of some dtype's range, or of another kind (compared by value in pandas)."""
    if kind in NUMERIC:
        edges = [repr(v) for v in EDGE_INTS] + EDGE_SCALARS
        return draw(st.sampled_from([*edges, "0", "2", "-3", "0.25"]))
    return _scalar(draw, kind)


def _edge_scalar() -> Any:
    """Literals of other kinds and NumPy types (the code's text, evaluated with ``np``)."""
    return st.sampled_from(EDGE_SCALARS)


def _new_name(schema: dict[str, str]) -> str:
    i = 0
    while f"n{i}" in schema:
        i += 1
    return f"n{i}"


@st.composite
def step(draw: Any, schema: dict[str, str], last: bool) -> tuple[Step, dict[str, str] | None]:
    """A step valid for ``schema`` (mostly) and the schema after it (None: a final value)."""
    num = _cols(schema, *NUMERIC)
    strs = _cols(schema, "str")
    dts = _cols(schema, "dt")
    options = [
        "assign_const",
        "head",
        "tail",
        "iloc",
        "sort",
        "drop_duplicates",
        "dropna",
        "reset_index",
        "isna",
        "rename",
        "filter",
        "cmp",
        "isin",
    ]
    if num:
        options += [
            "cmp",  # (numbers against literals in and out of their dtype's range: twice)
            "filter",
            "arith",
            "arith_scalar",
            "abs",
            "round",
            "clip",
            "astype_float",
            "where",
            "between",
            "fillna_num",
        ]
    if strs:
        options += ["str_case", "str_len", "str_contains", "fillna_str"]
    if dts:
        options += ["dt_part"]
    if len(schema) > 1:
        options += ["drop", "groupby"]
    if last:
        options += ["reduce", "reduce", "series"]
    kind = draw(st.sampled_from(options))
    new = dict(schema)
    cols = list(schema)
    any_col = draw(st.sampled_from(cols))
    n = _new_name(schema)

    if kind == "assign_const":
        k = draw(st.sampled_from(KINDS[:4]))
        new[n] = k
        return Step(f"df[{n!r}] = {_scalar(draw, k)}"), new
    if kind in ("head", "tail"):
        return Step(f"df = df.{kind}({draw(st.integers(-3, 12))})"), new
    if kind == "iloc":
        a, b = (
            draw(st.one_of(st.none(), st.integers(-8, 8))),
            draw(st.one_of(st.none(), st.integers(-8, 20))),
        )
        step_ = draw(st.sampled_from(["", ":2", ":-1"]))
        return Step(f"df = df.iloc[{'' if a is None else a}:{'' if b is None else b}{step_}]"), new
    if kind == "sort":
        by = draw(st.lists(st.sampled_from(cols), min_size=1, max_size=2, unique=True))
        asc = draw(st.booleans())
        na = draw(st.sampled_from(["last", "first"]))
        return Step(f"df = df.sort_values({by!r}, ascending={asc}, na_position={na!r})"), new
    if kind == "drop_duplicates":
        sub = draw(
            st.one_of(
                st.none(), st.lists(st.sampled_from(cols), min_size=1, max_size=2, unique=True)
            )
        )
        keep = draw(st.sampled_from(["first", "last", False]))
        return Step(f"df = df.drop_duplicates(subset={sub!r}, keep={keep!r})"), new
    if kind == "dropna":
        sub = draw(
            st.one_of(
                st.none(), st.lists(st.sampled_from(cols), min_size=1, max_size=2, unique=True)
            )
        )
        how = draw(st.sampled_from(["any", "all"]))
        return Step(f"df = df.dropna(subset={sub!r}, how={how!r})"), new
    if kind == "reset_index":
        if "index" in schema or draw(st.booleans()):
            return Step("df = df.reset_index(drop=True)"), new
        return Step("df = df.reset_index()"), {"index": "int", **schema}
    if kind == "isna":
        new[n] = "bool"
        method = draw(st.sampled_from(["isna", "notna"]))
        return Step(f"df[{n!r}] = df[{any_col!r}].{method}()"), new
    if kind == "rename":
        new = {(n if c == any_col else c): k for c, k in schema.items()}
        return Step(f"df = df.rename(columns={{{any_col!r}: {n!r}}})"), new
    if kind in ("filter", "cmp"):
        if num and draw(st.booleans()):
            any_col = draw(st.sampled_from(num))  # (literal typing: mostly numbers)
        k = schema[any_col]
        op = draw(
            st.sampled_from(["==", "!="] if k in ("bool",) else ["==", "!=", "<", "<=", ">", ">="])
        )
        other_cols = [c for c in cols if schema[c] == k and c != any_col]
        if other_cols and draw(st.booleans()):
            rhs = f"df[{draw(st.sampled_from(other_cols))!r}]"
        elif k == "dt":
            rhs = f"pd.Timestamp({_scalar(draw, 'dt')})"
        else:
            rhs = _compared(draw, k)
        cond = f"df[{any_col!r}] {op} {rhs}"
        if kind == "filter":
            return Step(f"df = df[{cond}]"), new
        new[n] = "bool"
        return Step(f"df[{n!r}] = {cond}"), new
    if kind == "isin":
        k = schema[any_col]
        if k == "dt":
            k = "int"  # mismatched values: all False
        vals = ", ".join(_scalar(draw, k) for _ in range(draw(st.integers(0, 3))))
        new[n] = "bool"
        return Step(f"df[{n!r}] = df[{any_col!r}].isin([{vals}])"), new
    if kind == "arith":
        a, b = draw(st.sampled_from(num)), draw(st.sampled_from(num))
        op = draw(st.sampled_from(["+", "-", "*", "/"]))
        new[n] = "float" if op == "/" or "float" in (schema[a], schema[b]) else "int"
        return Step(f"df[{n!r}] = df[{a!r}] {op} df[{b!r}]"), new
    if kind == "arith_scalar":
        a = draw(st.sampled_from(num))
        op = draw(st.sampled_from(["+", "-", "*", "/", "**"]))
        v = _scalar(draw, draw(st.sampled_from(["int", "float"])))
        if op == "**":
            v = repr(draw(st.sampled_from([2, 0.5])))
        reverse = draw(st.booleans()) and op != "**"
        expr = f"{v} {op} df[{a!r}]" if reverse else f"df[{a!r}] {op} {v}"
        target = draw(st.sampled_from([a, n]))
        new[target] = (
            "float" if op == "/" or "." in v or schema[a] == "float" or (op == "**") else "int"
        )
        return Step(f"df[{target!r}] = {expr}"), new
    if kind in ("abs", "round", "clip", "astype_float", "fillna_num"):
        a = draw(st.sampled_from(num))
        call = {
            "abs": "abs()",
            "round": f"round({draw(st.integers(0, 2))})",
            "clip": f"clip({draw(st.sampled_from(['-1', 'None', '0.5']))}, "
            f"{draw(st.sampled_from(['2', 'None', '3.5']))})",
            "astype_float": "astype(float)",
            "fillna_num": f"fillna({_scalar(draw, schema[a])})",
        }[kind]
        if kind == "clip" or kind == "astype_float":
            new[a] = "float" if (kind == "astype_float" or "." in call) else schema[a]
        if draw(st.booleans()) and kind != "fillna_num":
            return Step(f"df = df[{_cols(schema, *NUMERIC)!r}].{call}"), {
                c: (new[a] if c == a else schema[c]) for c in num
            }
        return Step(f"df[{a!r}] = df[{a!r}].{call}"), new
    if kind == "where":
        a = draw(st.sampled_from(num))
        c = draw(st.sampled_from(cols))
        cond = f"df[{c!r}]" if schema[c] == "bool" else f"df[{c!r}].notna()"
        other = draw(st.sampled_from(["", ", 0", ", -1.5"]))
        new[a] = "float"
        return Step(f"df[{a!r}] = df[{a!r}].where({cond}{other})"), new
    if kind == "between":
        a = draw(st.sampled_from(num))
        inc = draw(st.sampled_from(["both", "neither", "left", "right"]))
        new[n] = "bool"
        return Step(f"df[{n!r}] = df[{a!r}].between(-1, 2, inclusive={inc!r})"), new
    if kind == "str_case":
        a = draw(st.sampled_from(strs))
        how = draw(st.sampled_from(["lower", "upper", "strip"]))
        return Step(f"df[{a!r}] = df[{a!r}].str.{how}()"), new
    if kind == "str_len":
        a = draw(st.sampled_from(strs))
        new[n] = "float"
        return Step(f"df[{n!r}] = df[{a!r}].str.len()"), new
    if kind == "str_contains":
        a = draw(st.sampled_from(strs))
        pat = draw(st.sampled_from(["a", "b", " ", "xy"]))
        new[n] = "bool"
        return Step(f"df[{n!r}] = df[{a!r}].str.contains({pat!r}, regex=False)"), new
    if kind == "fillna_str":
        a = draw(st.sampled_from(strs))
        return Step(f"df[{a!r}] = df[{a!r}].fillna('zz')"), new
    if kind == "dt_part":
        a = draw(st.sampled_from(dts))
        part = draw(st.sampled_from(["year", "month"]))
        new[n] = "float"
        return Step(f"df[{n!r}] = df[{a!r}].dt.{part}"), new
    if kind == "drop":
        return Step(f"df = df.drop(columns=[{any_col!r}])"), {
            c: k for c, k in schema.items() if c != any_col
        }
    if kind == "groupby":
        key = draw(st.sampled_from([c for c in cols if schema[c] != "float"] or cols))
        others = [c for c in cols if c != key]
        aggs = draw(
            st.lists(
                st.tuples(
                    st.sampled_from(others), st.sampled_from(["sum", "mean", "count", "size"])
                ),
                min_size=1,
                max_size=3,
            )
        )
        named = ", ".join(f"a{i}=({c!r}, {f!r})" for i, (c, f) in enumerate(aggs))
        dropna = draw(st.booleans())
        out = {
            f"a{i}": (
                schema[c]
                if f == "sum" or (f == "mean" and schema[c] == "dt")
                else "float"
                if f == "mean"
                else "int"
            )
            for i, (c, f) in enumerate(aggs)
        }
        if draw(st.booleans()):
            return Step(f"df = df.groupby({key!r}, dropna={dropna}).agg({named})"), out
        return Step(f"df = df.groupby({key!r}, dropna={dropna}).agg({named}).reset_index()"), {
            key: schema[key],
            **out,
        }
    if kind == "reduce":
        func = draw(st.sampled_from(["sum", "mean", "max", "count", "nunique"]))
        return Step(f"out = df[{any_col!r}].{func}()"), None
    assert kind == "series"
    return Step(f"out = df[{any_col!r}]"), None


@st.composite
def programs(draw: Any) -> tuple[dict[str, Any], list[Step]]:
    data, schema = draw(frames())
    steps: list[Step] = []
    length = draw(st.sampled_from([4, 6, 3, 5, 2, 1]))
    state: dict[str, str] | None = schema
    for i in range(length):
        assert state is not None
        if not state:
            break
        s, state = draw(step(state, last=i == length - 1))
        steps.append(s)
        if state is None:
            break
    return data, steps


def _execute(pd: Any, data: dict[str, Any], steps: list[Step]) -> Any:
    df = pd.DataFrame({k: (list(v) if isinstance(v, list) else v.copy()) for k, v in data.items()})
    for s in steps:
        df = s.run(pd, df)
    return df


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
@given(programs())
def test_random_programs_match_pandas(program):
    check_program(*program)


def check_program(data: dict[str, Any], steps: list[Step]) -> None:
    """The program gives pandas' result, or raises pandas' exception type, on every backend
    with the optimizer on and off (a compiled backend may decline it)."""
    check_against_pandas(lambda pd: _execute(pd, data, steps))


def check_against_pandas(
    run: Callable[[Any], Any], fallback: str = "raise", quiet: bool = False
) -> None:
    """``run(pd)`` with litsdf gives what it gives with pandas (converted to pandas), or
    raises pandas' exception type, on every backend with the optimizer on and off (a
    compiled backend may decline it). ``quiet`` silences warnings on both sides."""
    hush = _quiet if quiet else contextlib.nullcontext
    try:
        with hush():
            expected = run(pandas)
    except Exception as err:
        for backend, optimize in MODES:
            with (
                declines_pass(backend),
                pytest.raises(type(err)),
                hush(),
                litsdf.option_context(backend=backend, fallback=fallback, optimize=optimize),
            ):
                to_pandas(run(litsdf))
        return
    for backend, optimize in MODES:  # every backend, with the optimizer on and off
        with declines_pass(backend):
            try:
                with (
                    hush(),
                    executed_plans() as plans,
                    litsdf.option_context(backend=backend, fallback=fallback, optimize=optimize),
                ):
                    got = to_pandas(run(litsdf))
            except FallbackError:  # (a step litsdf does not trace: its fallback must agree)
                with (
                    _quiet(),
                    executed_plans() as plans,
                    litsdf.option_context(backend=backend, fallback="silent", optimize=optimize),
                ):
                    got = to_pandas(run(litsdf))
            assert_matches(got, expected, plans)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextlib.contextmanager
def declines_pass(backend: str) -> Iterator[None]:
    """A compiled backend may cleanly decline a program (never answer wrongly); the pandas
    backend must run everything."""
    try:
        yield
    except BackendDeclined:
        if backend == "pandas":
            raise


def test_step_repr_is_the_code():
    s = Step("df = df.head(3)")
    assert repr(s) == "df = df.head(3)"
    df = s.run(pandas, pandas.DataFrame({"a": range(5)}))
    assert len(df) == 3


# in-place calls -------------------------------------------------------------------------------
# Programs mixing the steps above with in-place calls (traced ones and ones that run through
# the fallback and are written back into the frame). Fallbacks are allowed here (silently):
# what is checked is that no in-place change is ever lost, on every backend.


@st.composite
def inplace_step(draw: Any, schema: dict[str, str]) -> tuple[Step, dict[str, str]]:
    """An in-place statement on ``df`` valid for ``schema`` (mostly), and the schema after."""
    num = _cols(schema, *NUMERIC)
    cols = list(schema)
    a = draw(st.sampled_from(cols))
    n = _new_name(schema)
    new = dict(schema)
    options = ["sort", "dropna", "drop_duplicates", "rename", "reset", "ffill", "cols_name"]
    options += ["insert", "iat", "col_fillna"] + (["pop"] if len(cols) > 1 else [])
    if num:
        options += ["fillna", "eval", "at", "update", "clip"]
    kind = draw(st.sampled_from(options))
    if kind == "sort":
        return Step(f"df.sort_values({a!r}, ascending={draw(st.booleans())}, inplace=True)"), new
    if kind == "dropna":
        return Step(f"df.dropna(subset=[{a!r}], inplace=True)"), new
    if kind == "drop_duplicates":
        return Step(f"df.drop_duplicates(subset=[{a!r}], inplace=True)"), new
    if kind == "rename":
        new = {(n if c == a else c): k for c, k in schema.items()}
        return Step(f"df.rename(columns={{{a!r}: {n!r}}}, inplace=True)"), new
    if kind == "reset":
        return Step("df.reset_index(drop=True, inplace=True)"), new
    if kind == "ffill":
        return Step(f"df.{draw(st.sampled_from(['ffill', 'bfill']))}(inplace=True)"), new
    if kind == "cols_name":
        return Step("df.columns.name = 'cols'"), new
    if kind == "insert":
        new = {n: schema[a], **schema}
        return Step(f"df.insert(0, {n!r}, df[{a!r}])"), new
    if kind == "pop":
        return Step(f"df.pop({a!r})"), {c: k for c, k in schema.items() if c != a}
    if kind == "col_fillna":  # copy-on-write: the frame does not change
        return Step(f"df[{a!r}].fillna(df[{a!r}].iloc[0], inplace=True)"), new
    if kind == "iat":
        j = cols.index(a)
        value = _scalar(draw, schema[a]) if schema[a] != "dt" else "pd.NaT"
        return Step(f"df.iat[{draw(st.integers(-2, 2))}, {j}] = {value}"), new
    b = draw(st.sampled_from(num))
    if kind == "fillna":
        return Step(f"df.fillna({{{b!r}: {_scalar(draw, schema[b])}}}, inplace=True)"), new
    if kind == "eval":
        new[n] = schema[b]
        return Step(f"df.eval('{n} = {b} * 2', inplace=True)"), new
    if kind == "at":
        return Step(f"df.at[df.index[0], {b!r}] = {_scalar(draw, schema[b])}"), new
    if kind == "update":
        return Step(f"df.update(df[[{b!r}]] * 2)"), new
    assert kind == "clip"
    return Step(f"df[{b!r}].clip(-1, 1, inplace=True)"), new


@st.composite
def inplace_programs(draw: Any) -> tuple[dict[str, Any], list[Step]]:
    data, schema = draw(frames())
    steps: list[Step] = []
    state = schema
    for _ in range(draw(st.sampled_from([3, 5, 2, 4]))):
        if not state:
            break
        s, after = draw(st.one_of(inplace_step(state), step(state, last=False)))
        assert after is not None
        steps.append(s)
        state = after
    return data, steps


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(inplace_programs())
def test_random_programs_with_inplace_calls_match_pandas(program):
    data, steps = program
    # (pandas 3.1 deprecates ``inplace``: its warnings are silenced, not checked)
    check_against_pandas(lambda pd: _execute(pd, data, steps), fallback="silent", quiet=True)


# end of in-place calls ------------------------------------------------------------------------


# --- reader sources (readers helper) ------------------------------------------------------------
# Programs whose source is a file: the drawn frame is written to CSV or Parquet and read back
# with drawn reader options (the ones that decide which rows and columns a file yields), then
# the usual steps run, so the pushdown rules into readers fire on random programs.

_READER_KIND = {"int64": "int", "float64": "float", "bool": "bool"}


def _kinds_of(frame: pandas.DataFrame) -> dict[str, str]:
    out = {}
    for c, d in frame.dtypes.items():
        out[str(c)] = (
            "dt" if pandas.api.types.is_datetime64_dtype(d) else _READER_KIND.get(str(d), "str")
        )
    return out


_CSV_QUIRKS = (
    {"on_bad_lines": "skip"},
    {"on_bad_lines": "warn"},
    {"skipfooter": 1, "engine": "python"},
    {"engine": "python", "on_bad_lines": "skip"},
    {"nrows": 3},
    {"skiprows": [1, 3]},
    {"comment": "#"},
    {"index_col": 0},
    {},
)
"""Reader options that decide which rows and columns a file yields (one drawn per read)."""


@st.composite
def _csv_options(draw: Any, schema: dict[str, str]) -> dict[str, Any]:
    cols = list(schema)
    options: dict[str, Any] = dict(draw(st.sampled_from(_CSV_QUIRKS)))
    extra = draw(st.sampled_from(["usecols", "dtype", "parse_dates", "nrows", None, None]))
    if extra == "usecols":
        options["usecols"] = draw(st.lists(st.sampled_from(cols), min_size=1, unique=True))
    elif extra == "dtype":
        options["dtype"] = {c: "str" for c in cols} if draw(st.booleans()) else "str"
    elif extra == "parse_dates" and _cols(schema, "dt"):
        options["parse_dates"] = _cols(schema, "dt")
    elif extra == "nrows" and "skipfooter" not in options:
        options["nrows"] = draw(st.integers(0, 5))
    return options


@st.composite
def reader_programs(draw: Any, folder: str) -> tuple[str, list[Step]]:
    """(the reader's code, the steps after it); the file is written under ``folder``."""
    data, schema = draw(frames())
    frame = pandas.DataFrame(data)
    fmt = draw(st.sampled_from(["csv", "csv;", "parquet"]))
    path = os.path.join(
        folder, f"f{len(os.listdir(folder))}.{fmt[:3] if fmt != 'parquet' else fmt}"
    )
    if fmt == "parquet":
        frame.to_parquet(path)
        columns = draw(
            st.one_of(st.none(), st.lists(st.sampled_from(list(schema)), min_size=1, unique=True))
        )
        read = f"df = pd.read_parquet({path!r}, columns={columns!r})"
    else:
        sep = fmt[3:] or ","
        frame.to_csv(path, index=False, sep=sep)
        options = draw(_csv_options(schema))
        if sep != ",":
            options["sep"] = sep
        if draw(st.booleans()):  # a line with one field too many
            with open(path, "a") as fh:
                fh.write(sep.join(["1"] * (len(schema) + 1)) + "\n")
        read = f"df = pd.read_csv({path!r}, **{options!r})"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            state: dict[str, str] | None = _kinds_of(Step(read).run(pandas, None))
    except Exception:
        return read, []  # pandas rejects the read: litsdf must raise the same type
    steps: list[Step] = []
    if state and len(state) > 1 and draw(st.booleans()):  # (what projection pushdown needs)
        keep = draw(st.lists(st.sampled_from(list(state)), min_size=1, unique=True))
        steps.append(Step(f"df = df[{keep!r}]"))
        state = {c: state[c] for c in keep}
    for i in range(draw(st.sampled_from([1, 2, 3]))):
        if not state:
            break
        s, state = draw(step(state, last=i == 2))
        steps.append(s)
        if state is None:
            break
    return read, steps


@pytest.fixture(scope="module")
def reader_folder(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("hypothesis-readers"))


def _read_and_run(pd: Any, read: str, steps: list[Step]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pandas.errors.ParserWarning)
        df = Step(read).run(pd, None)
        for s in steps:
            df = s.run(pd, df)
        return to_pandas(df)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
@given(st.data())
def test_random_programs_from_files_match_pandas(reader_folder, data):
    read, steps = data.draw(reader_programs(reader_folder))
    check_against_pandas(lambda pd: _read_and_run(pd, read, steps))


NUMERIC_DTYPES = sorted({*INT_DTYPES, *FLOAT_DTYPES, "bool"})


@st.composite
def literal_comparisons(draw: Any) -> tuple[dict[str, Any], Step]:
    """One numeric column of any NumPy dtype (its edges included, small or ``LARGE`` rows)
    compared with a literal in or out of its range, in a filter or an assignment."""
    dtype = np.dtype(draw(st.sampled_from(NUMERIC_DTYPES)))
    n = draw(st.sampled_from([5, LARGE]))
    if dtype.kind == "b":
        values: Any = np.array(draw(st.lists(st.booleans(), min_size=5, max_size=5)))
    elif dtype.kind == "f":
        floats = st.sampled_from([0.1, -1.0, 3e9, np.nan, 2.0**24 + 2])
        values = np.array(draw(st.lists(floats, min_size=5, max_size=5)), dtype=dtype)
    else:
        values = np.array(_int_values(draw, dtype, 5), dtype=dtype)
    op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
    lit = _compared(draw, "int" if dtype.kind in "iub" else "float")
    left = not lit.startswith("np.") and draw(st.booleans())  # (np scalar first: NumPy's call)
    cond = f"{lit} {op} df['a']" if left else f"df['a'] {op} {lit}"
    code = f"df = df[{cond}]" if draw(st.booleans()) else f"df['c'] = {cond}"
    return {"a": np.resize(values, n)}, Step(code)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(literal_comparisons())
def test_literal_comparisons_match_pandas(case):
    data, step = case
    check_program(data, [step])
