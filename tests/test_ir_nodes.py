"""Node declarations: declared children, lineage as data, the normalized Aggregate."""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pandas
import pytest

import litsdf
from litsdf_compiler import engine
from litsdf_compiler.backends import Backend
from litsdf_compiler.ir import expressions as ex
from litsdf_compiler.ir import relations as rel
from litsdf_compiler.ir.aggregate import aggregate
from litsdf_compiler.ir.base import NODE_TYPES, Node, children, inputs, node, replace_children, walk
from litsdf_compiler.ir.relations import Measure
from litsdf_compiler.ir.serde import PlanFormatError, UntrustedPlanError, from_json, to_json

from .differential.data import frame

# declared children --------------------------------------------------------------------------


def _names_node(tp: Any) -> bool:
    if isinstance(tp, type) and issubclass(tp, Node):
        return True
    return any(_names_node(a) for a in typing.get_args(tp))


def _element(tp: Any) -> type:
    """The node class an annotation's children are instances of."""
    while not (isinstance(tp, type) and issubclass(tp, Node)):
        tp = next(a for a in typing.get_args(tp) if _names_node(a))
    return tp


@pytest.mark.parametrize("name", sorted(NODE_TYPES))
def test_every_node_class_declares_exactly_its_node_fields(name: str) -> None:
    """The children are the fields whose annotation names a node class (but the explicit
    ``_non_child`` ones), in field order; inputs are the children that are relations."""
    cls = NODE_TYPES[name]
    hints = typing.get_type_hints(cls)
    fields = cls.__match_args__
    expected = [f for f in fields if _names_node(hints[f]) and f not in cls._non_child]
    assert list(cls._children) == expected
    assert [f for f, _ in cls._child_fields] == expected
    assert list(cls._inputs) == [
        f for f in expected if issubclass(_element(hints[f]), rel.Relation)
    ]
    assert set(cls._non_child) <= set(fields)


def test_source_lineage_is_declared_data() -> None:
    assert rel.Source._non_child == ("lineage",)
    assert rel.Source._children == ()


def _scan(value: Any, out: list[Node]) -> None:
    if isinstance(value, Node):
        out.append(value)
    elif isinstance(value, tuple):
        for v in value:
            _scan(v, out)


def _varied_plan() -> Node:
    df = frame(litsdf)
    other = litsdf.DataFrame({"k": ["a", "b"], "w": [1.5, 2.5]})
    x = df[(df["i"] > 1) & df["s"].str.contains("a")]
    x = x.assign(z=np.log1p(x["f"]).fillna(0).clip(0, 3), u=x["s"].str.cat([x["s"]], sep="-"))
    x = x.merge(other, on="k", how="left")
    x = litsdf.concat([x, x.head(2)])
    with litsdf.option_context(fallback="silent"):
        melted = x[["k", "i"]].melt(id_vars="k")  # a fallback: a Source with lineage
    agg = melted.groupby("k").agg(total=("value", "sum"))
    return agg.merge(x.groupby("k")["f"].mean().reset_index(), on="k")._plan


def test_declared_children_are_every_node_the_fields_hold() -> None:
    """On a real plan (filters, expressions, a merge, a concat, a fallback, groupbys), each
    node's children are exactly the nodes a scan of all its fields finds (the lineage aside)."""
    plan = _varied_plan()
    kinds = set()
    for n in walk(plan):
        kinds.add(type(n).__name__)
        found: list[Node] = []
        for f in n.__match_args__:
            if f not in n._non_child:
                _scan(getattr(n, f), found)
        assert children(n) == found
        assert all(a is b for a, b in zip(children(n), found, strict=True))
        assert inputs(n) == [c for c in found if isinstance(c, rel.Relation)]
    assert {"Join", "Concat", "WithColumns", "Aggregate", "StrCat", "Source"} <= kinds


def test_an_annotation_that_hides_nodes_is_refused() -> None:
    with pytest.raises(TypeError, match=r"Bad\.exprs: the annotation .* mentions a node class"):

        @node
        class Bad(ex.Expr):
            exprs: dict[str, ex.Expr]

    with pytest.raises(TypeError, match=r"_non_child names no field: \['nope'\]"):

        @node
        class Bad2(ex.Expr):
            _non_child = ("nope",)
            input: ex.Expr

    assert "Bad" not in NODE_TYPES and "Bad2" not in NODE_TYPES


def test_replace_children_keeps_identity_when_nothing_changes() -> None:
    plan = _varied_plan()
    for n in walk(plan):
        assert replace_children(n, lambda c: c) is n
    p = frame(litsdf).assign(z=lambda d: d["i"] + 1)._plan
    assert isinstance(p, rel.WithColumns)
    swapped = replace_children(p, lambda c: ex.Col("f") if c == ex.Col("i") else c)
    assert swapped is p  # (Col("i") sits inside the BinaryOp, not directly in the pairs)
    out = replace_children(p, lambda c: ex.Lit(0) if isinstance(c, ex.BinaryOp) else c)
    assert out.expressions == (("z", ex.Lit(0)),) and out.input is p.input


