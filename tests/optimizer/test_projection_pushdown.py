"""Rule: projection_pushdown (and the required-columns analysis it shares)."""

# ruff: noqa: E501  (golden plan texts print whole nodes on one line)

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas
import pytest

import litsdf as pd
from litsdf_compiler.ir.base import freeze
from litsdf_compiler.ir.expressions import Col, Lit
from litsdf_compiler.ir.relations import FrameElementwise, Project, ReadParquet
from litsdf_compiler.optimizer import optimize
from litsdf_compiler.optimizer._columns import analyze
from litsdf_compiler.optimizer.projection_pushdown import projection_pushdown

from .helpers import check_rule, plan_text


def _pandas_frame() -> pandas.DataFrame:
    return pandas.DataFrame(
        {
            "k": [1, 2, 1, 3, 2],
            "a": [0.5, 1.5, 2.5, 3.5, 4.5],
            "b": [10, 20, 30, 40, 50],
            "c": ["x", "y", None, "w", "v"],
            "d": pandas.to_datetime(["2024-01-01", "2024-02-01", None, "2024-04-01", "2024-05-01"]),
        }
    )


def _frame() -> Any:
    return pd.DataFrame(_pandas_frame())


@pytest.fixture(autouse=True)
def _narrow_csv_reads():
    """These rules narrow CSV reads only where the user vouches for the files (the default
    keeps pandas' errors about lines and values past the columns read; tested below)."""
    with pd.option_context(narrow_csv_reads=True):
        yield


@pytest.fixture
def parquet(tmp_path: Path) -> str:
    path = str(tmp_path / "t.parquet")
    _pandas_frame().to_parquet(path)
    return path


@pytest.fixture
def csv(tmp_path: Path) -> str:
    path = str(tmp_path / "t.csv")
    _pandas_frame().to_csv(path, index=False)
    return path


# --- Parquet ------------------------------------------------------------------------------------


def test_parquet_reads_only_filter_and_aggregate_columns(parquet: str) -> None:
    df = pd.read_parquet(parquet)
    out = df[df["a"] > 1].groupby("k")["b"].sum()
    check_rule(
        projection_pushdown,
        out._rel,
        f"""
        Aggregate keys=['k'] measures=['b': sum('b')] form='method' functions=['sum'] selection='series' selected=['b'] shape='series' key_list=False as_index=True sort=True dropna=True
          Filter (a > 1)
            ReadParquet path={parquet!r}
        """,
        f"""
        Aggregate keys=['k'] measures=['b': sum('b')] form='method' functions=['sum'] selection='series' selected=['b'] shape='series' key_list=False as_index=True sort=True dropna=True
          Filter (a > 1)
            ReadParquet path={parquet!r} columns=['k', 'a', 'b']
        """,
    )


def test_parquet_keeps_the_requested_order_and_a_stored_index(tmp_path: Path) -> None:
    path = str(tmp_path / "indexed.parquet")
    _pandas_frame().set_index(pandas.Index([9, 8, 7, 6, 5], name="i")).to_parquet(path)
    df = pd.read_parquet(path, columns=["c", "b", "a", "k"])
    df["e"] = df["a"] * 2
    out = df[df["k"] > 1][["e", "c"]]
    check_rule(
        projection_pushdown,
        out._plan,
        f"""
        Project e=e, c=c
          Filter (k > 1)
            WithColumns e=(a * 2)
              ReadParquet path={path!r} columns=['c', 'b', 'a', 'k']
        """,
        f"""
        Project e=e, c=c
          Filter (k > 1)
            WithColumns e=(a * 2)
              ReadParquet path={path!r} columns=['c', 'a', 'k']
        """,
    )


def test_parquet_root_reads_everything(parquet: str) -> None:
    df = pd.read_parquet(parquet)
    out = df[df["a"] > 1]
    # the root's output is observed in full: nothing to prune
    assert projection_pushdown(out._plan) is out._plan


