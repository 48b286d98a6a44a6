"""Index-observability analysis (``optimizer/_index.py``): golden annotated plans.

``+`` marks a relation whose index some ancestor (or the user, at the root) may observe, ``-``
one whose index may be renumbered without changing the result.
"""

# ruff: noqa: E501  (golden plan texts print whole nodes on one line)

from __future__ import annotations

import textwrap

import litsdf as pd
from litsdf_compiler.ir import expressions as ex
from litsdf_compiler.ir.aggregate import aggregate
from litsdf_compiler.ir.relations import ScalarResult
from litsdf_compiler.optimizer._index import index_analysis, render_index_analysis


def _frames():
    a = pd.DataFrame({"k": [1, 2, 1, 3], "x": [1.0, 5.0, 3.0, 4.0]})
    b = pd.DataFrame({"k": [1, 2, 2], "y": [7, 8, 9]})
    return a, b


def _filtered_join(a=None, b=None):
    if a is None or b is None:
        a, b = _frames()
    m = pd.merge(a, b, on="k")
    return m[m["x"] > 1]


def check(plan, expected: str) -> None:
    assert render_index_analysis(plan) == textwrap.dedent(expected).strip()


def test_root_is_observed_and_merge_hides_its_inputs():
    check(
        _filtered_join()._plan,
        """
        + Filter (x > 1)
        +   Join how='inner' on=['k'] left_index=False right_index=False suffixes=['_x', '_y'] sort=False indicator=False
        -     Source DataFrame 4x2 [k, x]
        -     Source DataFrame 3x2 [k, y]
        """,
    )


def test_groupby_on_columns_does_not_observe():
    check(
        _filtered_join().groupby("k").sum()._plan,
        """
        + Aggregate keys=['k'] measures=['x': sum('x'), 'y': sum('y')] form='method' functions=['sum'] selection='all' shape='frame' key_list=False as_index=True sort=True dropna=True
        -   Filter (x > 1)
        -     Join how='inner' on=['k'] left_index=False right_index=False suffixes=['_x', '_y'] sort=False indicator=False
        -       Source DataFrame 4x2 [k, x]
        -       Source DataFrame 3x2 [k, y]
        """,
    )


def test_groupby_on_an_index_level_observes():
    a, _ = _frames()
    df = a.set_index("k", append=True)
    rows = df[df["x"] > 1]
    plan = aggregate(rows._plan, rows._meta, ("k",), method="sum", key_list=False)
    check(
        plan,
        """
        + Aggregate keys=['k'] measures=['x': sum('x')] form='method' functions=['sum'] selection='all' shape='frame' key_list=False as_index=True sort=True dropna=True
        +   Filter (x > 1)
        +     SetIndex keys=['k'] drop=True append=True
        +       Source DataFrame 4x2 [k, x]
        """,
    )


def test_reset_index_drop_hides_but_reset_index_keeps():
    f = _filtered_join()
    check(
        f.reset_index(drop=True)._plan,
        """
        + ResetIndex drop=True
        -   Filter (x > 1)
        -     Join how='inner' on=['k'] left_index=False right_index=False suffixes=['_x', '_y'] sort=False indicator=False
        -       Source DataFrame 4x2 [k, x]
        -       Source DataFrame 3x2 [k, y]
        """,
    )
    check(
        f.reset_index()._plan,
        """
        + ResetIndex drop=False
        +   Filter (x > 1)
        +     Join how='inner' on=['k'] left_index=False right_index=False suffixes=['_x', '_y'] sort=False indicator=False
        -       Source DataFrame 4x2 [k, x]
        -       Source DataFrame 3x2 [k, y]
        """,
    )


def test_scalar_reduction_hides_but_idxmax_observes():
    f = _filtered_join()
    s = f["x"]
    total = ScalarResult(s._rel, ex.Reduce("sum", s._expr))
    where = ScalarResult(s._rel, ex.Reduce("idxmax", s._expr))
    assert not index_analysis(total).is_observed(s._rel)
    assert index_analysis(where).is_observed(s._rel)
    check(
        total,
        """
        + ScalarResult expr=reduce(func='sum', x, kwargs=[])
        -   Filter (x > 1)
        -     Join how='inner' on=['k'] left_index=False right_index=False suffixes=['_x', '_y'] sort=False indicator=False
        -       Source DataFrame 4x2 [k, x]
        -       Source DataFrame 3x2 [k, y]
        """,
    )


