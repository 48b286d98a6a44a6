"""IR unit tests: immutable hashable nodes, JSON round trips, explain, options, backends."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas
import pytest

import litsdf
from litsdf_compiler import engine
from litsdf_compiler.backends import Backend, Verdict, get_backend, registry
from litsdf_compiler.ir import (
    NODE_TYPES,
    BinaryOp,
    Col,
    Filter,
    Lit,
    Project,
    Reduce,
    ScalarResult,
    walk,
)
from litsdf_compiler.ir.base import FrozenDict, FrozenList, freeze, thaw
from litsdf_compiler.ir.frames import as_frame
from litsdf_compiler.ir.serde import FORMAT, VERSION, PlanFormatError, from_json, to_json

from .conftest import assert_same
from .differential.data import frame, keyed

# nodes ----------------------------------------------------------------------------------------


def test_nodes_are_immutable():
    e = BinaryOp("add", Col("a"), Lit(1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.op = "sub"  # type: ignore[misc]
    df = litsdf.DataFrame({"a": [1]})
    plan = df[df["a"] > 0]._plan
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.condition = Lit(True)  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):
        plan.extra = 1  # type: ignore[attr-defined]


def test_structural_equality_and_hash():
    source = litsdf.DataFrame({"x": [1], "y": [2]})._plan
    e = BinaryOp("mul", Col("x"), BinaryOp("add", Col("y"), Lit(2)))
    p, q = Project(source, (("e", e),)), Project(source, (("e", e),))
    assert p is not q and p == q and hash(p) == hash(q)  # (relations are not interned)
    assert {p: "first"}[q] == "first"
    a = BinaryOp("mul", Col("x"), BinaryOp("add", Col("y"), Lit(2)))
    b = BinaryOp("mul", Col("x"), BinaryOp("add", Col("y"), Lit(2)))
    assert a == b and hash(a) == hash(b)
    d = {a: "first"}
    assert d[b] == "first"
    assert len({a, b}) == 1
    assert a != BinaryOp("mul", Col("x"), BinaryOp("add", Col("y"), Lit(3)))
    assert a != BinaryOp("mul", Col("y"), BinaryOp("add", Col("x"), Lit(2)))


def test_equal_expressions_are_one_object():
    a = BinaryOp("mul", Col("x"), BinaryOp("add", Col("y"), Lit(2)))
    assert BinaryOp("mul", Col("x"), BinaryOp("add", Col("y"), Lit(2))) is a
    assert dataclasses.replace(a, op="add") is BinaryOp("add", Col("x"), a.right)
    assert pickle.loads(pickle.dumps(a)) is a
    assert from_json(to_json(a)) is a
    # literals that pandas treats differently stay apart; every NaN is one literal
    assert Lit(0.0) is not Lit(-0.0) and Lit(0.0) != Lit(-0.0)
    assert Lit(1) is not Lit(1.0) and Lit(1) is not Lit(True)
    assert Lit(np.float64(1.0)) is not Lit(1.0)
    assert Lit(float("nan")) is Lit(float("nan"))
    assert Lit(np.float32(-0.0)) != Lit(np.float32(0.0))


def test_interning_keeps_no_expression_alive():
    from litsdf_compiler.ir.base import _INTERNED

    before = len(_INTERNED)
    e = BinaryOp("add", Col("an interned column"), Lit(123456789))
    assert len(_INTERNED) == before + 3
    del e
    assert len(_INTERNED) == before


def test_expression_with_an_unkeyable_field_is_built_alone():
    a, b = Lit([1, 2]), Lit([1, 2])  # (a list: no dict key; the plan builders freeze lists)
    assert a is not b and a.value == [1, 2]


def test_same_pandas_code_builds_equal_plans():
    pdf = pandas.DataFrame({"a": [1, 2], "b": [3.0, 4.0]})
    df = litsdf.DataFrame(pdf)

    def build(d: Any) -> Any:
        return d[d["a"] > 1].assign(c=lambda x: x["a"] * 2).sort_values("b")

    p1, p2 = build(df)._plan, build(df)._plan
    assert p1 == p2 and hash(p1) == hash(p2)
    assert {p1: 1}[p2] == 1
    other = litsdf.DataFrame(pdf)  # another source: different data identity
    assert build(other)._plan != p1


def test_literal_types_differ():
    assert Lit(1) != Lit(1.0)
    assert Lit(1.0) != Lit(True)
    assert Lit(1) != Lit(True)
    assert Lit(0) != Lit(False)
    assert Lit(1) == Lit(1)
    assert Lit(np.int64(1)) != Lit(1)
    assert Lit("1") != Lit(1)
    assert len({Lit(1), Lit(1.0), Lit(True)}) == 3


def test_nan_literals_are_equal():
    assert Lit(float("nan")) == Lit(float("nan"))
    assert Lit(np.nan) == Lit(float("nan"))
    assert hash(Lit(np.nan)) == hash(Lit(float("nan")))
    assert Lit(None) != Lit(np.nan)
    assert Lit(pandas.NA) == Lit(pandas.NA)
    assert Lit(pandas.NaT) == Lit(pandas.NaT)
    assert Lit(pandas.NA) != Lit(None)


def test_list_and_tuple_arguments_differ():
    assert Lit(freeze([1, 2])) != Lit((1, 2))  # pandas treats lists and tuples differently
    assert isinstance(freeze([1, 2]), FrozenList)
    assert isinstance(freeze({"a": [1]}), FrozenDict)
    assert thaw(freeze({"a": [1, (2, 3)]})) == {"a": [1, (2, 3)]}
    assert type(thaw(freeze((1, [2])))[1]) is list
    with pytest.raises(TypeError):
        freeze({1, 2})


def test_walk_and_node_registry():
    df = litsdf.DataFrame({"a": [1, 2], "b": [3, 4]})
    plan = df[df["a"] > 1][["b"]]._plan
    kinds = [type(n).__name__ for n in walk(plan)]
    assert kinds[0] == "Project"
    assert {"Filter", "Source", "BinaryOp", "Col", "Lit"} <= set(kinds)
    for name in ("Col", "Lit", "BinaryOp", "Source", "Filter", "Project", "Aggregate", "Join"):
        assert name in NODE_TYPES


# JSON serialization ---------------------------------------------------------------------------


def _csv(tmp: str) -> str:
    path = os.path.join(tmp, "data.csv")
    frame(pandas).to_csv(path, index=False)
    return path


def _parquet(tmp: str) -> str:
    path = os.path.join(tmp, "data.parquet")
    frame(pandas).to_parquet(path)
    return path


PLANS: dict[str, Callable[[Any, str], Any]] = {
    "source": lambda pd, tmp: frame(pd),
    "column": lambda pd, tmp: frame(pd)["f"],
    "project": lambda pd, tmp: frame(pd)[["s", "i", "t"]],
    "arith": lambda pd, tmp: (lambda d: d["i"] * 2.5 + d["j"] // 2 - d["f"] ** 2)(frame(pd)),
    "with_columns": lambda pd, tmp: frame(pd).assign(x=lambda d: d["i"] - d["j"], y=1),
    "filter": lambda pd, tmp: (lambda d: d[(d["f"] > 0) | d["b"]])(frame(pd)),
    "fillna_cast": lambda pd, tmp: frame(pd)["f"].fillna(-1.0).astype("int64"),
    "where_isin": lambda pd, tmp: (lambda d: d["i"].where(d["k"].isin(["a", "c"]), -1))(frame(pd)),
    "between_clip": lambda pd, tmp: (
        lambda d: d.assign(x=d["f"].between(0, 5, inclusive="left"), y=d["g"].clip(0, 3))
    )(frame(pd)),
    "strings": lambda pd, tmp: (
        lambda d: d.assign(
            lo=d["s"].str.lower(),
            up=d["s"].str.upper(),
            n=d["s"].str.strip().str.len(),
            c=d["s"].str.contains("a", regex=False),
        )
    )(frame(pd)),
    "datetimes": lambda pd, tmp: (lambda d: d.assign(y=d["t"].dt.year, m=d["t"].dt.month))(
        frame(pd)
    ),
    "timestamp_literal": lambda pd, tmp: (lambda d: d[d["t"] > pd.Timestamp("2024-03-01")])(
        frame(pd)
    ),
    "nan_literal": lambda pd, tmp: frame(pd)["f"].fillna(np.nan) + np.float64(1.5),
    "sort": lambda pd, tmp: frame(pd).sort_values(
        ["k", "f"], ascending=[True, False], na_position="first"
    ),
    "head_tail_slice": lambda pd, tmp: frame(pd).head(6).tail(4).iloc[1:3],
    "groupby_named": lambda pd, tmp: (
        frame(pd).groupby("k").agg(total=("i", "sum"), avg=("f", "mean"), n=("s", "count"))
    ),
    "groupby_dict": lambda pd, tmp: (
        frame(pd).groupby(["k", "b"], dropna=False).agg({"i": ["sum", "max"], "g": "mean"})
    ),
    "groupby_size": lambda pd, tmp: frame(pd).groupby("k").size(),
    "merge": lambda pd, tmp: pd.merge(*keyed(pd), on="k", how="left", suffixes=("_l", "_r")),
    "concat": lambda pd, tmp: pd.concat(
        [frame(pd)[["i", "f"]], frame(pd)[["i", "g"]]], ignore_index=True
    ),
    "drop_rename": lambda pd, tmp: frame(pd).drop(columns=["s", "t"]).rename(columns={"i": "I"}),
    "dedup_dropna": lambda pd, tmp: frame(pd)[["k", "b"]].drop_duplicates().dropna(),
    "set_reset_index": lambda pd, tmp: frame(pd).set_index("k").reset_index(),
    "frame_elementwise": lambda pd, tmp: frame(pd)[["f", "g"]].fillna(0).round(1).abs(),
    "frame_reduce": lambda pd, tmp: frame(pd)[["i", "f"]].mean(),
    "value_counts": lambda pd, tmp: frame(pd)["k"].value_counts(dropna=False),
    "map_replace": lambda pd, tmp: frame(pd)["k"].map({"a": 1, "b": 2}).replace(2, 20),
    "nlargest": lambda pd, tmp: frame(pd).nlargest(3, "i"),
    "ufunc": lambda pd, tmp: np.sqrt(frame(pd)["i"]),
    "read_csv": lambda pd, tmp: pd.read_csv(_csv(tmp), parse_dates=["t"])[["i", "t"]],
    "read_parquet": lambda pd, tmp: pd.read_parquet(_parquet(tmp), columns=["i", "s"]),
    "categorical": lambda pd, tmp: frame(pd)["k"].astype("category"),
    "string_dtype": lambda pd, tmp: frame(pd)["s"].astype(pd.StringDtype("python")),
}


def _raw(plan: Any) -> Any:
    result, _ = engine.execute(plan, "pandas")
    return result


@pytest.mark.parametrize("key", sorted(PLANS))
def test_json_round_trip(key, tmp_path):
    assert len(PLANS) >= 25
    obj = PLANS[key](litsdf, str(tmp_path))
    plan = obj._plan
    text = to_json(plan)
    doc = json.loads(text)
    assert doc["format"] == FORMAT and doc["version"] == VERSION
    plan2 = from_json(text, allow_io=key.startswith("read_"))  # readers need the opt-in
    assert plan2 == plan and hash(plan2) == hash(plan)
    assert to_json(plan2) == text  # stable: the same plan always writes the same text
    got = _raw(plan2)
    expected = _raw(plan)
    if isinstance(expected, (pandas.DataFrame, pandas.Series)):
        assert_same(as_frame(got), as_frame(expected))
    else:
        assert_same(got, expected)
    # and the original plan computes what pandas computes
    assert_same(obj.to_pandas(), PLANS[key](pandas, str(tmp_path)))


def test_json_round_trip_scalar_plan():
    s = litsdf.DataFrame({"a": [1.5, np.nan, 3.0]})["a"]
    plan = ScalarResult(s._rel, Reduce("sum", s._expr, (("skipna", False),)))
    plan2 = from_json(to_json(plan))
    assert plan2 == plan
    assert math.isnan(_raw(plan2))
    plan3 = ScalarResult(s._rel, Reduce("max", s._expr))
    assert _raw(from_json(to_json(plan3))) == 3.0


@pytest.mark.parametrize(
    "value",
    [
        1,
        1.0,
        True,
        None,
        "x",
        np.nan,
        float("inf"),
        -float("inf"),
        np.int32(7),
        np.float32(2.5),
        np.bool_(True),
        pandas.NA,
        pandas.NaT,
        pandas.Timestamp("2024-01-02 03:04:05"),
        pandas.Timestamp("2024-01-02", tz="UTC"),
        pandas.Timedelta("1D2h"),
        (1, "a"),
        pandas.api.extensions.no_default,
    ],
)
def test_literal_round_trip(value):
    e = BinaryOp("eq", Col("a"), Lit(value))
    e2 = from_json(to_json(e))
    assert e2 == e
    got = e2.right.value
    assert type(got) is type(value)


def test_shared_subplans_are_stored_once():
    df = litsdf.DataFrame({"a": [1, 2, 3]})
    base = df[df["a"] > 1]
    plan = litsdf.concat([base, base, base])._plan
    doc = json.loads(to_json(plan))
    assert sum(1 for n in doc["nodes"] if n["op"] == "Source") == 1
    assert sum(1 for n in doc["nodes"] if n["op"] == "Filter") == 1
    assert from_json(to_json(plan)) == plan


@pytest.mark.parametrize(
    "text, match",
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a litsdf plan"),
        (
            json.dumps({"format": "other", "version": 1, "nodes": [], "root": 0}),
            "not a litsdf plan",
        ),
        (
            json.dumps({"format": FORMAT, "version": 999, "nodes": [], "root": 0}),
            "version 999 is not supported",
        ),
        (
            json.dumps({"format": FORMAT, "version": "1", "nodes": [], "root": 0}),
            "version '1' is not supported",
        ),
        (
            json.dumps(
                {
                    "format": FORMAT,
                    "version": VERSION,
                    "nodes": [{"op": "NoSuchNode", "fields": {}}],
                    "root": 0,
                }
            ),
            "unknown plan node 'NoSuchNode'",
        ),
        (
            json.dumps(
                {
                    "format": FORMAT,
                    "version": VERSION,
                    "nodes": [{"op": "Col", "fields": {"nope": 1}}],
                    "root": 0,
                }
            ),
            "bad fields for Col",
        ),
        (
            json.dumps(
                {
                    "format": FORMAT,
                    "version": VERSION,
                    "nodes": [{"op": "Lit", "fields": {"value": {"$weird": 1}}}],
                    "root": 0,
                }
            ),
            "unknown tagged value",
        ),
        (json.dumps({"format": FORMAT, "version": VERSION, "nodes": [], "root": 0}), "0 nodes"),
        (json.dumps({"format": FORMAT, "version": VERSION}), "nodes"),
        (
            json.dumps(
                {
                    "format": FORMAT,
                    "version": VERSION,
                    "nodes": [{"op": "Alias", "fields": {"input": {"$node": 5}, "name": "x"}}],
                    "root": 0,
                }
            ),
            "node 5",
        ),
        (
            json.dumps(
                {
                    "format": FORMAT,
                    "version": VERSION,
                    "nodes": [{"op": "Alias", "fields": {"input": {"$node": 0}, "name": "x"}}],
                    "root": 0,
                }
            ),
            "cycle",
        ),
        (
            json.dumps(
                {"format": FORMAT, "version": VERSION, "nodes": [{"fields": {}}], "root": 0}
            ),
            "op",
        ),
        (
            json.dumps(
                {
                    "format": FORMAT,
                    "version": VERSION,
                    "nodes": [{"op": "Alias", "fields": {"input": 3, "name": "x"}}],
                    "root": 0,
                }
            ),
            "Alias",
        ),
    ],
)
def test_bad_plan_text(text, match):
    with pytest.raises(PlanFormatError, match=match):
        from_json(text)


def test_plan_format_error_is_value_error():
    assert issubclass(PlanFormatError, ValueError)


def test_unserializable_value_is_a_clear_type_error():
    e = BinaryOp("eq", Col("a"), Lit(object()))
    with pytest.raises(TypeError, match="cannot serialize a value of type object"):
        to_json(e)


def test_explain_json_is_the_plan():
    df = litsdf.DataFrame({"a": [1, 2, 3]})
    out = df[df["a"] > 1]
    assert from_json(out.explain(format="json")) == out._plan


# explain --------------------------------------------------------------------------------------

GOLDEN = """\
== logical plan ==
Project a=a, c=c
  Sort by=['c'] ascending=False kind='quicksort' na_position='last' ignore_index=False
    Filter (c > 1)
      WithColumns c=(a * b)
        Source DataFrame 3x2 [a, b]
