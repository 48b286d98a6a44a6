"""Rule: predicate_pushdown (golden before/after plans, cases that must not fire, and
differential checks on real Parquet files)."""

# ruff: noqa: E501  (golden plan texts print whole nodes on one line)

from __future__ import annotations

import numpy as np
import pandas
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import litsdf as pd
from litsdf.frame import DataFrame
from litsdf_compiler.engine import execute
from litsdf_compiler.ir import expressions as ex
from litsdf_compiler.ir.relations import Filter, Join, ReadParquet, ScalarResult, WithColumns
from litsdf_compiler.optimizer.predicate_pushdown import predicate_pushdown

from .helpers import check_rule

JOIN = "left_index=False right_index=False suffixes=['_x', '_y'] sort=False indicator=False"


def _frames():
    a = pd.DataFrame(
        {"k": [1, 2, 1, 3, 2], "x": [1.0, 5.0, 3.0, np.nan, 4.0], "y": [1, 2, 3, 4, 5]}
    )
    b = pd.DataFrame({"k": [1, 2, 2, 4], "y": [7.0, 8.0, 9.0, np.nan], "z": ["p", "q", None, "s"]})
    return a, b


def _total(s, func="sum"):
    """``s.<func>()`` as a plan (a reduction: the filtered relation's index is not observed)."""
    return ScalarResult(s._rel, ex.Reduce(func, s._expr))


def _run(plan):
    return execute(plan, "pandas", optimize=False)[0]


def _unchanged(plan, text):
    """The rule leaves ``plan`` (printed as ``text``) alone."""
    check_rule(predicate_pushdown, plan, text, text)


# column assignments ---------------------------------------------------------------------------


def test_filter_moves_below_an_assignment_it_does_not_read():
    a, _ = _frames()
    a["w"] = a["y"] * 2
    check_rule(
        predicate_pushdown,
        a[a["x"] > 1]._plan,
        """
        Filter (x > 1)
          WithColumns w=(y * 2)
            Source DataFrame 5x3 [k, x, y]
        """,
        """
        WithColumns w=(y * 2)
          Filter (x > 1)
            Source DataFrame 5x3 [k, x, y]
        """,
    )


def test_filter_reading_the_assigned_column_stays():
    a, _ = _frames()
    a["w"] = a["y"] * 2
    _unchanged(
        a[a["w"] > 2]._plan,
        """
        Filter (w > 2)
          WithColumns w=(y * 2)
            Source DataFrame 5x3 [k, x, y]
        """,
    )


def test_assignment_whose_dtype_depends_on_the_rows_blocks_the_filter():
    """``map`` gives float64 while some row is unmapped: filtering first could make it int64."""
    a, _ = _frames()
    a["w"] = a["y"].map({1: 10, 2: 20, 3: 30, 5: 50})
    plan = a[a["x"] > 1]._plan
    _unchanged(
        plan,
        """
        Filter (x > 1)
          WithColumns w=mapdict(y, mapping=[[1, 10], [2, 20], [3, 30], [5, 50]], na_action=None)
            Source DataFrame 5x3 [k, x, y]
        """,
    )
    assert isinstance(plan, Filter) and isinstance(plan.input, WithColumns)
    naive = WithColumns(Filter(plan.input.input, plan.condition), plan.input.expressions)
    assert _run(plan)["w"].dtype == "float64"
    assert _run(naive)["w"].dtype == "int64"  # why the rule must not do this


# joins ----------------------------------------------------------------------------------------


def test_inner_join_conjuncts_go_to_their_sides_and_keys_to_both():
    a, b = _frames()
    m = pd.merge(a, b, on="k")
    f = m[(m["x"] > 1) & (m["y_y"] < 9) & (m["k"] > 1)]
    check_rule(
        predicate_pushdown,
        _total(f["x"]),
        f"""
        ScalarResult expr=reduce(func='sum', x, kwargs=[])
          Filter (((x > 1) & (y_y < 9)) & (k > 1))
            Join how='inner' on=['k'] {JOIN}
              Source DataFrame 5x3 [k, x, y]
              Source DataFrame 4x3 [k, y, z]
        """,
        f"""
        ScalarResult expr=reduce(func='sum', x, kwargs=[])
          Join how='inner' on=['k'] {JOIN}
            Filter ((x > 1) & (k > 1))
              Source DataFrame 5x3 [k, x, y]
            Filter ((y < 9) & (k > 1))
              Source DataFrame 4x3 [k, y, z]
        """,
    )