def test_concat_ignore_index_hides_axis1_aligns_and_shared_node_is_observed():
    a, b = _frames()
    f = _filtered_join(a, b)
    check(
        pd.concat([f, a], ignore_index=True)._plan,
        """
        + Concat axis=0 join='outer' ignore_index=True
        -   Filter (x > 1)
        -     Join how='inner' on=['k'] left_index=False right_index=False suffixes=['_x', '_y'] sort=False indicator=False
        -       Source DataFrame 4x2 [k, x]
        -       Source DataFrame 3x2 [k, y]
        -   Source DataFrame 4x2 [k, x]
        """,
    )
    # ``a`` feeds the merge (index hidden) and the side-by-side concat (index aligned): the
    # shared node is observed because one of its parents observes it
    check(
        pd.concat([f, a], axis=1)._plan,
        """
        + Concat axis=1 join='outer' ignore_index=False
        +   Filter (x > 1)
        +     Join how='inner' on=['k'] left_index=False right_index=False suffixes=['_x', '_y'] sort=False indicator=False
        +       Source DataFrame 4x2 [k, x]
        -       Source DataFrame 3x2 [k, y]
        +   Source DataFrame 4x2 [k, x]
        """,
    )


def test_sort_and_series_methods():
    f = _filtered_join()
    check(
        f.sort_values("x", ignore_index=True)._plan,
        """
        + Sort by=['x'] ascending=True kind='quicksort' na_position='last' ignore_index=True
        -   Filter (x > 1)
        -     Join how='inner' on=['k'] left_index=False right_index=False suffixes=['_x', '_y'] sort=False indicator=False
        -       Source DataFrame 4x2 [k, x]
        -       Source DataFrame 3x2 [k, y]
        """,
    )
    check(
        f.sort_values("x").head(2)._plan,
        """
        + Head n=2
        +   Sort by=['x'] ascending=True kind='quicksort' na_position='last' ignore_index=False
        +     Filter (x > 1)
        +       Join how='inner' on=['k'] left_index=False right_index=False suffixes=['_x', '_y'] sort=False indicator=False
        -         Source DataFrame 4x2 [k, x]
        -         Source DataFrame 3x2 [k, y]
        """,
    )
    check(
        f["x"].value_counts()._plan,
        """
        + Project __litsdf_series__=__litsdf_series__ AS 'count'
        +   SeriesMethod value=x method='value_counts' kwargs=[['normalize', False], ['sort', True], ['ascending', False], ['bins', None], ['dropna', True]]
        -     Filter (x > 1)
        -       Join how='inner' on=['k'] left_index=False right_index=False suffixes=['_x', '_y'] sort=False indicator=False
        -         Source DataFrame 4x2 [k, x]
        -         Source DataFrame 3x2 [k, y]
        """,
    )


def test_index_joins_observe_both_sides():
    a, b = _frames()
    check(
        a.join(b.set_index("k"), on="k")._plan,
        """
        + IndexJoin on=['k'] how='left' sort=False
        +   Source DataFrame 4x2 [k, x]
        +   SetIndex keys=['k'] drop=True append=False
        -     Source DataFrame 3x2 [k, y]
        """,
    )
    check(
        pd.merge(a, b.set_index("k"), left_on="k", right_index=True)._plan,
        """
        + Join how='inner' left_on=['k'] left_index=False right_index=True suffixes=['_x', '_y'] sort=False indicator=False
        +   Source DataFrame 4x2 [k, x]
        +   SetIndex keys=['k'] drop=True append=False
        -     Source DataFrame 3x2 [k, y]
        """,
    )


def test_frame_reductions():
    f = _filtered_join()
    assert not index_analysis(f.sum()._plan).is_observed(f._plan)
    assert index_analysis(f.sum(axis=1)._plan).is_observed(f._plan)
    assert not index_analysis(f.describe()._plan).is_observed(f._plan)