def test_parquet_drop_duplicates_without_subset_needs_every_column(parquet: str) -> None:
    series = pd.read_parquet(parquet).drop_duplicates()["a"]
    # drop_duplicates() compares whole rows: every column stays
    assert projection_pushdown(series._rel) is series._rel


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_gets_usecols_and_restricted_parse_dates(csv: str) -> None:
    df = pd.read_csv(csv, parse_dates=["d"])
    out = df[df["b"] > 15][["k", "a"]]
    check_rule(
        projection_pushdown,
        out._plan,
        f"""
        Project k=k, a=a
          Filter (b > 15)
            ReadCsv path={csv!r} options=[['parse_dates', ['d']]] narrow=True
        """,
        f"""
        Project k=k, a=a
          Filter (b > 15)
            ReadCsv path={csv!r} options=[['usecols', ['k', 'a', 'b']]] narrow=True
        """,
    )


def test_csv_keeps_dtype_columns_and_parsed_dates_in_use(csv: str) -> None:
    df = pd.read_csv(csv, parse_dates=["d"], dtype={"c": "str", "b": "float32"})
    out = df[df["d"].notna()][["a"]]
    check_rule(
        projection_pushdown,
        out._plan,
        f"""
        Project a=a
          Filter notna(d)
            ReadCsv path={csv!r} options=[['dtype', {{'c': 'str', 'b': 'float32'}}], ['parse_dates', ['d']]] narrow=True
        """,
        f"""
        Project a=a
          Filter notna(d)
            ReadCsv path={csv!r} options=[['dtype', {{'c': 'str', 'b': 'float32'}}], ['parse_dates', ['d']], ['usecols', ['a', 'b', 'c', 'd']]] narrow=True
        """,
    )


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"index_col": 0}, "index_col counts positions in the file's columns"),
        ({"usecols": ["k", "a", "b"]}, "the user's usecols already chose"),
        ({"header": 0, "names": ["K", "A", "B", "C", "D"]}, "names replace the header"),
        ({"dtype": "float64"}, "a whole-file dtype can fail on a column we would drop"),
        ({"engine": "pyarrow"}, "kept to the default parsers"),
    ],
)
def test_csv_options_that_block_usecols(csv: str, kwargs: dict[str, Any], reason: str) -> None:
    if kwargs.get("dtype") == "float64":
        pandas.DataFrame({"k": [1.0], "a": [2.0], "b": [3.0]}).to_csv(csv, index=False)
    df = pd.read_csv(csv, **kwargs)
    first = df.columns[0]
    out = df[[first]]
    assert projection_pushdown(out._plan) is out._plan, reason


BAD_LINES = "k,a,b\n1,2,3\n4,5,6,7\n8,9,10\n"
"""A line with too many fields: bad for the whole read, not for ``usecols=['k']``."""


