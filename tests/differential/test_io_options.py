"""read_csv options that decide which rows a file yields, each followed by the column
selections, filters and heads that would push a projection (``usecols``) or a limit
(``nrows``) into the read; and files changed between ``read_csv`` and their use."""

from __future__ import annotations

import csv
import os
import re
import warnings

import pandas
import pytest

import litsdf
from litsdf_compiler.ir.serde import from_json, to_json

BAD_LINES = "a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n13,14,15,16\n17,18,19\n"
"""A short line (filled with NaN) and two lines with too many fields (bad lines)."""
FOOTER = "a,b,c\n1,2,3\n4,5,6\n7,8,9\ntotal,x,y\n"
COMMENTS = "a,b,c\n# a comment line, with, commas\n1,2,3\n4,5#,6,7\n8,9,10\n"
QUOTED = 'a,b,c\n1,"x,y",3\n4,"p\nq",6\n7,"say ""hi""",9\n10,,12\n'
NO_HEADER = "1,2,3\n4,5,6\n7,8,9\n"
SPACED = "a  b   c\n1 2  3\n4   5 6\n7 8 9\n"
SEMI = "a;b;c\n1;x;3\n4;y;6\n7;z;9\n"
IMPLICIT = "a,b\n5,1,x\n6,2,y\n7,3,z\n"
"""Rows longer than the header: an implicit index (``RangeIndex(5, 8)`` here)."""


@pytest.fixture
def files(tmp_path):
    out = {}
    for name, text in {
        "bad": BAD_LINES,
        "footer": FOOTER,
        "comments": COMMENTS,
        "quoted": QUOTED,
        "noheader": NO_HEADER,
        "spaced": SPACED,
        "semi": SEMI,
        "implicit": IMPLICIT,
    }.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(text)
        out[name] = str(path)
    return out


def _ops(df):
    """What makes the rules fire: a column selection, a filter with a reduction, a head."""
    first, last = df.columns[0], df.columns[-1]
    return (
        df[[first]],
        df[[last]],
        df[df[first].notna()][[last]],
        df[last].count(),
        df.head(2),
        df,
    )


CASES = [
    ("bad", {"on_bad_lines": "skip"}),
    ("bad", {"on_bad_lines": "skip", "engine": "python"}),
    ("bad", {"on_bad_lines": "skip", "dtype": "float64"}),
    ("bad", {"on_bad_lines": "warn", "dtype": {"a": "float64", "b": "float64", "c": "float64"}}),
    ("footer", {"skipfooter": 1, "engine": "python"}),
    ("footer", {"skipfooter": 2, "engine": "python", "dtype": "str"}),
    ("comments", {"comment": "#"}),
    ("comments", {"comment": "#", "dtype": "float64"}),
    ("quoted", {}),
    ("quoted", {"dtype": "str"}),
    ("quoted", {"quoting": csv.QUOTE_NONE, "on_bad_lines": "skip"}),
    ("quoted", {"quotechar": "'", "on_bad_lines": "skip"}),
    ("quoted", {"doublequote": False, "escapechar": "\\"}),
    ("noheader", {"header": None}),
    ("noheader", {"header": None, "names": ["x", "y", "z"]}),
    ("noheader", {"header": None, "names": ["x", "y"]}),
    ("noheader", {"header": None, "names": ["w", "x", "y", "z"]}),
    ("noheader", {"header": None, "usecols": [0, 2], "dtype": "int64"}),
    ("bad", {"usecols": ["a", "c"], "on_bad_lines": "skip"}),
    ("bad", {"index_col": 0, "on_bad_lines": "skip"}),
    ("bad", {"index_col": False, "on_bad_lines": "skip"}),
    ("bad", {"nrows": 3, "on_bad_lines": "skip"}),
    ("bad", {"nrows": 2}),
    ("bad", {"nrows": 0}),
    ("bad", {"skiprows": [2], "on_bad_lines": "skip"}),
    ("bad", {"skiprows": 1, "on_bad_lines": "skip", "header": None}),
    ("spaced", {"sep": r"\s+"}),
    ("spaced", {"sep": " ", "skipinitialspace": True, "on_bad_lines": "skip"}),
    ("semi", {"sep": None, "engine": "python"}),
    ("implicit", {"dtype": {"a": "int64", "b": "str"}}),
    ("implicit", {}),
    ("semi", {"sep": ";", "dtype": {"a": "int64", "b": "str", "c": "int64"}}),
]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_read_csv_option_then_narrowing(compare, files, name, kwargs):
    def case(pd):
        with warnings.catch_warnings():  # (on_bad_lines="warn": pandas' ParserWarning)
            warnings.simplefilter("ignore", pandas.errors.ParserWarning)
            return tuple(_to_pandas(x) for x in _ops(pd.read_csv(files[name], **kwargs)))

    compare(case)


