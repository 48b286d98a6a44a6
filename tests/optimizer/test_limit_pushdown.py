"""Rule: limit_pushdown (golden before/after plans, cases that must not fire, real CSV files)."""
# ruff: noqa: E501  (golden plan texts print whole nodes on one line)

from __future__ import annotations

import warnings

import numpy as np
import pandas
import pytest

import litsdf as pd
from litsdf.frame import DataFrame
from litsdf_compiler.engine import execute
from litsdf_compiler.ir.base import freeze
from litsdf_compiler.ir.expressions import BinaryOp, Col, Lit
from litsdf_compiler.ir.relations import Head, Project, ReadCsv, WithColumns
from litsdf_compiler.optimizer.limit_pushdown import limit_pushdown

from .helpers import check_rule


def _frames():
    a = pd.DataFrame(
        {"k": [1, 2, 1, 3, 2], "x": [1.0, 5.0, 3.0, np.nan, 4.0], "s": ["p", "q", None, "s", "t"]}
    )
    b = pd.DataFrame({"k": [7, 8, 9], "x": [0.5, 1.5, 2.5]})
    return a, b


def _run(plan):
    return execute(plan, "pandas", optimize=False)[0]


def _unchanged(plan, text):
    """The rule leaves ``plan`` (printed as ``text``) alone."""
    check_rule(limit_pushdown, plan, text, text)


# row-wise nodes -------------------------------------------------------------------------------


def test_head_moves_below_assignments():
    a, _ = _frames()
    a["w"] = a["x"] * 2
    a["u"] = a["s"].str.upper()
    check_rule(
        limit_pushdown,
        a.head(2)._plan,
        """
        Head n=2
          WithColumns u=strcase(s, how='upper')
            WithColumns w=(x * 2)
              Source DataFrame 5x3 [k, x, s]
        """,
        """
        WithColumns u=strcase(s, how='upper')
          WithColumns w=(x * 2)
            Head n=2
              Source DataFrame 5x3 [k, x, s]
        """,
    )


def test_tail_moves_below_assignments():
    a, _ = _frames()
    a["w"] = a["x"] * 2
    check_rule(
        limit_pushdown,
        a.tail(2)._plan,
        """
        Tail n=2
          WithColumns w=(x * 2)
            Source DataFrame 5x3 [k, x, s]
        """,
        """
        WithColumns w=(x * 2)
          Tail n=2
            Source DataFrame 5x3 [k, x, s]
        """,
    )


def test_assignment_whose_dtype_depends_on_the_rows_blocks_the_limit():
    """``map`` gives float64 while some row is unmapped; the first rows alone may all map."""
    a, _ = _frames()
    a["w"] = a["k"].map({1: 10, 2: 20})
    plan = a.head(2)._plan
    _unchanged(
        plan,
        """
        Head n=2
          WithColumns w=mapdict(k, mapping=[[1, 10], [2, 20]], na_action=None)
            Source DataFrame 5x3 [k, x, s]
        """,
    )
    assert isinstance(plan, Head) and isinstance(plan.input, WithColumns)
    naive = WithColumns(Head(plan.input.input, 2), plan.input.expressions)
    assert _run(plan)["w"].dtype == "float64"
    assert _run(naive)["w"].dtype == "int64"  # why the rule must not do this


def test_head_moves_below_a_computed_projection():
    p = pd.DataFrame({"k": [1, 2, 3]})
    computed = Head(Project(p._plan, (("v", BinaryOp("mul", Col("k"), Lit(3))),)), 2)
    check_rule(
        limit_pushdown,
        computed,
        """
        Head n=2
          Project v=(k * 3)
            Source DataFrame 3x1 [k]
        """,
        """
        Project v=(k * 3)
          Head n=2
            Source DataFrame 3x1 [k]
        """,
    )


def test_plain_column_projection_is_left_to_the_projection_rules():
    a, _ = _frames()
    _unchanged(
        a[["k", "x"]].head(2)._plan,
        """
        Head n=2
          Project k=k, x=x
            Source DataFrame 5x3 [k, x, s]
        """,
    )


# concat ---------------------------------------------------------------------------------------