== optimized plan ==
  (optimizer off: options.optimize=False)
== physical plan ==
  Finalize DataFrame columns=['a', 'c'] of ['a', 'c'], index=rows
    Select a, c
      -> [a: int64, c: float64]
      OrderBy c desc quicksort, nulls last (takes the row index)
        -> [a: int64, c: float64]
        Filter (c > 1) (takes the row index)
          -> [a: int64, c: float64]
          Compute c=(a * b)
            -> [a: int64, c: float64]
            Scan Source ['a' AS a, 'b' AS b]
              -> [a: int64, b: float64]
== backend ==
would run on: pandas (requested explicitly); options.backend='pandas'
== fallbacks ==
  none"""


def _pipeline() -> Any:
    df = litsdf.DataFrame({"a": [1, 2, 3], "b": [0.5, 1.5, 2.5]})
    df["c"] = df["a"] * df["b"]
    return df[df["c"] > 1].sort_values("c", ascending=False)[["a", "c"]]


def test_explain_golden_text():
    with litsdf.option_context(backend="pandas", optimize=False):
        out = _pipeline()
        assert out.explain() == GOLDEN
        assert _pipeline().explain() == GOLDEN  # same plan -> same text
        assert out.explain() == out.explain()


def test_explain_after_running():
    with litsdf.option_context(backend="pandas"):
        out = _pipeline()
        out.to_pandas()
        text = out.explain(stage="backend")
    assert text.startswith("== backend ==\nran on: pandas (requested explicitly)")


def test_explain_auto_backend():
    with litsdf.option_context(backend="auto"):
        text = _pipeline().explain(stage="backend")
    assert "== backend ==" in text and "options.backend='auto'" in text
    # a small in-memory input: the size rule prefers the row kernel (or says why not)
    assert "would run on: " in text and "rows <= rows_max_rows=" in text


def test_explain_stages():
    out = _pipeline()
    logical = out.explain(stage="logical")
    assert logical == GOLDEN.split("\n== optimized plan ==")[0]
    assert out.explain(stage="fallbacks") == "== fallbacks ==\n  none"
    assert out.explain(stage="backend").startswith("== backend ==")
    physical = out.explain(stage="physical")
    assert physical.startswith("== physical plan ==\n  Finalize DataFrame")
    assert "Scan Source" in physical and "Filter (c > 1) (takes the row index)" in physical
    with pytest.raises(ValueError, match="stage"):
        out.explain(stage="lowered")
    with pytest.raises(ValueError, match="format"):
        out.explain(format="yaml")


def test_explain_dict():
    with litsdf.option_context(backend="pandas"):
        d = _pipeline().explain(format="dict")
    assert set(d) == {"logical", "optimized", "physical", "backend", "fallbacks"}
    assert d["physical"]["nodes"][0] == "Finalize" and d["physical"]["nodes"][-1] == "Scan"
    ops = []
    node = d["logical"]
    while node:
        ops.append(node["op"])
        assert set(node) == {"op", "params", "inputs"}
        node = node["inputs"][0] if node["inputs"] else None
    assert ops == ["Project", "Sort", "Filter", "WithColumns", "Source"]
    assert d["logical"]["inputs"][0]["inputs"][0]["params"] == "(c > 1)"
    assert d["backend"]["backend"] == "pandas"
    assert d["backend"]["ran"] is False
    assert d["fallbacks"] == []
    json.dumps(d)  # JSON-able
    with litsdf.option_context(backend="pandas"):
        assert _pipeline().explain(stage="logical", format="dict") == d["logical"]


def test_explain_join_shows_both_inputs():
    left, right = keyed(litsdf)
    d = litsdf.merge(left, right, on="k").explain(format="dict")
    assert d["logical"]["op"] == "Join"
    assert [i["op"] for i in d["logical"]["inputs"]] == ["Source", "Source"]


def test_series_explain():
    s = litsdf.DataFrame({"a": [1, 2]})["a"] + 1
    text = s.explain(stage="logical")
    assert "(a + 1)" in text and "Source" in text


# backends and options -------------------------------------------------------------------------


def test_backends_lists_pandas_available():
    infos = litsdf.backends()
    by_name = {b.name: b for b in infos}
    assert "pandas" in by_name
    assert by_name["pandas"].available is True
    for b in infos:
        assert isinstance(b, litsdf.BackendInfo)
        assert b.available or b.reason  # an unavailable backend says why


def test_collect_on_backend():
    df = litsdf.DataFrame({"a": [3, 1, 2]})
    out = df.sort_values("a").collect(backend="pandas")
    assert isinstance(out, litsdf.DataFrame)
    assert_same(out.to_pandas(), pandas.DataFrame({"a": [3, 1, 2]}).sort_values("a"))
    assert out.explain(format="dict")["logical"]["op"] == "Source"
    s = df["a"].collect(backend="pandas")
    assert isinstance(s, litsdf.Series) and s.tolist() == [3, 1, 2]
    assert litsdf.options.backend == "auto"


def test_collect_records_backend_decision():
    with litsdf.option_context(backend="pandas"):
        df = litsdf.DataFrame({"a": [1, 2]})
        out = df[df["a"] > 1]
        out.to_pandas()
        assert out.explain(format="dict")["backend"]["ran"] is True


def test_options_defaults_and_repr():
    assert litsdf.options.backend == "auto"
    assert litsdf.options.fallback == "warn"
    assert litsdf.options.optimize is True
    text = repr(litsdf.options)
    assert text.startswith("Options(backend='auto', fallback='warn', optimize=True, ")
    # every backend setting, spelled <backend>_<setting>
    assert "rows_max_rows=1000, " in text and "numba_min_rows=10000, " in text
    with pytest.raises(ValueError, match="optimize"):
        litsdf.options.optimize = "yes"


def test_option_context_restores():
    with litsdf.option_context(backend="pandas", fallback="silent") as opts:
        assert opts is litsdf.options
        assert (litsdf.options.backend, litsdf.options.fallback) == ("pandas", "silent")
        with litsdf.option_context(fallback="raise"):
            assert litsdf.options.fallback == "raise"
        assert litsdf.options.fallback == "silent"
    assert (litsdf.options.backend, litsdf.options.fallback) == ("auto", "warn")


def test_option_context_restores_after_exception():
    with (
        pytest.raises(ZeroDivisionError),
        litsdf.option_context(backend="pandas", fallback="raise"),
    ):
        1 / 0
    assert (litsdf.options.backend, litsdf.options.fallback) == ("auto", "warn")


def test_option_set_directly_and_restored():
    litsdf.options.fallback = "silent"
    try:
        assert litsdf.options.fallback == "silent"
    finally:
        litsdf.options.fallback = "warn"
    assert litsdf.options.fallback == "warn"


def test_registry():
    reg = registry()
    assert "pandas" in reg
    assert registry() is reg  # discovered once
    names = list(reg)
    prios = [reg[n].priority for n in names]
    assert prios == sorted(prios)
    assert all(isinstance(b, Backend) and b.name == n for n, b in reg.items())
    assert get_backend("pandas") is reg["pandas"]
    with pytest.raises(ValueError, match=r"unknown backend 'nope'.*pandas"):
        get_backend("nope")
    assert [b.name for b in litsdf.backends()] == names


def test_backend_supports_is_derived_from_visitors():
    pandas_backend = get_backend("pandas")
    df = litsdf.DataFrame({"a": [1, 2]})
    plan = df[df["a"] > 1]._plan
    assert pandas_backend.supports(plan)
    for n in walk(plan):
        assert hasattr(pandas_backend, f"visit_{type(n).__name__}")

    class Partial(Backend):
        name = "partial"

        def visit_Scan(self, n: Any) -> Any:
            raise AssertionError

    verdict = Partial().supports(plan)
    assert not verdict and "no lowering for" in verdict.reason
    assert Partial().supports(Filter.__mro__ and df._plan)  # a bare Source is supported
    assert bool(Verdict(True)) and not Verdict(False, "x")


def test_select_and_execute():
    df = litsdf.DataFrame({"a": [1, 2, 3]})
    plan = Project(df._plan, (("b", BinaryOp("mul", Col("a"), Lit(10))),))
    backend, decision = engine.select(plan, "pandas")
    assert backend.name == "pandas" and decision.reason == "requested explicitly"
    result, decision = engine.execute(plan, "auto")
    assert result["b"].tolist() == [10, 20, 30]
    assert decision.seconds >= 0
    with pytest.raises(ValueError, match="unknown backend"):
        engine.execute(plan, "nope")


def test_interning_from_several_threads_builds_equal_expressions():
    import threading

    errors: list[BaseException] = []
    built: list[list[Any]] = [[] for _ in range(4)]

    def work(i: int) -> None:
        try:
            for k in range(2000):
                e = BinaryOp("add", Col(f"c{k % 50}"), Lit(k % 7))
                built[i].append(BinaryOp("mul", e, Lit(2.0)))
                if len(built[i]) > 100:
                    del built[i][:50]  # expressions die while others are being built
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    last = [b[-1] for b in built]
    assert all(e == last[0] for e in last)  # equal whether or not interning merged them
    assert last[0] is BinaryOp("mul", BinaryOp("add", Col("c49"), Lit(1999 % 7)), Lit(2.0))