def _to_pandas(value):
    """Materialize inside the warnings context (litsdf reads the file when a value is
    needed)."""
    return value.to_pandas() if isinstance(value, (litsdf.DataFrame, litsdf.Series)) else value


def test_read_csv_skipfooter_default_engine(compare, files):
    """pandas warns and falls back to the python engine; the schema read must not crash."""

    def case(pd):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pandas.errors.ParserWarning)
            df = pd.read_csv(files["footer"], skipfooter=1)
            return _to_pandas(df[["b"]]), _to_pandas(df.head(1))

    compare(case)


def test_read_csv_skipfooter_with_nrows_raises(compare, files):
    compare(lambda pd: pd.read_csv(files["footer"], skipfooter=1, nrows=2, engine="python"))


def test_read_csv_bad_line_in_head_raises_at_call(compare, files):
    """A line with too many fields in the sampled head: pandas raises ``ParserError`` at the
    call, so does litsdf (whatever is selected after)."""
    compare(lambda pd: pd.read_csv(files["bad"])[["a"]])


def test_malformed_past_the_sample_raises_as_pandas_does(compare, tmp_path):
    """A line with more fields than the header, and a value failing its dtype, past the rows
    sampled at the call: pandas' full read raises, so column selections and heads must too
    (the optimizer narrows CSV reads only under ``options.narrow_csv_reads``)."""
    long_line = tmp_path / "long.csv"
    long_line.write_text("a,b\n" + "1,2\n" * 1500 + "3,4,5\n")
    bad_value = tmp_path / "value.csv"
    bad_value.write_text("a,b\n" + "1,2\n" * 1500 + "x,4\n")
    compare(lambda pd: pd.read_csv(long_line)[["a"]])
    compare(lambda pd: pd.read_csv(long_line).head(3))
    compare(lambda pd: pd.read_csv(bad_value, dtype={"a": "int64", "b": "int64"})[["b"]])
    compare(lambda pd: pd.read_csv(bad_value, dtype={"a": "int64", "b": "int64"}).head(3))


def test_on_bad_lines_warn_warns(compare, files):
    with pytest.warns(pandas.errors.ParserWarning, match="Skipping line 4: expected 3 fields"):
        expected = pandas.read_csv(files["bad"], on_bad_lines="warn")[["a"]]
    with (
        litsdf.option_context(backend="pandas", optimize=compare.optimize),
        pytest.warns(pandas.errors.ParserWarning, match="Skipping line 4: expected 3 fields"),
    ):
        got = litsdf.read_csv(files["bad"], on_bad_lines="warn")[["a"]].to_pandas()
    pandas.testing.assert_frame_equal(got, expected)


# files changed between read_csv and use ---------------------------------------------------


def _frame(n: int = 4) -> pandas.DataFrame:
    return pandas.DataFrame({"a": range(n), "b": [f"s{i}" for i in range(n)]})


def _run(compare, fn):
    """``fn()`` on the fixture's backend and optimizer setting, strict (a backend that
    declines the plan skips the case, as in ``compare``)."""
    with (
        compare._declines_skip(),
        litsdf.option_context(backend=compare.backend, optimize=compare.optimize, fallback="raise"),
    ):
        return fn()