def test_head_goes_into_each_concat_input_and_stays_on_top():
    a, b = _frames()
    check_rule(
        limit_pushdown,
        pd.concat([a, b]).head(3)._plan,
        """
        Head n=3
          Concat axis=0 join='outer' ignore_index=False
            Source DataFrame 5x3 [k, x, s]
            Source DataFrame 3x2 [k, x]
        """,
        """
        Head n=3
          Concat axis=0 join='outer' ignore_index=False
            Head n=3
              Source DataFrame 5x3 [k, x, s]
            Head n=3
              Source DataFrame 3x2 [k, x]
        """,
    )


def test_tail_goes_into_each_concat_input():
    a, b = _frames()
    check_rule(
        limit_pushdown,
        pd.concat([a, b]).tail(2)._plan,
        """
        Tail n=2
          Concat axis=0 join='outer' ignore_index=False
            Source DataFrame 5x3 [k, x, s]
            Source DataFrame 3x2 [k, x]
        """,
        """
        Tail n=2
          Concat axis=0 join='outer' ignore_index=False
            Tail n=2
              Source DataFrame 5x3 [k, x, s]
            Tail n=2
              Source DataFrame 3x2 [k, x]
        """,
    )


def test_tail_of_a_renumbering_concat_is_left_alone():
    """With ``ignore_index`` the last rows are numbered 6, 7 (of 8 rows); the concatenation of
    shortened inputs would number them 2, 3."""
    a, b = _frames()
    plan = pd.concat([a, b], ignore_index=True).tail(2)._plan
    _unchanged(
        plan,
        """
        Tail n=2
          Concat axis=0 join='outer' ignore_index=True
            Source DataFrame 5x3 [k, x, s]
            Source DataFrame 3x2 [k, x]
        """,
    )
    assert list(_run(plan).index) == [6, 7]
    head = pd.concat([a, b], ignore_index=True).head(2)._plan
    assert limit_pushdown(head) is not head  # the first rows are numbered 0, 1 either way


def test_concat_inputs_already_limited_are_tightened_or_kept():
    a, b = _frames()
    check_rule(
        limit_pushdown,
        pd.concat([a.head(10), b.head(1)]).head(3)._plan,
        """
        Head n=3
          Concat axis=0 join='outer' ignore_index=False
            Head n=10
              Source DataFrame 5x3 [k, x, s]
            Head n=1
              Source DataFrame 3x2 [k, x]
        """,
        """
        Head n=3
          Concat axis=0 join='outer' ignore_index=False
            Head n=3
              Source DataFrame 5x3 [k, x, s]
            Head n=1
              Source DataFrame 3x2 [k, x]
        """,
    )


def test_negative_head_is_left_alone():
    """``head(-2)`` drops the last two rows of the *concatenation*, not of each input."""
    a, b = _frames()
    _unchanged(
        pd.concat([a, b]).head(-2)._plan,
        """
        Head n=-2
          Concat axis=0 join='outer' ignore_index=False
            Source DataFrame 5x3 [k, x, s]
            Source DataFrame 3x2 [k, x]
        """,
    )


def test_side_by_side_concat_is_left_alone():
    a, b = _frames()
    plan = pd.concat([a, b.rename(columns={"k": "k2", "x": "x2"})], axis=1).head(2)._plan
    assert limit_pushdown(plan) is plan


# nodes a limit never crosses ------------------------------------------------------------------


def test_filter_sort_and_drop_duplicates_are_not_crossed():
    """The first rows of a filter/sort/dedup depend on all rows of its input."""
    a, _ = _frames()
    _unchanged(
        a[a["x"] > 1].head(2)._plan,
        """
        Head n=2
          Filter (x > 1)
            Source DataFrame 5x3 [k, x, s]
        """,
    )
    _unchanged(
        a.sort_values("x").head(2)._plan,
        """
        Head n=2
          Sort by=['x'] ascending=True kind='quicksort' na_position='last' ignore_index=False
            Source DataFrame 5x3 [k, x, s]
        """,
    )
    _unchanged(
        a.drop_duplicates("k").head(2)._plan,
        """
        Head n=2
          DropDuplicates subset=['k'] keep='first' ignore_index=False
            Source DataFrame 5x3 [k, x, s]
        """,
    )