# lineage is data ----------------------------------------------------------------------------


def _fallback_result() -> tuple[Any, rel.Source]:
    with litsdf.option_context(fallback="silent"):
        melted = frame(litsdf)[["i", "k"]].melt(id_vars="k")
    src = melted._plan
    assert isinstance(src, rel.Source) and src.lineage
    return melted, src


def test_lineage_is_not_walked_rewritten_or_run() -> None:
    melted, src = _fallback_result()
    history = set(map(id, walk(src.lineage[0])))
    assert children(src) == [] and inputs(src) == []
    assert list(walk(src)) == [src]
    out = melted[melted["value"] > 2]._plan
    assert not history & set(map(id, walk(out)))
    assert replace_children(src, lambda c: pytest.fail("lineage visited")) is src

    class SourceOnly(Backend):
        """Runs nothing but scans: the lineage (a Project over data) is never asked about."""

        name = "source-only"
        visit_Scan = Backend.scan_table

    assert SourceOnly().supports(src)
    assert not SourceOnly().supports(src.lineage[0])


def test_explain_still_shows_the_lineage() -> None:
    melted, _ = _fallback_result()
    text = melted[melted["value"] > 2].explain(stage="logical")
    assert "Source fallback DataFrame.melt" in text
    assert "<- Project" in text  # (the history, below the Source)
    assert melted.explain(format="dict")["fallbacks"] == ["DataFrame.melt"]


def test_lineage_round_trips_through_json() -> None:
    _, src = _fallback_result()
    back = from_json(to_json(src))
    assert back == src
    assert isinstance(back, rel.Source) and back.lineage == src.lineage


def test_a_crafted_lineage_is_checked_like_any_node() -> None:
    _, src = _fallback_result()
    doc = json.loads(to_json(src))
    i = next(k for k, n in enumerate(doc["nodes"]) if n["op"] == "Project")
    doc["nodes"][i] = {
        "op": "FrameReduce",
        "fields": {"input": doc["nodes"][i]["fields"]["input"], "func": "eval"},
    }
    with pytest.raises(UntrustedPlanError, match=rf"node {i} \(FrameReduce\), field 'func'"):
        from_json(json.dumps(doc))
    root = doc["root"]
    doc["nodes"][root]["fields"]["lineage"] = {"$tuple": [{"$tuple": ["a"]}]}
    with pytest.raises(UntrustedPlanError, match=r"'lineage'.*not a tuple of Relation nodes"):
        from_json(json.dumps(doc))


# the normalized Aggregate -------------------------------------------------------------------


def _keyed(pd: Any) -> Any:
    return pd.DataFrame(
        {
            "k": ["b", "a", "b", "c", "a"],
            "x": [1, 2, 3, 4, 5],
            "y": [0.5, 1.5, np.nan, 3.5, 4.5],
            "s": ["p", "q", "r", "s", "t"],
        }
    )


CALLS: dict[str, tuple[Callable[[Any], Any], list[Measure], str]] = {
    "method": (lambda d: d.groupby("k").sum(), [Measure(c, c, "sum") for c in "xys"], "frame"),
    "method_kwargs": (
        lambda d: d.groupby("k").sum(numeric_only=True, min_count=1),
        [Measure(c, c, "sum", (("numeric_only", True), ("min_count", 1))) for c in "xy"],
        "frame",
    ),
    "method_series": (
        lambda d: d.groupby("k")["x"].max(),
        [Measure("x", "x", "max")],
        "series",
    ),
    "size": (lambda d: d.groupby("k").size(), [Measure(None, None, "size")], "series"),
    "size_series": (lambda d: d.groupby("k")["x"].size(), [Measure("x", None, "size")], "series"),
    "size_frame": (
        lambda d: d.groupby("k", as_index=False).size(),
        [Measure("size", None, "size")],
        "frame",
    ),
    "agg_str": (
        lambda d: d.groupby(["k"])[["x", "y"]].agg("mean"),
        [Measure("x", "x", "mean"), Measure("y", "y", "mean")],
        "frame",
    ),
    "agg_list": (
        lambda d: d.groupby("k").agg(["min", "max"]),
        [Measure((c, f), c, f) for c in "xys" for f in ("min", "max")],
        "multi",
    ),
    "agg_list_series": (
        lambda d: d.groupby("k")["y"].agg(["sum", "count"]),
        [Measure("sum", "y", "sum"), Measure("count", "y", "count")],
        "frame",
    ),
    "agg_dict": (
        lambda d: d.groupby("k").agg({"x": "sum", "s": "first"}),
        [Measure("x", "x", "sum"), Measure("s", "s", "first")],
        "frame",
    ),
    "agg_dict_lists": (
        lambda d: d.groupby("k", sort=False).agg({"x": "sum", "y": ["min", "max"]}),
        [Measure(("x", "sum"), "x", "sum"), Measure(("y", "min"), "y", "min")]
        + [Measure(("y", "max"), "y", "max")],
        "multi",
    ),
    "agg_named": (
        lambda d: d.groupby("k", as_index=False).agg(total=("x", "sum"), n=("y", "count")),
        [Measure("total", "x", "sum"), Measure("n", "y", "count")],
        "frame",
    ),
    "agg_named_series": (
        lambda d: d.groupby("k")["y"].agg(lo="min", hi="max"),
        [Measure("lo", "y", "min"), Measure("hi", "y", "max")],
        "frame",
    ),
}