def _overwrite_same_size_and_mtime(path: str) -> None:
    st = os.stat(path)
    with open(path) as fh:
        text = fh.read()
    with open(path, "w") as fh:  # same bytes count, same inode, mtime restored
        fh.write(text.replace("s1", "t1"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _overwrite_bigger(path: str) -> None:
    _frame(6).to_csv(path, index=False)


def _bump_mtime(path: str) -> None:
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def _replace(path: str) -> None:
    tmp = path + ".new"
    with open(path) as src, open(tmp, "w") as dst:
        dst.write(src.read())
    os.replace(tmp, path)  # the same bytes, another file


CHANGES = {
    "bigger": (_overwrite_bigger, "size"),
    "same-size-same-mtime": (_overwrite_same_size_and_mtime, "contents differ"),
    "touched": (_bump_mtime, "modified"),
    "replaced": (_replace, "replaced by another file"),
    "deleted": (os.remove, "deleted"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_read_csv_changed_file_raises(compare, tmp_path, change):
    path = str(tmp_path / "c.csv")
    _frame().to_csv(path, index=False)
    df = litsdf.read_csv(path)
    assert list(df.columns) == ["a", "b"]
    modify, what = CHANGES[change]
    modify(path)
    for use in (lambda: df.to_pandas(), lambda: df[["a"]].to_pandas(), lambda: df["a"].sum()):
        with pytest.raises(litsdf.FileChangedError, match=what) as info:
            _run(compare, use)
        assert isinstance(info.value, OSError) and path in str(info.value)
        assert "read_csv" in str(info.value)


def test_read_csv_unchanged_file_reads(compare, tmp_path):
    path = tmp_path / "u.csv"
    _frame().to_csv(path, index=False)
    compare(lambda pd: (pd.read_csv(path)[["b"]], pd.read_csv(path)["a"].sum()))


def test_read_csv_after_change_reads_new_version(compare, tmp_path):
    """Reading again after the change sees the new file; the old read still refuses."""
    path = str(tmp_path / "v.csv")
    _frame().to_csv(path, index=False)
    old = litsdf.read_csv(path)
    _overwrite_bigger(path)
    new = litsdf.read_csv(path)
    got = _run(compare, lambda: new["a"].to_pandas())
    pandas.testing.assert_series_equal(got, pandas.read_csv(path)["a"])
    with pytest.raises(litsdf.FileChangedError):
        _run(compare, lambda: litsdf.concat([old, new]).to_pandas())


def test_materialized_read_keeps_its_data(compare, tmp_path):
    """Once a value was computed from the file, later changes do not matter (as in pandas,
    which holds the data)."""
    path = str(tmp_path / "m.csv")
    _frame().to_csv(path, index=False)
    expected = pandas.read_csv(path)
    df = litsdf.read_csv(path)
    first = _run(compare, df.to_pandas)
    os.remove(path)
    pandas.testing.assert_frame_equal(first, expected)
    pandas.testing.assert_frame_equal(_run(compare, df.to_pandas), expected)
    assert _run(compare, lambda: int(df["a"].sum())) == int(expected["a"].sum())


@pytest.mark.parametrize("change", ["bigger", "deleted", "same-size-same-mtime"])
def test_read_parquet_changed_file_raises(compare, tmp_path, change):
    path = str(tmp_path / "c.parquet")
    _frame().to_parquet(path)
    df = litsdf.read_parquet(path)
    if change == "bigger":
        _frame(6).to_parquet(path)
    elif change == "deleted":
        os.remove(path)
    else:
        st = os.stat(path)
        with open(path, "rb") as fh:
            data = bytearray(fh.read())
        data[-10] ^= 1  # (the footer: a byte of the schema metadata)
        with open(path, "wb") as fh:
            fh.write(bytes(data))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(litsdf.FileChangedError, match="read_parquet"):
        _run(compare, lambda: df[df["a"] > 1][["b"]].to_pandas())


def test_read_parquet_directory_file_added(compare, tmp_path):
    root = tmp_path / "ds"
    root.mkdir()
    _frame().to_parquet(root / "part-0.parquet")
    df = litsdf.read_parquet(str(root))
    _frame(2).to_parquet(root / "part-1.parquet")
    with pytest.raises(litsdf.FileChangedError, match=re.escape("'part-1.parquet': added")):
        _run(compare, df.to_pandas)


def test_read_parquet_directory_unchanged(compare, tmp_path):
    root = tmp_path / "ds"
    root.mkdir()
    _frame().to_parquet(root / "part-0.parquet")
    _frame(2).to_parquet(root / "part-1.parquet")
    compare(lambda pd: pd.read_parquet(str(root), columns=["b"]))


def test_plan_json_keeps_the_file_version(tmp_path):
    """A plan is a value: its JSON names the version of the file it reads, so a loaded plan
    runs on that version only (reading another needs ``read_csv`` again)."""
    path = str(tmp_path / "j.csv")
    _frame().to_csv(path, index=False)
    plan = litsdf.read_csv(path)[["a"]]._plan
    loaded = from_json(to_json(plan), allow_io=True)
    assert loaded == plan
    pandas.testing.assert_frame_equal(
        litsdf.DataFrame._from_plan(loaded).to_pandas(), pandas.read_csv(path)[["a"]]
    )
    _overwrite_bigger(path)
    with pytest.raises(litsdf.FileChangedError, match="size"):
        litsdf.DataFrame._from_plan(from_json(to_json(plan), allow_io=True)).to_pandas()