@pytest.mark.parametrize(
    "kwargs",
    [
        {"on_bad_lines": "skip"},
        {"on_bad_lines": "warn"},
        {"skipfooter": 1, "engine": "python"},
        {"engine": "python"},
        {"sep": None, "engine": "python"},
        {"sep": ",+"},
        {"sep": " "},
        {"skiprows": lambda i: i == 2},
        {"dialect": "excel"},
    ],
    ids=str,
)
def test_csv_options_outside_the_allow_list_block_usecols(
    tmp_path: Path, kwargs: dict[str, Any]
) -> None:
    path = tmp_path / "ok.csv"
    path.write_text(
        "k a b\n1 2 3\n4 5 6\n" if kwargs.get("sep") == " " else "k,a,b\n1,2,3\n4,5,6\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pandas.errors.ParserWarning)
        df = pd.read_csv(path, **kwargs)
        assert len(df.columns) == 3
        out = df[[df.columns[0]]]
    assert projection_pushdown(out._plan) is out._plan


def test_csv_skip_bad_lines_needs_every_column(tmp_path: Path) -> None:
    """Why on_bad_lines='skip' blocks usecols: pandas keeps the long line's row with it."""
    path = tmp_path / "bad.csv"
    path.write_text(BAD_LINES)
    whole = pandas.read_csv(path, on_bad_lines="skip")[["k"]]
    narrowed = pandas.read_csv(path, on_bad_lines="skip", usecols=["k"])
    assert len(whole) == 2 and len(narrowed) == 3
    df = pd.read_csv(path, on_bad_lines="skip")
    with pd.option_context(optimize=True):
        pandas.testing.assert_frame_equal(df[["k"]].to_pandas(), whole)


@pytest.mark.parametrize(
    "kwargs",
    [{"comment": "#"}, {"quoting": 3}, {"quotechar": "'", "escapechar": "\\"}, {"sep": ";"}],
    ids=str,
)
def test_csv_allowed_options_keep_usecols_and_the_file_version(
    tmp_path: Path, kwargs: dict[str, Any]
) -> None:
    path = tmp_path / "ok.csv"
    sep = kwargs.get("sep", ",")
    path.write_text(f"k{sep}a{sep}b\n1{sep}2{sep}3\n4{sep}5{sep}6\n")
    df = pd.read_csv(path, **kwargs)
    out = projection_pushdown(df[["a"]]._plan)
    read = out.input
    assert dict(read.options)["usecols"] == ("a",)
    assert read.version == df._plan.version and read.version is not None


def test_parquet_narrowing_keeps_the_file_version(parquet: str) -> None:
    df = pd.read_parquet(parquet)
    out = projection_pushdown(df[["a"]]._plan)
    assert out.input.columns == ("a",) and out.input.version == df._plan.version


def test_parquet_unknown_option_blocks_narrowing(parquet: str) -> None:
    df = pd.read_parquet(parquet, to_pandas_kwargs={"split_blocks": True})
    out = df[["a"]]
    assert projection_pushdown(out._plan) is out._plan


# --- in-memory sources ---------------------------------------------------------------------------


def test_source_gets_a_selection_below_a_filter_and_sort() -> None:
    df = _frame()
    out = df[df["a"] > 1].sort_values("b", kind="stable")[["k", "a"]]
    after = check_rule(
        projection_pushdown,
        out._plan,
        """
        Project k=k, a=a
          Sort by=['b'] ascending=True kind='stable' na_position='last' ignore_index=False
            Filter (a > 1)
              Source DataFrame 5x5 [k, a, b, c, d]
        """,
        """
        Project k=k, a=a
          Sort by=['b'] ascending=True kind='stable' na_position='last' ignore_index=False
            Filter (a > 1)
              Project k=k, a=a, b=b
                Source DataFrame 5x5 [k, a, b, c, d]
        """,
    )
    assert projection_pushdown(after) is after  # idempotent: never re-wraps


def test_source_read_only_by_column_readers_is_left_alone() -> None:
    df = _frame()
    out = df.groupby("k")[["a"]].sum()
    # an Aggregate with a selection touches only its columns: a selection below saves nothing
    assert projection_pushdown(out._plan) is out._plan
    s = df["a"] + df["b"]
    assert projection_pushdown(s._rel) is s._rel


def test_replaced_column_is_kept_in_the_input() -> None:
    df = _frame()
    df["c"] = df["a"] + 1  # replaces c in place: pruning c would move it to the end
    out = df[df["k"] > 1][["c", "k"]]
    check_rule(
        projection_pushdown,
        out._plan,
        """
        Project c=c, k=k
          Filter (k > 1)
            WithColumns c=(a + 1)
              Source DataFrame 5x5 [k, a, b, c, d]
        """,
        """
        Project c=c, k=k
          Filter (k > 1)
            WithColumns c=(a + 1)
              Project k=k, a=a, c=c
                Source DataFrame 5x5 [k, a, b, c, d]
        """,
    )


def test_join_keeps_overlapping_labels_that_are_used() -> None:
    left = _frame()
    right = pd.DataFrame({"k": [1, 2, 4], "a": [7.0, 8.0, 9.0], "z": [1, 2, 3], "w": [0, 0, 0]})
    out = left.merge(right, on="k")[["a_y", "b", "z"]]
    check_rule(
        projection_pushdown,
        out._plan,
        """
        Project a_y=a_y, b=b, z=z
          Join how='inner' on=['k'] left_index=False right_index=False suffixes=['_x', '_y'] sort=False indicator=False
            Source DataFrame 5x5 [k, a, b, c, d]
            Source DataFrame 3x4 [k, a, z, w]
        """,
        """
        Project a_y=a_y, b=b, z=z
          Join how='inner' on=['k'] left_index=False right_index=False suffixes=['_x', '_y'] sort=False indicator=False
            Project k=k, a=a, b=b
              Source DataFrame 5x5 [k, a, b, c, d]
            Project k=k, a=a, z=z
              Source DataFrame 3x4 [k, a, z, w]
        """,
    )


def test_join_drops_an_overlapping_label_from_both_sides_when_unused() -> None:
    left = _frame()
    right = pd.DataFrame({"k": [1, 2, 4], "a": [7.0, 8.0, 9.0], "z": [1, 2, 3]})
    out = left.merge(right, on="k")[["b", "z"]]
    check_rule(
        projection_pushdown,
        out._plan,
        """
        Project b=b, z=z
          Join how='inner' on=['k'] left_index=False right_index=False suffixes=['_x', '_y'] sort=False indicator=False
            Source DataFrame 5x5 [k, a, b, c, d]
            Source DataFrame 3x3 [k, a, z]
        """,
        """
        Project b=b, z=z
          Join how='inner' on=['k'] left_index=False right_index=False suffixes=['_x', '_y'] sort=False indicator=False
            Project k=k, b=b
              Source DataFrame 5x5 [k, a, b, c, d]
            Project k=k, z=z
              Source DataFrame 3x3 [k, a, z]
        """,
    )


def test_merge_without_keys_keeps_every_common_column() -> None:
    left = _frame()
    right = pd.DataFrame({"k": [1, 3], "a": [0.5, 3.5], "z": [0, 1]})
    out = pd.merge(left, right)[["z"]]
    # no on=: merge joins on every common column (k and a), so both stay on both sides
    check_rule(
        projection_pushdown,
        out._plan,
        """
        Project z=z
          Join how='inner' left_index=False right_index=False suffixes=['_x', '_y'] sort=False indicator=False
            Source DataFrame 5x5 [k, a, b, c, d]
            Source DataFrame 2x3 [k, a, z]
        """,
        """
        Project z=z
          Join how='inner' left_index=False right_index=False suffixes=['_x', '_y'] sort=False indicator=False
            Project k=k, a=a
              Source DataFrame 5x5 [k, a, b, c, d]
            Source DataFrame 2x3 [k, a, z]
        """,
    )


def test_positional_frame_arguments_need_every_column() -> None:
    df = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    mask = freeze(np.array([[True, False], [False, True]]))
    plan = Project(
        FrameElementwise(df._plan, "where", (("cond", mask), ("other", 0.0))), (("a", Col("a")),)
    )
    # a 2-D mask lines up with the columns by position: no column may go
    assert projection_pushdown(plan) is plan


def test_concat_and_rename_pass_requirements_through() -> None:
    a = _frame()
    b = _frame().rename(columns={"a": "b", "b": "a"})
    out = pd.concat([a, b])[["a"]]
    check_rule(
        projection_pushdown,
        out._plan,
        """
        Project a=a
          Concat axis=0 join='outer' ignore_index=False
            Source DataFrame 5x5 [k, a, b, c, d]
            Rename mapping=[['a', 'b'], ['b', 'a']]
              Source DataFrame 5x5 [k, a, b, c, d]
        """,
        """
        Project a=a
          Concat axis=0 join='outer' ignore_index=False
            Project a=a
              Source DataFrame 5x5 [k, a, b, c, d]
            Rename mapping=[['a', 'b'], ['b', 'a']]
              Project b=b
                Source DataFrame 5x5 [k, a, b, c, d]
        """,
    )


def test_shared_node_needs_the_union_of_its_parents() -> None:
    df = _frame()
    f = df[df["k"] > 1]
    out = pd.concat([f[["a"]], f[["b"]]], axis=1)
    after = projection_pushdown(out._plan)
    assert plan_text(after).endswith(
        "Filter (k > 1)\n      Project k=k, a=a, b=b\n        Source DataFrame 5x5 [k, a, b, c, d]"
    )
    analysis = analyze(out._plan)
    assert analysis.need(f._plan) == frozenset({"a", "b"})


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda df: df.drop_duplicates()[["a"]], id="drop_duplicates-no-subset"),
        pytest.param(lambda df: df.dropna()[["a"]], id="dropna-no-subset"),
        pytest.param(lambda df: df.head(3).describe()[["a"]], id="describe"),
        pytest.param(lambda df: df.head(3).nunique(), id="frame-reduce"),
        pytest.param(
            lambda df: pd.concat([df.head(2), pd.DataFrame({"x": [7, 8]})], axis=1)[["a"]],
            id="concat-axis-1",
        ),
    ],
)
def test_nodes_that_depend_on_every_column_do_not_fire(build: Any) -> None:
    """Each of these nodes' results depends on every input column."""
    out = build(_frame())
    plan = out._plan if hasattr(out, "_plan") else out._rel
    assert projection_pushdown(plan) is plan


