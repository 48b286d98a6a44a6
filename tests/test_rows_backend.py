"""The ``rows`` backend: which nodes it accepts, ``transform_row`` against pandas on one-row
frames, input validation and the compiled-program cache (timings are reported, not tested)."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas
import pytest

import litsdf
from litsdf_compiler.backends.rows import BACKEND, RowProgram, compile_rows
from litsdf_compiler.engine import BackendDeclined
from litsdf_compiler.ir.base import walk

SCHEMA = {"text": "str", "amount": "float64", "cat": "str", "n": "int64", "flag": "bool"}


def _frame(pd: Any, rows: list[dict[str, Any]]) -> Any:
    df = pandas.DataFrame(rows, columns=list(SCHEMA)).astype(SCHEMA)
    return df if pd is pandas else litsdf.DataFrame(df)


def text_pipeline(pd: Any, df: Any) -> Any:
    t = df["text"].str.lower().str.replace(r"[^a-z ]+", " ", regex=True).str.strip()
    df = df.assign(
        t=t,
        tokens=t.str.split().str.len(),
        n_a=t.str.count("a"),
        length=t.str.len().fillna(0),
        amount=np.log1p(df["amount"].fillna(0)).clip(0, 10),
        code=df["cat"].map({"a": 1, "b": 2}),
        label=df["cat"].map({"a": "first", "b": "second"}),
    )
    return df[df["length"] > 0]


def numeric_pipeline(pd: Any, df: Any) -> Any:
    df = df[["amount", "n", "flag"]]
    df = df.assign(
        m=df["n"] * 3 - 1,
        r=df["amount"] / df["n"],
        q=df["n"] // 2,
        w=df["amount"].where(df["flag"], -1.0),
        z=(df["amount"] ** 2).round(1),
        inside=df["n"].between(0, 10),
        member=df["n"].isin([1, 2, 3]),
        miss=df["amount"].isna(),
        as_f=df["n"].astype("float64"),
    )
    return df[df["m"] > 0].rename(columns={"m": "m2"}).drop(columns=["flag"])


def _row_score(r: Any) -> Any:
    return f"{r['cat']}:{r['n'] * 2}" if r["flag"] else r["amount"] + r.name


def apply_pipeline(pd: Any, df: Any) -> Any:
    """``df.apply(func, axis=1)`` over an object row (str, float, int and bool columns)."""
    return df.assign(score=df.apply(_row_score, axis=1))


def apply_numeric_pipeline(pd: Any, df: Any) -> Any:
    """Rows interleaved to float64 (``row.sum()`` through the Series), after a filter."""
    df = df[df["n"] >= 0][["amount", "n"]]
    return df.assign(
        total=df.apply(lambda r: r.sum(), axis=1),
        kinds=df.apply(lambda r: f"{type(r['n']).__name__}/{r.name}", axis=1),
    )


def apply_int_pipeline(pd: Any, df: Any) -> Any:
    df = df[["n"]]
    return df.assign(twice=df.apply(lambda r: r["n"] * 2 + r.name, axis=1))


def literal_pipeline(pd: Any, df: Any) -> Any:
    """Literals typed as NumPy 2 types them: integers outside int64 compared by value (and
    converted to float64 next to a float), bools compared with numbers, a float32 scalar."""
    df = df[["amount", "n", "flag"]]
    df = df.assign(
        big=df["n"] < 2**63,
        low=df["n"] <= -(2**63) - 1,
        u64=df["n"] == np.uint64(2**64 - 1),
        huge=df["amount"] < 2**64,
        shifted=df["amount"] + 2**63,
        half=df["flag"] > 0.5,
        one=df["flag"] == 1,
        tenth=df["amount"] * np.float32(0.1),
    )
    return df[df["n"] != 2**64]


def one_hot_pipeline(pd: Any, df: Any) -> Any:
    """One-hot encodings of a string column (one dict lookup in the row code): a literal
    twice, the comparison also kept as a bool, a lone one on another column, a frequency."""
    cat = df["cat"]
    return df.assign(
        a=(cat == "a").astype("float64"),
        b=(cat == "b").astype("float64"),
        is_a=cat == "a",
        z=(cat == "z").astype("float64"),
        b2=(cat == "b").astype("float64"),
        empty=(df["text"] == "").astype("float64"),
        freq=cat.map({"a": 0.5, "b": 0.25}).astype("float64").fillna(0.0),
    ).drop(columns=["n", "flag"])


def one_hot_redefined_pipeline(pd: Any, df: Any) -> Any:
    """Encodings of a column before and after it is redefined: two groups, not one."""
    df = df.assign(
        a=(df["cat"] == "a").astype("float64"),
        b=(df["cat"] == "b").astype("float64"),
        cat=df["cat"].str.upper(),
    )
    return df.assign(
        a2=(df["cat"] == "a").astype("float64"), upper=(df["cat"] == "A").astype("float64")
    )


PIPELINES = [
    text_pipeline,
    one_hot_pipeline,
    one_hot_redefined_pipeline,
    numeric_pipeline,
    literal_pipeline,
    apply_pipeline,
    apply_numeric_pipeline,
    apply_int_pipeline,
]

ROWS = [
    {"text": "  Hello, World! A tasty banana ", "amount": 12.5, "cat": "a", "n": 2, "flag": True},
    {"text": None, "amount": float("nan"), "cat": "z", "n": 5, "flag": False},
    {"text": "Ünïcode Straße", "amount": -3.0, "cat": None, "n": 0, "flag": True},
    {"text": "", "amount": 0.0, "cat": "b", "n": -4, "flag": False},
]


def _same(got: dict[str, Any] | None, expected: dict[str, Any] | None) -> None:
    assert (got is None) == (expected is None), (got, expected)
    if got is None or expected is None:
        return
    assert list(got) == list(expected)
    for k, e in expected.items():
        g = got[k]
        assert type(g) is type(e), (k, g, e)
        if isinstance(e, float) and math.isnan(e):
            assert math.isnan(g), k
        else:
            assert g == e or math.isclose(g, e, rel_tol=1e-12), (k, g, e)


@pytest.mark.parametrize("pipeline", PIPELINES)
@pytest.mark.parametrize("row", ROWS, ids=range(len(ROWS)))
def test_transform_row_matches_pandas_on_one_row(pipeline, row):
    program = compile_rows(pipeline(litsdf, _frame(litsdf, ROWS))._plan)
    try:
        expected_frame = pipeline(pandas, _frame(pandas, [row]))
    except Exception as err:  # e.g. no .str accessor on a column of only missing values
        with pytest.raises(type(err)):
            program.transform_row(row)
        return
    expected = expected_frame.to_dict("records")[0] if len(expected_frame) else None
    _same(program.transform_row(row), expected)


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_execute_and_transform_rows_match_pandas(pipeline):
    expected = pipeline(pandas, _frame(pandas, ROWS))
    plan = pipeline(litsdf, _frame(litsdf, ROWS))._plan
    pandas.testing.assert_frame_equal(BACKEND.execute(plan), expected)
    rows = [r for r in ROWS if r["text"] is not None]  # pandas: no .str on an all-missing row
    got = compile_rows(plan).transform_rows(rows)
    assert len(got) == len(pipeline(pandas, _frame(pandas, rows)))


def test_supported_node_kinds():
    # rows visits physical nodes: the row-wise ones, never an island or a limit
    for node in ("Scan", "Compute", "Filter", "Select"):
        assert hasattr(BACKEND, f"visit_{node}"), node
    for node in ("PandasCall", "Limit", "Source", "WithColumns", "Sort", "Head"):
        assert not hasattr(BACKEND, f"visit_{node}"), node
    df = _frame(litsdf, ROWS)
    # every logical row-wise kind lowers to those (Source, Project, WithColumns, Filter,
    # Drop, Rename) and runs here
    out = df.assign(m=df["n"] + 1).rename(columns={"m": "M"}).drop(columns=["cat"])
    out = out[out["M"] > 1][["M", "n"]]
    assert BACKEND.supports(out._plan)
    kinds = {type(x).__name__ for x in walk(out._plan)}
    assert {"Source", "Project", "WithColumns", "Filter", "Drop", "Rename"} <= kinds
    assert BACKEND.supports(text_pipeline(litsdf, df)._plan)
    assert BACKEND.supports(numeric_pipeline(litsdf, df)._plan)
    for plan in (df.sort_values("n")._plan, df.head(2)._plan, df.groupby("cat").sum()._plan):
        verdict = BACKEND.supports(plan)
        assert not verdict and verdict.reason


def test_declines_with_reason():
    df = _frame(litsdf, ROWS)
    with pytest.raises(BackendDeclined, match=r"no lowering for HashJoin"):
        compile_rows(df.merge(_frame(litsdf, ROWS), on="n")._plan)
    with pytest.raises(BackendDeclined, match=r"no lowering for UnionAll"):
        compile_rows(litsdf.concat([df, df])._plan)
    with pytest.raises(BackendDeclined, match=r"no lowering for OrderBy"):
        compile_rows(df.sort_values("n")._plan)
    with pytest.raises(BackendDeclined, match=r"no lowering for PandasCall \(SortIndex\)"):
        compile_rows(df.sort_index()._plan)
    with pytest.raises(BackendDeclined, match="map to values"):
        compile_rows(df["cat"].map({"a": True})._plan)


def test_program_interface_and_cache():
    plan = text_pipeline(litsdf, _frame(litsdf, ROWS))._plan
    program = compile_rows(plan)
    assert isinstance(program, RowProgram)
    assert compile_rows(plan) is program
    again = text_pipeline(litsdf, _frame(litsdf, ROWS[:1]))._plan  # another frame, same shape
    assert compile_rows(again) is program
    assert program.inputs == {k: pandas.api.types.pandas_dtype(v) for k, v in SCHEMA.items()}
    assert list(program.outputs) == [*SCHEMA, "t", "tokens", "n_a", "length", "code", "label"]
    assert program.outputs["length"] == np.dtype("int64")  # float64 when a value is missing
    assert "def transform_row(r):" in program.source
    series = compile_rows(_frame(litsdf, ROWS)["n"].__add__(1)._plan)
    assert list(series.outputs) == ["__litsdf_series__"]
    assert series.transform_row({"n": 41}) == {"__litsdf_series__": 42}


def test_validation_errors():
    program = compile_rows(numeric_pipeline(litsdf, _frame(litsdf, ROWS))._plan)
    good = {"amount": 1.0, "n": 2, "flag": True}
    assert program.transform_row({**good, "extra": object()}) is not None  # extras ignored
    with pytest.raises(KeyError, match="missing column 'n' \\(int64\\)"):
        program.transform_row({"amount": 1.0, "flag": True})
    with pytest.raises(ValueError, match="missing column 'n'"):
        program.transform_row({"amount": 1.0, "flag": True})
    with pytest.raises(TypeError, match=r"'n' \(int64\).*str"):
        program.transform_row({**good, "n": "2"})
    with pytest.raises(TypeError, match=r"'n'.*cannot hold a missing value"):
        program.transform_row({**good, "n": None})
    with pytest.raises(TypeError, match=r"'flag'.*cannot hold a missing value"):
        program.transform_row({**good, "flag": float("nan")})
    with pytest.raises(TypeError, match="'amount'"):
        program.transform_row({**good, "amount": "1.5"})
    with pytest.raises(TypeError, match="'n'"):
        program.transform_row({**good, "n": True})
    with pytest.raises(OverflowError, match="'n'"):
        program.transform_row({**good, "n": 2**70})
    assert program.transform_row({**good, "n": np.int32(2), "flag": np.bool_(True)})["q"] == 1
    none = program.transform_row({**good, "amount": None})
    nan = program.transform_row({**good, "amount": float("nan")})
    assert none is not None and nan is not None and math.isnan(none["amount"])
    assert math.isnan(nan["r"])
    assert program.transform_row({**good, "n": -5}) is None  # filtered out
    text = compile_rows(text_pipeline(litsdf, _frame(litsdf, ROWS))._plan)
    base = {"amount": 1.0, "cat": "a", "n": 1, "flag": True}
    with pytest.raises(TypeError, match="'text'"):
        text.transform_row({**base, "text": 3})
    assert text.transform_row({**base, "text": "!!", "cat": None}) is None  # filtered


def test_datetime_fields_and_validation():
    df = pandas.DataFrame({"t": pandas.to_datetime(["2024-02-29 10:00", None])})
    plan = litsdf.DataFrame(df).assign(y=lambda d: d["t"].dt.year)._plan
    pandas.testing.assert_frame_equal(BACKEND.execute(plan), df.assign(y=df["t"].dt.year))
    program = compile_rows(plan)
    import datetime

    assert program.transform_row({"t": datetime.datetime(2020, 5, 1)})["y"] == 2020
    assert math.isnan(program.transform_row({"t": None})["y"])
    with pytest.raises(TypeError, match="'t'"):
        program.transform_row({"t": "2020-01-01"})


def test_row_apply_transform_row_and_declines():
    df = _frame(litsdf, ROWS)
    program = compile_rows(df.apply(lambda r: (r.name, type(r["n"]).__name__), axis=1)._plan)
    row = {**ROWS[0], "extra": 1}
    assert program.transform_row(row) == {"__litsdf_series__": (0, "int")}  # a one-row frame
    rowwise = compile_rows(df.apply(lambda r: r, axis=1)._plan)  # pandas expands the rows
    with pytest.raises(NotImplementedError, match="one scalar per row"):
        rowwise.transform_row(ROWS[0])
    with pytest.raises(NotImplementedError, match="one scalar per row"):
        BACKEND.execute(df.apply(lambda r: r, axis=1)._plan)
    applied = df.assign(r=df.apply(lambda r: r["n"] + 1, axis=1))
    # one row at a time a UDF's value is its own (pandas infers over one row); over a frame
    # pandas infers the column's dtype from every row before the filter: row form only
    filtered = compile_rows(applied[applied["n"] > 0]._plan)
    assert filtered.transform_row(ROWS[0])["r"] == ROWS[0]["n"] + 1
    assert not filtered.frame_verdict
    assert not BACKEND.supports(applied[applied["n"] > 0]._plan)
    with pytest.raises(BackendDeclined, match="filter after a UDF"):
        filtered.run_frame(_frame(pandas, ROWS))
    with pytest.raises(BackendDeclined, match="mul of None"):
        compile_rows((applied["r"] * 2)._plan)
    after = compile_rows(df[df["n"] > 0][["text", "cat"]].apply(lambda r: r.name, axis=1)._plan)
    assert "str columns after a filter" in after.frame_verdict.reason  # frames only
    small = litsdf.DataFrame({"a": np.array([1, 2], dtype="int32")})
    with pytest.raises(BackendDeclined, match="int32"):
        compile_rows(small.apply(lambda r: r["a"], axis=1)._plan)


def test_row_apply_datetime_rows_take_the_column_unit():
    import datetime

    df = pandas.DataFrame({"t": pandas.to_datetime(["2024-02-29 10:00", None]).as_unit("ns")})

    def describe(r: Any) -> str:
        return f"{r['t']}|{getattr(r['t'], 'unit', '-')}|{r.dtype}"

    plan = litsdf.DataFrame(df).apply(describe, axis=1)._plan
    pandas.testing.assert_series_equal(
        BACKEND.execute(plan).iloc[:, 0], df.apply(describe, axis=1), check_names=False
    )
    program = compile_rows(plan)
    for value in (datetime.datetime(2020, 5, 1, 12), None):
        one = pandas.DataFrame({"t": pandas.Series([value], dtype="datetime64[ns]")})
        expected = one.apply(describe, axis=1).iloc[0]
        assert program.transform_row({"t": value}) == {"__litsdf_series__": expected}


def test_string_literal_concatenation_compiles_cleanly():
    import warnings

    df = litsdf.DataFrame({"s": pandas.array(["a", None, "b a"], dtype="str")})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no SyntaxWarning from generated `'x' is None`
        program = compile_rows((" " + df["s"] + " ").str.contains(" a ", regex=False)._plan)
    assert program.transform_row({"s": "b a"}) == {"__litsdf_series__": True}
    assert program.transform_row({"s": None}) == {"__litsdf_series__": False}


def test_one_hot_is_one_lookup_per_column(compare):
    rows = [*ROWS, {**ROWS[0], "cat": "c"}]
    compare(lambda pd: one_hot_pipeline(pd, _frame(pd, rows)))
    compare(lambda pd: one_hot_redefined_pipeline(pd, _frame(pd, rows)))
    program = compile_rows(one_hot_pipeline(litsdf, _frame(litsdf, ROWS))._plan)
    source = program.source
    assert "== 'z'" not in source and "== 'b'" not in source  # a dict lookup instead
    assert "== 'a'" in source  # (the bool column is still the comparison)
    assert len(re.findall(r"^    v\d+, v\d+, v\d+, = K\d+\.get\(c2, K\d+\)$", source, re.M)) == 1
    for cat, expected in [("b", (0.0, 1.0, 0.0, 1.0)), ("c", (0.0,) * 4), (None, (0.0,) * 4)]:
        out = program.transform_row({**ROWS[0], "cat": cat})
        assert (out["a"], out["b"], out["z"], out["b2"]) == expected


def float_pipeline(pd: Any, df: Any) -> Any:
    """Every output float64, after a filter: one-hot groups both in output order (spliced
    into the tuple) and interleaved with other outputs (unpacked)."""
    df = df[df["n"] >= 0]
    cat, amount = df["cat"], df["amount"]
    return df.assign(
        f=amount.where(amount.abs() < np.inf, 1.5),
        nf=df["n"].astype("float64"),
        a=(cat == "a").astype("float64"),
        b=(cat == "b").astype("float64"),
        empty=(df["text"] == "").astype("float64"),
        hello=(df["text"] == "hello").astype("float64"),
        freq=cat.map({"a": 0.5}).astype("float64").fillna(0.0),
    )[["a", "b", "f", "empty", "nf", "hello", "freq"]]


def test_transform_row_floats_is_transform_row_as_a_tuple():
    program = compile_rows(float_pipeline(litsdf, _frame(litsdf, ROWS))._plan)
    floats = program.transform_row_floats
    assert floats is not None and program.floats_source is not None
    assert "def transform_row_floats(r):" in program.floats_source
    assert "*K" in program.floats_source  # the group (a, b) is spliced in
    assert ", = K" in program.floats_source  # (empty, hello) are not in output order
    inf = float("inf")
    rows = [
        *ROWS,
        {"text": "hello", "amount": inf, "cat": "c", "n": 7, "flag": True},
        {"text": "", "amount": -inf, "cat": "b", "n": 1, "flag": False},
    ]
    kept = []
    for row in rows:
        got, out = floats(row), program.transform_row(row)
        if out is None:
            assert got is None
            continue
        assert type(got) is tuple and all(type(v) is float for v in got)
        assert got == tuple(out.values())
        kept.append(row)
    assert len(kept) == len(rows) - 1  # the filter dropped one
    expected = float_pipeline(pandas, _frame(pandas, rows)).to_numpy()
    assert np.array_equal(np.array([floats(r) for r in kept]), expected, equal_nan=True)
    assert floats({**rows[0], "amount": 3})[2] == 3.0  # an int in a float64 field
    with pytest.raises(KeyError, match="missing column 'cat'"):
        floats({k: v for k, v in rows[0].items() if k != "cat"})
    with pytest.raises(TypeError, match="'amount'"):
        floats({**rows[0], "amount": True})
    # outputs that are not all float64: no tuple form
    assert (
        compile_rows(numeric_pipeline(litsdf, _frame(litsdf, ROWS))._plan).transform_row_floats
        is None
    )