def _aggregate_of(result: Any) -> rel.Aggregate:
    return next(
        n
        for n in walk(result._plan if hasattr(result, "_plan") else result._rel)
        if isinstance(n, rel.Aggregate)
    )


@pytest.mark.parametrize("form", sorted(CALLS))
def test_each_pandas_call_form_normalizes_to_its_measures(form: str) -> None:
    build, measures, shape = CALLS[form]
    n = _aggregate_of(build(_keyed(litsdf)))
    assert list(n.measures) == measures
    assert n.shape == shape
    # the measures and the shape describe pandas' own result
    expected = build(_keyed(pandas))
    if shape == "series":
        assert isinstance(expected, pandas.Series)
        assert expected.name == measures[0].output
    else:
        assert isinstance(expected, pandas.DataFrame)
        assert isinstance(expected.columns, pandas.MultiIndex) == (shape == "multi")
        outputs = list(expected.columns[len(expected.columns) - len(measures) :])
        assert outputs == [m.output for m in measures]
    # and the reference kernel replays exactly pandas' call
    got, _ = engine.execute(n, "pandas", optimize=False)
    pandas.testing.assert_frame_equal(
        pandas.DataFrame(got) if shape == "series" else got,
        pandas.DataFrame(expected) if shape == "series" else expected,
    )


def test_the_forms_keep_what_the_pandas_call_needs() -> None:
    d = _keyed(litsdf)
    assert _aggregate_of(d.groupby("k").sum(min_count=2)).functions == ("sum",)
    assert _aggregate_of(d.groupby("k").sum(min_count=2)).arguments == (("min_count", 2),)
    n = _aggregate_of(d.groupby(["k"])[["x"]].agg(["sum"]))
    assert (n.form, n.functions, n.selection, n.selected) == ("agg_list", ("sum",), "frame", ("x",))
    assert (n.key_list, n.as_index, n.sort, n.dropna) == (True, True, True, True)
    n = _aggregate_of(d.groupby("k", dropna=False, sort=False)["x"].agg("sum"))
    assert (n.form, n.selection, n.selected, n.key_list) == ("agg", "series", ("x",), False)
    assert (n.sort, n.dropna) == (False, False)
    # a call over every column keeps its function even when no column is left to aggregate
    only_keys = litsdf.DataFrame({"k": [1, 1, 2]})
    n = _aggregate_of(only_keys.groupby("k").sum())
    assert n.measures == () and n.functions == ("sum",)


def test_aggregate_needs_exactly_one_call() -> None:
    d = _keyed(litsdf)
    with pytest.raises(TypeError, match="exactly one of method=, func= and named="):
        aggregate(d._plan, d._meta, ("k",), method="sum", func="sum")


@pytest.mark.parametrize("form", sorted(CALLS))
def test_normalized_aggregates_round_trip_through_json(form: str) -> None:
    n = _aggregate_of(CALLS[form][0](_keyed(litsdf)))
    back = from_json(to_json(n))
    assert back == n
    assert all(type(m) is Measure for m in back.measures)  # type: ignore[attr-defined]


def test_a_version_1_plan_is_a_clear_error() -> None:
    doc = json.loads(to_json(_aggregate_of(_keyed(litsdf).groupby("k").sum())))
    doc["version"] = 1
    with pytest.raises(PlanFormatError, match=r"version 1 is not supported .*groupby .*again"):
        from_json(json.dumps(doc))


def test_measure_labels_may_be_any_hashable() -> None:
    d = litsdf.DataFrame({"k": [1, 1, 2], 3: [1.0, 2.0, 3.0], ("a", "b"): [1, 2, 3]})
    n = _aggregate_of(d.groupby("k").max())
    labels: list[Hashable] = [3, ("a", "b")]
    assert [m.input for m in n.measures] == labels
    assert from_json(to_json(n)) == n