# --- differential ---------------------------------------------------------------------------------


def _pipelines(path_pq: str, path_csv: str) -> list[Any]:
    def wide(pd_: Any) -> Any:
        df = pd_.read_parquet(path_pq)
        df["e"] = df["a"] * df["b"]
        df = df[df["e"] > 10]
        return df.groupby("k", as_index=False).agg(total=("e", "sum"), n=("c", "count"))

    def csv_join(pd_: Any) -> Any:
        left = pd_.read_csv(path_csv, parse_dates=["d"])
        right = pd_.DataFrame({"k": [1, 2, 3], "a": [0.0, 1.0, 2.0], "y": ["p", "q", "r"]})
        m = left.merge(right, on="k", how="left")
        return m.sort_values(["k", "b"], kind="stable")[["a_x", "y", "d"]]

    def reset(pd_: Any) -> Any:
        df = pd_.read_parquet(path_pq)
        return df.set_index("k").reset_index()[["k", "b"]]

    def tail_rename(pd_: Any) -> Any:
        df = pd_.read_csv(path_csv).rename(columns={"a": "A"})
        return df.tail(3)[["A"]].abs()

    def scalar(pd_: Any) -> Any:
        df = pd_.read_parquet(path_pq)
        return df[df["c"].notna()]["b"].sum()

    return [wide, csv_join, reset, tail_rename, scalar]