def test_join_whose_filtered_index_is_observed_is_left_alone():
    """The merge numbers its rows: filtering first would give index [0, 1] instead of [1, 3]."""
    a, b = _frames()
    m = pd.merge(a, b, on="k")
    plan = m[m["x"] > 1]._plan
    _unchanged(
        plan,
        f"""
        Filter (x > 1)
          Join how='inner' on=['k'] {JOIN}
            Source DataFrame 5x3 [k, x, y]
            Source DataFrame 4x3 [k, y, z]
        """,
    )
    assert isinstance(plan, Filter) and isinstance(plan.input, Join)
    j = plan.input
    naive = Join(Filter(j.left, plan.condition), j.right, on=j.on)
    assert list(_run(plan).index) != list(_run(naive).index)  # why the rule must not do this


def test_suffixed_labels_and_left_on_right_on_keys():
    """``x_y`` is the right ``x``, ``k_x`` the left ``k``; ``key`` is a right column."""
    a, _ = _frames()
    c = pd.DataFrame({"key": [1, 2, 3], "x": [0.5, 2.5, 9.0], "k": [7, 8, 9]})
    m = pd.merge(a, c, left_on="k", right_on="key")
    f = m[(m["x_y"] > 1) & (m["k_x"] < 3) & (m["key"] > 1)]
    check_rule(
        predicate_pushdown,
        f.reset_index(drop=True)._plan,
        f"""
        ResetIndex drop=True
          Filter (((x_y > 1) & (k_x < 3)) & (key > 1))
            Join how='inner' left_on=['k'] right_on=['key'] {JOIN}
              Source DataFrame 5x3 [k, x, y]
              Source DataFrame 3x3 [key, x, k]
        """,
        f"""
        ResetIndex drop=True
          Join how='inner' left_on=['k'] right_on=['key'] {JOIN}
            Filter (k < 3)
              Source DataFrame 5x3 [k, x, y]
            Filter ((x > 1) & (key > 1))
              Source DataFrame 3x3 [key, x, k]
        """,
    )


def test_left_join_filters_only_the_left_side():
    """``z`` comes from the side a left join fills with missing values: it stays above."""
    a, b = _frames()
    m = pd.merge(a, b, on="k", how="left")
    f = m[(m["x"] > 1) & (m["z"] != "p")]
    check_rule(
        predicate_pushdown,
        f.groupby("k").sum()._plan,
        f"""
        Aggregate keys=['k'] measures=['x': sum('x'), 'y_x': sum('y_x'), 'y_y': sum('y_y'), 'z': sum('z')] form='method' functions=['sum'] selection='all' shape='frame' key_list=False as_index=True sort=True dropna=True
          Filter ((x > 1) & (z != 'p'))
            Join how='left' on=['k'] {JOIN}
              Source DataFrame 5x3 [k, x, y]
              Source DataFrame 4x3 [k, y, z]
        """,
        f"""
        Aggregate keys=['k'] measures=['x': sum('x'), 'y_x': sum('y_x'), 'y_y': sum('y_y'), 'z': sum('z')] form='method' functions=['sum'] selection='all' shape='frame' key_list=False as_index=True sort=True dropna=True
          Filter (z != 'p')
            Join how='left' on=['k'] {JOIN}
              Filter (x > 1)
                Source DataFrame 5x3 [k, x, y]
              Source DataFrame 4x3 [k, y, z]
        """,
    )


def test_left_join_with_integer_right_columns_is_left_alone():
    """An unmatched row turns the right ``int64`` column into ``float64``; filtering the left
    side first can remove every unmatched row and keep ``int64``."""
    a, _ = _frames()
    b = pd.DataFrame({"k": [1, 2], "n": [10, 20]})
    m = pd.merge(a, b, on="k", how="left")
    f = m[m["x"] > 1]
    plan = _total(f["n"], "max")
    _unchanged(
        plan,
        f"""
        ScalarResult expr=reduce(func='max', n, kwargs=[])
          Filter (x > 1)
            Join how='left' on=['k'] {JOIN}
              Source DataFrame 5x3 [k, x, y]
              Source DataFrame 2x2 [k, n]
        """,
    )
    j = f._plan.input
    naive = ScalarResult(
        Join(Filter(j.left, f._plan.condition), j.right, "left", on=j.on), plan.expr
    )
    assert type(_run(plan)) is not type(_run(naive))  # np.float64 vs np.int64