def test_join_is_not_crossed():
    a, b = _frames()
    plan = pd.merge(a, b, on="k", how="left").head(2)._plan
    assert limit_pushdown(plan) is plan


def test_head_over_a_source_is_left_alone():
    a, _ = _frames()
    _unchanged(
        a.head(2)._plan,
        """
        Head n=2
          Source DataFrame 5x3 [k, x, s]
        """,
    )


# csv ------------------------------------------------------------------------------------------


def _write_csv(path, n=20):
    frame = pandas.DataFrame({"a": range(n), "b": [f"v{i}" for i in range(n)]})
    frame.to_csv(path, index=False)
    return frame


def _csv(path, **kwargs):
    options = tuple(sorted((k, freeze(v)) for k, v in kwargs.items()))
    return DataFrame._from_plan(ReadCsv(path, options, narrow=True))


def test_head_becomes_nrows_when_every_dtype_is_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write_csv("t.csv")
    check_rule(
        limit_pushdown,
        _csv("t.csv", dtype={"a": "int64", "b": "str"}).head(3)._plan,
        """
        Head n=3
          ReadCsv path='t.csv' options=[['dtype', {'a': 'int64', 'b': 'str'}]] narrow=True
        """,
        """
        ReadCsv path='t.csv' options=[['dtype', {'a': 'int64', 'b': 'str'}], ['nrows', 3]] narrow=True
        """,
    )
    check_rule(
        limit_pushdown,
        _csv("t.csv", dtype="str", sep=",").head(30)._plan,
        """
        Head n=30
          ReadCsv path='t.csv' options=[['dtype', 'str'], ['sep', ',']] narrow=True
        """,
        """
        ReadCsv path='t.csv' options=[['dtype', 'str'], ['nrows', 30], ['sep', ',']] narrow=True
        """,
    )


def test_csv_with_inferred_dtypes_is_left_alone(tmp_path, monkeypatch):
    """pandas infers dtypes from the rows it reads: the first rows alone may look numeric."""
    monkeypatch.chdir(tmp_path)
    pandas.DataFrame({"a": ["1", "2", "3", "x"]}).to_csv("t.csv", index=False)
    plan = _csv("t.csv").head(2)._plan
    _unchanged(
        plan,
        """
        Head n=2
          ReadCsv path='t.csv' narrow=True
        """,
    )
    assert _run(plan)["a"].dtype != "int64"
    assert pandas.read_csv("t.csv", nrows=2)["a"].dtype == "int64"  # why the rule must not


def test_csv_with_partial_or_categorical_dtypes_or_row_options_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write_csv("t.csv")
    for kwargs in (
        {"dtype": {"a": "int64"}},  # b inferred
        {"dtype": {"a": "int64", "b": "category"}},  # categories come from the rows read
        {"dtype": {"a": "int64", "b": "str"}, "skiprows": [2]},
        {"dtype": {"a": "int64", "b": "str"}, "index_col": "a"},
        {"dtype": {"a": "int64", "b": "str"}, "nrows": 10},
        {"dtype": {"a": "int64", "b": "str"}, "engine": "pyarrow"},
    ):
        plan = _csv("t.csv", **kwargs).head(3)._plan
        assert limit_pushdown(plan) is plan, kwargs


# the optimizer as a whole ---------------------------------------------------------------------


