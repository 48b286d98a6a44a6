"""``litsdf.compile``: pipelines traced once, run on frames (every backend) and on rows.

pandas is the oracle: ``pipe(df)`` equals ``fn(df)`` run by pandas; ``transform_row(r)``
equals pandas on the one-row frame built from ``r`` with the input schema, as
``to_dict("records")``.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas
import pytest

import litsdf
from litsdf_compiler.engine import BackendDeclined

from .conftest import BACKENDS, assert_same

CATS = {"books": 0, "toys": 1, "food": 2}


def text_features(df):
    df["text"] = df["text"].fillna("")
    df["clean"] = df["text"].str.lower().str.replace(r"[^a-z ]+", " ", regex=True).str.strip()
    df["n_tokens"] = df["clean"].str.count(" ") + 1
    df["length"] = df["clean"].str.len()
    df["price"] = df["price"].fillna(0.0)
    df["log_price"] = np.log1p(df["price"]).clip(0.0, 4.0)
    df["cat_id"] = df["category"].map(CATS)
    return df[df["length"] > 0]


def numeric_features(df):
    df["a"] = df["a"].fillna(0.0)
    df["z"] = (df["a"] * 2.5 - df["n"]).where(df["flag"], -1.0)
    df["big"] = df["z"] > 3
    return df[df["n"] % 2 == 0][["z", "big", "n"]]


def series_out(df):
    return (df["a"].fillna(1.0) * df["n"]).rename("score")


def with_udf(df):
    df["label"] = df["n"].map(lambda v: "even" if v % 2 == 0 else "odd")
    return df


def text_frame():
    return pandas.DataFrame(
        {
            "text": pandas.array(["Great item!", None, "  OK  ", "!!", "buy AGAIN"], dtype="str"),
            "price": [10.0, np.nan, 0.5, 3.0, 100.0],
            "category": pandas.array(["books", "toys", "other", "food", "books"], dtype="str"),
        }
    )


def numeric_frame():
    return pandas.DataFrame(
        {
            "a": [1.5, np.nan, -2.0, 4.0, 0.0, 7.25],
            "n": np.array([1, 2, 3, 4, 6, 8], dtype="int64"),
            "flag": [True, False, True, True, False, True],
        }
    )


def udf_then_filter(df):
    df["half"] = df["n"].map(lambda v: v / 2 if v > 2 else None)
    return df[df["a"] > 0]


CASES = {
    "udf_then_filter": (udf_then_filter, numeric_frame),
    "text": (text_features, text_frame),
    "numeric": (numeric_features, numeric_frame),
    "series": (series_out, numeric_frame),
    "udf": (with_udf, numeric_frame),
}


def _nan_equal(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b and type(a) is type(b)


def _same_record(got, expected):
    assert got.keys() == expected.keys()
    for key in expected:
        assert _nan_equal(got[key], expected[key]), (key, got[key], expected[key])


@pytest.mark.parametrize("backend", ["auto", *BACKENDS])
@pytest.mark.parametrize("case", sorted(CASES))
def test_pipe_on_pandas_equals_pandas(case, backend):
    fn, make = CASES[case]
    pipe = litsdf.compile(fn, example=make())
    data = make()
    expected = fn(make())
    try:
        with litsdf.option_context(backend=backend, fallback="raise"):
            got = pipe(data)
    except BackendDeclined as why:
        pytest.skip(f"{backend} declined: {why}")
    assert isinstance(got, type(expected))
    assert_same(got, expected)
    pandas.testing.assert_frame_equal(data, make())  # the caller's frame is untouched


@pytest.mark.parametrize("case", sorted(CASES))
def test_pipe_on_litsdf_is_lazy_and_equal(case):
    fn, make = CASES[case]
    pipe = litsdf.compile(fn, example=make())
    got = pipe(litsdf.DataFrame(make()))
    assert isinstance(got, (litsdf.DataFrame, litsdf.Series))
    assert_same(got.to_pandas(), fn(make()))


def test_schema_in_and_out():
    pipe = litsdf.compile(numeric_features, schema={"a": "float64", "n": "int64", "flag": "bool"})
    assert pipe.schema_in == {
        "a": np.dtype("float64"),
        "n": np.dtype("int64"),
        "flag": np.dtype("bool"),
    }
    assert pipe.schema_out == {
        "z": np.dtype("float64"),
        "big": np.dtype("bool"),
        "n": np.dtype("int64"),
    }
    s = litsdf.compile(series_out, example=numeric_frame())
    assert s.schema_out == {"score": np.dtype("float64")}


def test_extra_columns_are_ignored_and_order_does_not_matter():
    pipe = litsdf.compile(numeric_features, example=numeric_frame())
    data = numeric_frame()[["flag", "n", "a"]].assign(extra="x")
    assert_same(pipe(data), numeric_features(numeric_frame()))


def test_two_inputs():
    left = pandas.DataFrame({"k": ["a", "b", "c"], "x": [1, 2, 3]})
    right = pandas.DataFrame({"k": ["c", "a"], "y": [0.5, 1.5]})

    def joined(a, b):
        out = a.merge(b, on="k", how="left")
        out["xy"] = out["x"] * out["y"]
        return out

    pipe = litsdf.compile(joined, example=[left, right])
    assert_same(pipe(left, right), joined(left, right))
    with pytest.raises(TypeError, match="takes 2 DataFrame"):
        pipe(left)
    with pytest.raises(NotImplementedError, match="single-input"):
        pipe.transform_row({"k": "a", "x": 1})


@pytest.mark.parametrize(
    ("frame", "error", "message"),
    [
        (numeric_frame().drop(columns="n"), KeyError, "missing column"),
        (numeric_frame().astype({"n": "float64"}), TypeError, "column 'n' has dtype float64"),
        ({"a": [1.0]}, TypeError, "must be a DataFrame"),
    ],
)
def test_pipe_input_errors(frame, error, message):
    pipe = litsdf.compile(numeric_features, example=numeric_frame())
    with pytest.raises(error, match=message):
        pipe(frame)


def _uses_len(df):
    if len(df) > 2:
        return df
    return df


def _uses_fallback(df):
    return df.pivot_table(index="n", values="a")


@pytest.mark.parametrize("fn", [_uses_len, _uses_fallback, lambda df: df["a"].tolist()])
def test_trace_needing_values_is_a_clear_error(fn):
    with (
        litsdf.option_context(fallback="warn"),
        pytest.raises(litsdf.TraceError, match="needs the values of its input"),
    ):
        litsdf.compile(fn, example=numeric_frame())


def test_compile_argument_errors():
    with pytest.raises(TypeError, match=r"example= .* or schema="):
        litsdf.compile(numeric_features)
    with pytest.raises(TypeError, match="not a dtype"):
        litsdf.compile(numeric_features, schema={"a": "floaty"})
    with pytest.raises(TypeError, match="must return a litsdf DataFrame or Series"):
        litsdf.compile(lambda df: 3, schema={"a": "int64"})
    with pytest.raises(TypeError, match="does not use its input 'b'"):
        litsdf.compile(lambda a, b: a, schema=[{"x": "int64"}, {"y": "int64"}])
    with pytest.raises(TypeError, match="takes 2 DataFrame"):
        litsdf.compile(lambda a, b: a, schema={"x": "int64"})


def test_explain_shows_plans_and_kernel():
    pipe = litsdf.compile(text_features, example=text_frame())
    text = pipe.explain()
    for part in ("== inputs ==", "== logical plan ==", "== optimized plan ==", "== backend =="):
        assert part in text
    pipe(text_frame())
    assert "last pipe(df) ran on" in pipe.explain()
    assert pipe.explain(format="dict")["inputs"]["df"]["price"] == "float64"


@pytest.mark.parametrize("case", sorted(set(CASES) - {"udf", "udf_then_filter"}))
def test_json_round_trip_in_a_fresh_process(case, tmp_path):
    fn, make = CASES[case]
    pipe = litsdf.compile(fn, example=make())
    (tmp_path / "pipe.json").write_text(pipe.to_json())
    make().to_parquet(tmp_path / "in.parquet")
    code = (
        "import sys, pandas, litsdf\n"
        f"pipe = litsdf.Pipeline.from_json(open({str(tmp_path / 'pipe.json')!r}).read())\n"
        f"out = pipe(pandas.read_parquet({str(tmp_path / 'in.parquet')!r}))\n"
        "out = out.to_frame() if isinstance(out, pandas.Series) else out\n"
        f"out.to_parquet({str(tmp_path / 'out.parquet')!r})\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    got = pandas.read_parquet(tmp_path / "out.parquet")
    expected = pipe(make())
    expected = expected.to_frame() if isinstance(expected, pandas.Series) else expected
    pandas.testing.assert_frame_equal(got, expected)


def test_json_with_udf_needs_allow_pickle():
    pipe = litsdf.compile(with_udf, example=numeric_frame())
    text = pipe.to_json()
    with pytest.raises(litsdf_plan_error(), match="allow_pickle=True"):
        litsdf.Pipeline.from_json(text)
    again = litsdf.Pipeline.from_json(text, allow_pickle=True)
    assert_same(again(numeric_frame()), with_udf(numeric_frame()))


def litsdf_plan_error():
    from litsdf_compiler.ir.serde import PlanFormatError

    return PlanFormatError


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope", "not JSON"),
        ('{"format": "x"}', "not a litsdf pipeline"),
        ('{"format": "litsdf-pipeline", "version": 7}', "version 7"),
        ('{"format": "litsdf-pipeline", "version": 1}', "missing or bad"),
    ],
)
def test_from_json_errors(text, message):
    with pytest.raises(litsdf_plan_error(), match=message):
        litsdf.Pipeline.from_json(text)


def test_from_json_detects_a_schema_that_does_not_match_the_plan():
    doc = json.loads(litsdf.compile(numeric_features, example=numeric_frame()).to_json())
    doc["inputs"][0]["schema"][0][1] = "int32"
    with pytest.raises(litsdf_plan_error(), match="schema does not match"):
        litsdf.Pipeline.from_json(json.dumps(doc))


# rows ----------------------------------------------------------------------------------------


def _one_row_oracle(fn, make, row):
    schema = make().dtypes
    frame = pandas.DataFrame({c: pandas.Series([row[c]], dtype=schema[c]) for c in schema.index})
    out = fn(frame)
    if isinstance(out, pandas.Series):
        return None if len(out) == 0 else out.iloc[0]
    records = out.to_dict("records")
    return records[0] if records else None


@pytest.mark.parametrize("case", ["text", "numeric", "udf", "udf_then_filter"])
def test_transform_row_equals_pandas_on_one_row(case):
    fn, make = CASES[case]
    pipe = litsdf.compile(fn, example=make())
    rows = make().to_dict("records")
    for row in rows:
        expected = _one_row_oracle(fn, make, row)
        got = pipe.transform_row(row)
        if expected is None:
            assert got is None
        else:
            _same_record(got, expected)
    kept = [r for r in (_one_row_oracle(fn, make, r) for r in rows) if r is not None]
    batch = pipe.transform_rows(rows)
    assert len(batch) == len(kept)
    for got, expected in zip(batch, kept):
        _same_record(got, expected)


def test_transform_row_of_a_series_pipeline_gives_the_value():
    pipe = litsdf.compile(series_out, example=numeric_frame())
    assert pipe.transform_row({"a": None, "n": 4, "flag": True}) == 4.0
    assert pipe.transform_rows([{"a": 2.0, "n": 3, "flag": True}]) == [6.0]


def test_transform_row_input_validation():
    pipe = litsdf.compile(numeric_features, example=numeric_frame())
    with pytest.raises((KeyError, ValueError), match="'n'"):
        pipe.transform_row({"a": 1.0, "flag": True})
    with pytest.raises(TypeError, match="'n'"):
        pipe.transform_row({"a": 1.0, "n": "three", "flag": True})
    ok = pipe.transform_row({"a": 1.0, "n": 2, "flag": True, "extra": object()})
    assert ok == {"z": 0.5, "big": False, "n": 2}
    nan_row = pipe.transform_row({"a": float("nan"), "n": 2, "flag": True})
    none_row = pipe.transform_row({"a": None, "n": 2, "flag": True})
    assert nan_row == none_row == {"z": -2.0, "big": False, "n": 2}


def test_transform_row_declines_batch_plans_clearly():
    pipe = litsdf.compile(lambda df: df.sort_values("n"), example=numeric_frame())
    with pytest.raises(NotImplementedError, match="rows"):
        pipe.transform_row({"a": 1.0, "n": 2, "flag": True})
    assert_same(pipe(numeric_frame()), numeric_frame().sort_values("n"))