def test_right_join_filters_only_the_right_side():
    a = pd.DataFrame({"k": [1, 2, 1, 3], "x": [1.0, 5.0, 3.0, 4.0]})
    b = pd.DataFrame({"k": [1, 2, 2, 5], "z": ["p", "q", None, "s"]})
    m = pd.merge(a, b, on="k", how="right")
    f = m[(m["x"] > 1) & (m["z"] != "p")]
    check_rule(
        predicate_pushdown,
        f.reset_index(drop=True)._plan,
        f"""
        ResetIndex drop=True
          Filter ((x > 1) & (z != 'p'))
            Join how='right' on=['k'] {JOIN}
              Source DataFrame 4x2 [k, x]
              Source DataFrame 4x2 [k, z]
        """,
        f"""
        ResetIndex drop=True
          Filter (x > 1)
            Join how='right' on=['k'] {JOIN}
              Source DataFrame 4x2 [k, x]
              Filter (z != 'p')
                Source DataFrame 4x2 [k, z]
        """,
    )


def test_outer_join_has_no_side_to_filter():
    """Both sides of an outer join can be filled with missing values."""
    a, b = _frames()
    m = pd.merge(a, b, on="k", how="outer")
    _unchanged(
        m[m["x"] > 1].reset_index(drop=True)._plan,
        f"""
        ResetIndex drop=True
          Filter (x > 1)
            Join how='outer' on=['k'] {JOIN}
              Source DataFrame 5x3 [k, x, y]
              Source DataFrame 4x3 [k, y, z]
        """,
    )


def test_validated_join_is_left_alone():
    """Fewer rows could pass ``validate="one_to_one"`` where all rows fail it."""
    a, b = _frames()
    m = pd.merge(a, b, on="k", validate="many_to_many")
    _unchanged(
        m[m["x"] > 1].reset_index(drop=True)._plan,
        f"""
        ResetIndex drop=True
          Filter (x > 1)
            Join how='inner' on=['k'] {JOIN.replace("indicator=False", "indicator=False validate='many_to_many'")}
              Source DataFrame 5x3 [k, x, y]
              Source DataFrame 4x3 [k, y, z]
        """,
    )


def test_filter_crosses_a_projection_on_its_way_into_a_join():
    a, b = _frames()
    p = pd.merge(a, b, on="k")[["k", "x", "z"]]
    check_rule(
        predicate_pushdown,
        _total(p[p["x"] > 1]["x"]),
        f"""
        ScalarResult expr=reduce(func='sum', x, kwargs=[])
          Filter (x > 1)
            Project k=k, x=x, z=z
              Join how='inner' on=['k'] {JOIN}
                Source DataFrame 5x3 [k, x, y]
                Source DataFrame 4x3 [k, y, z]
        """,
        f"""
        ScalarResult expr=reduce(func='sum', x, kwargs=[])
          Project k=k, x=x, z=z
            Join how='inner' on=['k'] {JOIN}
              Filter (x > 1)
                Source DataFrame 5x3 [k, x, y]
              Source DataFrame 4x3 [k, y, z]
        """,
    )


def test_filter_over_a_projection_that_leads_nowhere_stays():
    """Moving only across a projection gains nothing and would fight projection pushdown."""
    a, _ = _frames()
    p = a[["k", "x"]]
    _unchanged(
        p[p["x"] > 1]._plan,
        """
        Filter (x > 1)
          Project k=k, x=x
            Source DataFrame 5x3 [k, x, y]
        """,
    )


# sorts ----------------------------------------------------------------------------------------


def test_filter_moves_below_a_stable_sort():
    a, _ = _frames()
    s = a.sort_values("y", kind="stable")
    check_rule(
        predicate_pushdown,
        s[s["x"] > 1]._plan,
        """
        Filter (x > 1)
          Sort by=['y'] ascending=True kind='stable' na_position='last' ignore_index=False
            Source DataFrame 5x3 [k, x, y]
        """,
        """
        Sort by=['y'] ascending=True kind='stable' na_position='last' ignore_index=False
          Filter (x > 1)
            Source DataFrame 5x3 [k, x, y]
        """,
    )