def test_pipelines_match_pandas(compare, tmp_path):
    path = str(tmp_path / "t.csv")
    _write_csv(path)

    def concat_assign_head(pd):
        a = pd.DataFrame({"k": [1, 2, 1, 3, 2], "x": [1.0, 5.0, 3.0, np.nan, 4.0]})
        b = pd.DataFrame({"k": [7, 8, 9], "y": [True, False, True]})
        c = pd.concat([a, b], ignore_index=True)
        c["w"] = c["k"] * 2
        return c.head(6)

    def concat_tail(pd):
        a = pd.DataFrame({"k": [1, 2, 1, 3, 2]}, index=[5, 6, 7, 8, 9])
        b = pd.DataFrame({"k": [7, 8, 9]})
        return pd.concat([a, b, a]).tail(4)

    def concat_ignore_index_head_tail(pd):
        a = pd.DataFrame({"k": [1, 2, 1, 3, 2]}, index=[5, 6, 7, 8, 9])
        c = pd.concat([a, a], ignore_index=True)
        return pd.concat([c.head(3), c.tail(2)])

    def csv_head(pd):
        df = pd.read_csv(path, dtype={"a": "int64", "b": "str"})
        df["c"] = df["a"] + 1
        return df.head(4)

    compare(concat_assign_head)
    compare(concat_tail)
    compare(concat_ignore_index_head_tail)
    compare(csv_head)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"on_bad_lines": "skip"},
        {"on_bad_lines": "warn"},
        {"sep": ",+"},
        {"sep": None},
        {"engine": "python"},
        {"dialect": "excel"},
    ],
    ids=str,
)
def test_csv_options_outside_the_allow_list_block_nrows(tmp_path, monkeypatch, kwargs):
    """``on_bad_lines="skip"``: ``nrows`` would count the rows before the skipped lines
    differently; regex/sniffed separators run the python engine."""
    monkeypatch.chdir(tmp_path)
    _write_csv("t.csv")
    plan = _csv("t.csv", dtype={"a": "int64", "b": "str"}, **kwargs).head(3)._plan
    assert limit_pushdown(plan) is plan


def test_warn_bad_lines_head_differs_from_nrows(tmp_path, monkeypatch):
    """Why: ``nrows`` stops before later bad lines, so pandas' warning about them is lost."""
    monkeypatch.chdir(tmp_path)
    with open("t.csv", "w") as fh:
        fh.write("a,b\n1,x\n2,y\n3,w,z\n4,v\n")
    opts = {"dtype": {"a": "int64", "b": "str"}, "on_bad_lines": "warn"}
    with warnings.catch_warnings(record=True) as quiet:
        warnings.simplefilter("always")
        pandas.read_csv("t.csv", nrows=2, **opts)
    assert not quiet
    with pytest.warns(pandas.errors.ParserWarning, match="Skipping line 4"):
        head = pandas.read_csv("t.csv", **opts).head(2)
    with (
        pd.option_context(optimize=True, backend="pandas"),
        pytest.warns(pandas.errors.ParserWarning, match="Skipping line 4"),
    ):
        got = pd.read_csv("t.csv", **opts).head(2).to_pandas()
    pandas.testing.assert_frame_equal(got, head)


def test_implicit_index_blocks_nrows(tmp_path, monkeypatch):
    """Rows longer than the header make an implicit index: left to the full read."""
    monkeypatch.chdir(tmp_path)
    with open("t.csv", "w") as fh:
        fh.write("a,b\n5,1,x\n6,2,y\n7,3,z\n")
    df = pd.read_csv("t.csv", dtype={"a": "int64", "b": "str"})
    plan = df.head(2)._plan
    assert limit_pushdown(plan) is plan


def test_nrows_keeps_the_file_version(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write_csv("t.csv")
    with pd.option_context(narrow_csv_reads=True):
        df = pd.read_csv("t.csv", dtype={"a": "int64", "b": "str"})
    out = limit_pushdown(df.head(3)._plan)
    assert isinstance(out, ReadCsv) and dict(out.options)["nrows"] == 3
    assert out.version == df._plan.version and out.version is not None


def test_head_of_a_csv_read_is_not_nrows_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pandas.DataFrame({"a": [str(i) for i in range(1500)] + ["x"]}).to_csv("t.csv", index=False)
    with pytest.raises(ValueError):  # a value past the head fails its dtype
        pandas.read_csv("t.csv", dtype={"a": "int64"}).head(2)
    df = pd.read_csv("t.csv", dtype={"a": "int64"})
    assert limit_pushdown(df.head(2)._plan) is df.head(2)._plan or not isinstance(
        limit_pushdown(df.head(2)._plan), ReadCsv
    )
    with pytest.raises(ValueError):
        df.head(2).to_pandas()