def test_differential_against_pandas(compare: Any, parquet: str, csv: str) -> None:
    for fn in _pipelines(parquet, csv):
        compare(fn)


def test_optimized_plans_prune_reads(parquet: str, csv: str) -> None:
    for fn in _pipelines(parquet, csv):
        out = fn(pd)
        plan = out._plan if hasattr(out, "_plan") else getattr(out, "_rel", None)
        if plan is None:  # a scalar: already computed
            continue
        text = plan_text(optimize(plan).plan)
        assert "columns=" in text or "usecols" in text, text


def test_empty_requirement_keeps_one_column(parquet: str) -> None:
    plan = Project(ReadParquet(parquet), (("one", Lit(1)),))
    check_rule(
        projection_pushdown,
        plan,
        f"""
        Project one=1
          ReadParquet path={parquet!r}
        """,
        f"""
        Project one=1
          ReadParquet path={parquet!r} columns=['k']
        """,
    )


def test_more_differential_cases(compare: Any, tmp_path: Path) -> None:
    base = _pandas_frame()
    indexed = str(tmp_path / "indexed.parquet")
    base.set_index(pandas.Index([9, 8, 7, 6, 5])).to_parquet(indexed)
    named = str(tmp_path / "named.parquet")
    base.set_index("k").to_parquet(named)
    text = str(tmp_path / "na.csv")
    base.assign(e=["1", "n/a", "3", "4", "5"]).to_csv(text, index=False)

    def stored_index(pd_: Any) -> Any:
        df = pd_.read_parquet(indexed)
        return df[df["a"] > 1][["b"]]

    def named_index_with_filters(pd_: Any) -> Any:
        df = pd_.read_parquet(named, filters=[("b", ">", 15)])
        return df[df["a"] > 1][["a"]]

    def csv_per_column_options(pd_: Any) -> Any:
        df = pd_.read_csv(text, na_values={"e": ["n/a"], "c": ["x"]}, date_format={"d": "%Y-%m-%d"})
        return df[df["b"] > 10][["e"]]

    def reset_with_index_column(pd_: Any) -> Any:
        df = pd_.DataFrame({"index": [1, 2, 3], "a": [4, 5, 6], "b": [7, 8, 9]})
        df = df[df["a"] > 4].reset_index()
        return df[["level_0", "a"]]

    def index_join(pd_: Any) -> Any:
        left = pd_.DataFrame({"k": [1, 2, 3], "a": [1.0, 2.0, 3.0], "b": [4, 5, 6]})
        right = pd_.DataFrame({"a": [7.0, 8.0], "z": ["p", "q"]}, index=[1, 3])
        return left.join(right, on="k", suffixes=("_l", "_r"))[["a_r", "b"]]

    def outer_concat_dtypes(pd_: Any) -> Any:
        a = pd_.DataFrame({"x": [1, 2], "y": [3, 4], "w": ["a", "b"]})
        b = pd_.DataFrame({"y": [5, 6], "z": [7.0, 8.0]})
        return pd_.concat([a, b])[["x", "z"]]

    def value_counts(pd_: Any) -> Any:
        df = pd_.read_parquet(indexed)
        return df[df["b"] > 10]["k"].value_counts()

    def replaced_then_sorted(pd_: Any) -> Any:
        df = pd_.read_parquet(indexed)
        df["b"] = df["b"] * 0.5
        df = df.sort_values("a", ascending=False, kind="stable")
        return df[["k", "b"]]

    def drop_columns(pd_: Any) -> Any:
        df = pd_.read_parquet(indexed).drop(columns=["c"])
        return df[df["b"] > 10][["a"]]

    for fn in (
        stored_index,
        named_index_with_filters,
        csv_per_column_options,
        reset_with_index_column,
        index_join,
        outer_concat_dtypes,
        value_counts,
        replaced_then_sorted,
        drop_columns,
    ):
        compare(fn)


def test_csv_reads_are_not_narrowed_by_default(csv: str) -> None:
    with pd.option_context(narrow_csv_reads=False):
        df = pd.read_csv(csv)
    plan = df[["a"]]._plan
    assert projection_pushdown(plan) is plan
    with pd.option_context(narrow_csv_reads=True):  # (the option counts when the read is built)
        assert projection_pushdown(plan) is plan


def test_why_narrowing_csv_is_opt_in(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("a,b\n" + "1,2\n" * 1500 + "3,4,5\n")  # a long line past the sample
    with pytest.raises(pandas.errors.ParserError):
        pandas.read_csv(path)[["a"]]
    assert len(pandas.read_csv(path, usecols=["a"])) == 1501  # pandas reads it narrowed
    with pd.option_context(narrow_csv_reads=False):
        df = pd.read_csv(path)
    with pytest.raises(pandas.errors.ParserError):
        df[["a"]].to_pandas()
    with pd.option_context(narrow_csv_reads=True):
        assert len(pd.read_csv(path)[["a"]].to_pandas()) == 1501  # what the user opted in to