def test_filter_moves_below_a_multi_key_sort():
    """Several keys are sorted with a stable lexsort whatever ``kind`` says."""
    a, _ = _frames()
    s = a.sort_values(["k", "y"])
    check_rule(
        predicate_pushdown,
        s[s["x"] > 1]._plan,
        """
        Filter (x > 1)
          Sort by=['k', 'y'] ascending=True kind='quicksort' na_position='last' ignore_index=False
            Source DataFrame 5x3 [k, x, y]
        """,
        """
        Sort by=['k', 'y'] ascending=True kind='quicksort' na_position='last' ignore_index=False
          Filter (x > 1)
            Source DataFrame 5x3 [k, x, y]
        """,
    )


def test_unstable_sort_is_not_crossed():
    """``kind="quicksort"`` on one key may order ties differently once rows are removed."""
    a, _ = _frames()
    s = a.sort_values("y")
    _unchanged(
        s[s["x"] > 1]._plan,
        """
        Filter (x > 1)
          Sort by=['y'] ascending=True kind='quicksort' na_position='last' ignore_index=False
            Source DataFrame 5x3 [k, x, y]
        """,
    )


def test_sort_with_ignore_index_is_crossed_only_when_the_index_is_not_observed():
    a, _ = _frames()
    s = a.sort_values("y", kind="stable", ignore_index=True)
    sort = "Sort by=['y'] ascending=True kind='stable' na_position='last' ignore_index=True"
    _unchanged(
        s[s["x"] > 1]._plan,
        f"""
        Filter (x > 1)
          {sort}
            Source DataFrame 5x3 [k, x, y]
        """,
    )
    check_rule(
        predicate_pushdown,
        s[s["x"] > 1].reset_index(drop=True)._plan,
        f"""
        ResetIndex drop=True
          Filter (x > 1)
            {sort}
              Source DataFrame 5x3 [k, x, y]
        """,
        f"""
        ResetIndex drop=True
          {sort}
            Filter (x > 1)
              Source DataFrame 5x3 [k, x, y]
        """,
    )


# parquet --------------------------------------------------------------------------------------


def _write_parquet(path, n=40):
    """Several row groups, NaN floats and missing strings."""
    rng = np.random.default_rng(0)
    f = rng.normal(size=n).round(2)
    f[::7] = np.nan
    s = np.array(["a", "b", "c", None], dtype=object)[rng.integers(0, 4, n)]
    frame = pandas.DataFrame({"i": np.arange(n, dtype="int64") % 9, "f": f, "s": s})
    frame.to_parquet(path, row_group_size=8)
    assert pq.ParquetFile(path).metadata.num_row_groups == 5
    return frame


def _scan(path):
    return DataFrame._from_plan(ReadParquet(path))


def test_parquet_scan_gets_pyarrow_filters(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write_parquet("t.parquet")
    df = _scan("t.parquet")
    f = df[(df["f"] > 0.1) & (df["s"] == "b") & (df["i"] != 3)]
    check_rule(
        predicate_pushdown,
        f.reset_index(drop=True)._plan,
        """
        ResetIndex drop=True
          Filter (((f > 0.1) & (s == 'b')) & (i != 3))
            ReadParquet path='t.parquet'
        """,
        """
        ResetIndex drop=True
          Filter (((f > 0.1) & (s == 'b')) & (i != 3))
            ReadParquet path='t.parquet' options=[['filters', [['f', '>', 0.1], ['s', '==', 'b']]]]
        """,
    )


@pytest.mark.parametrize(
    "cond",
    [
        lambda d: d["f"] > 0.1,
        lambda d: d["f"] <= -0.5,
        lambda d: (d["f"] < 1) & (d["i"] >= 4),
        lambda d: (d["s"] == "a") | (d["f"] > 1),
        lambda d: (d["s"] > "a") & ~(d["f"] > 0),
        lambda d: (d["i"] < 5) & (d["s"] != "c"),
        lambda d: d["f"] == 0.25,
    ],
)
def test_parquet_filters_keep_pandas_semantics(tmp_path, monkeypatch, cond):
    """NaN floats and missing strings fail a comparison in pandas and in pyarrow alike; the
    filter stays above the scan, so the rows are pandas' own."""
    monkeypatch.chdir(tmp_path)
    frame = _write_parquet("t.parquet")
    df = _scan("t.parquet")
    plan = df[cond(df)].reset_index(drop=True)._plan
    out = predicate_pushdown(plan)
    expected = frame[cond(frame)].reset_index(drop=True)
    pandas.testing.assert_frame_equal(_run(out), expected)
    pandas.testing.assert_frame_equal(execute(plan, "pandas")[0], expected)


def test_parquet_scan_with_observed_index_is_left_alone(tmp_path, monkeypatch):
    """``filters=`` numbers the rows read from 0: the filtered frame's index would change."""
    monkeypatch.chdir(tmp_path)
    _write_parquet("t.parquet")
    df = _scan("t.parquet")
    _unchanged(
        df[df["f"] > 0.1]._plan,
        """
        Filter (f > 0.1)
          ReadParquet path='t.parquet'
        """,
    )


def test_parquet_integer_column_with_nulls_is_left_alone(tmp_path, monkeypatch):
    """pandas reads an int column holding a null as float64; without the nulls it is int64."""
    monkeypatch.chdir(tmp_path)
    pq.write_table(
        pa.table({"n": pa.array([1, None, 3, 4], pa.int64()), "f": [0.5, 1.5, 2.5, 3.5]}),
        "t.parquet",
    )
    df = _scan("t.parquet")
    plan = df[df["f"] > 2].reset_index(drop=True)._plan
    _unchanged(
        plan,
        """
        ResetIndex drop=True
          Filter (f > 2)
            ReadParquet path='t.parquet'
        """,
    )
    naive = pandas.read_parquet("t.parquet", filters=[("f", ">", 2)])
    assert _run(plan)["n"].dtype == "float64" and naive["n"].dtype == "int64"


def test_parquet_with_a_stored_index(tmp_path, monkeypatch):
    """A pandas index stored in the file: the filtered read's index is not the kept rows'
    one, which is fine exactly where it is not observed."""
    monkeypatch.chdir(tmp_path)
    frame = _write_parquet("raw.parquet").set_index("i")
    frame.to_parquet("t.parquet")
    df = _scan("t.parquet")
    f = df[df["f"] > 0]
    assert predicate_pushdown(f._plan) is f._plan
    total = _total(f["f"])
    out = check_rule(
        predicate_pushdown,
        total,
        """
        ScalarResult expr=reduce(func='sum', f, kwargs=[])
          Filter (f > 0)
            ReadParquet path='t.parquet'
        """,
        """
        ScalarResult expr=reduce(func='sum', f, kwargs=[])
          Filter (f > 0)
            ReadParquet path='t.parquet' options=[['filters', [['f', '>', 0]]]]
        """,
    )
    assert _run(out) == frame["f"][frame["f"] > 0].sum()


# the optimizer as a whole ---------------------------------------------------------------------


def test_pipelines_match_pandas(compare, tmp_path):
    path = str(tmp_path / "t.parquet")
    _write_parquet(path)

    def join_then_aggregate(pd):
        a = pd.DataFrame({"k": [1, 2, 1, 3, 2, 2], "x": [1.0, 5.0, 3.0, np.nan, 4.0, 7.0]})
        b = pd.DataFrame({"k": [1, 2, 2, 4], "y": [7.0, 8.0, 9.0, np.nan], "z": list("pqrs")})
        m = pd.merge(a, b, on="k")
        m["w"] = m["x"] * m["y"]
        return m[(m["x"] > 1) & (m["z"] != "q")].groupby("k", as_index=False)["w"].sum()

    def scan_then_reset(pd):
        df = pd.read_parquet(path)
        df["g"] = df["f"] * 2
        return df[(df["f"] > 0) & (df["s"] == "a")].reset_index(drop=True)

    def scan_then_reduce(pd):
        df = pd.read_parquet(path, columns=["f", "i"])
        return df[df["i"] >= 4]["f"].sum()

    compare(join_then_aggregate)
    compare(scan_then_reset)
    compare(scan_then_reduce)
