"""read_csv / read_parquet (lazy sources) and to_csv / to_parquet round trips."""

from __future__ import annotations

import pandas
import pytest

import litsdf

from .data import frame


@pytest.fixture
def csv_path(tmp_path):
    path = tmp_path / "data.csv"
    frame(pandas).to_csv(path, index=False)
    return str(path)


@pytest.fixture
def parquet_path(tmp_path):
    path = tmp_path / "data.parquet"
    frame(pandas).to_parquet(path)
    return str(path)


CSV_OPTIONS = [
    {},
    {"usecols": ["i", "s", "k"]},
    {"usecols": ["k", "i"]},
    {"dtype": {"i": "float64", "j": "int32"}},
    {"dtype": {"k": "category"}},
    {"parse_dates": ["t"]},
    {"parse_dates": ["t"], "usecols": ["t", "f"]},
    {"index_col": "k"},
    {"nrows": 3},
    {"skiprows": [1, 2]},
    {"na_values": ["fig"]},
    {"dtype": {"b": "boolean"}, "usecols": ["b", "i"]},
]


@pytest.mark.parametrize("kwargs", CSV_OPTIONS, ids=str)
def test_read_csv(compare, csv_path, kwargs):
    compare(lambda pd: pd.read_csv(csv_path, **kwargs))


def test_read_csv_pathlib(compare, tmp_path):
    path = tmp_path / "p.csv"
    frame(pandas).to_csv(path)
    compare(lambda pd: pd.read_csv(path, index_col=0))


def test_read_csv_then_query(compare, csv_path):
    compare(lambda pd: pd.read_csv(csv_path, parse_dates=["t"]).query("i > 2 and j < 8"))


def test_read_csv_then_groupby(compare, csv_path):
    compare(lambda pd: pd.read_csv(csv_path).groupby("k")["f"].sum())


def test_read_csv_missing_file_raises(compare, tmp_path):
    path = str(tmp_path / "nope.csv")
    compare(lambda pd: pd.read_csv(path))


def test_read_csv_bad_usecols_raises(compare, csv_path):
    compare(lambda pd: pd.read_csv(csv_path, usecols=["nope"]))


@pytest.mark.parametrize("columns", [None, ["i", "s"], ["t", "f", "k"]], ids=str)
def test_read_parquet(compare, parquet_path, columns):
    compare(lambda pd: pd.read_parquet(parquet_path, columns=columns))


def test_read_parquet_then_filter(compare, parquet_path):
    def case(pd):
        df = pd.read_parquet(parquet_path)
        return df[df["b"] & (df["i"] > 1)]

    compare(case)


def test_read_parquet_missing_raises(compare, tmp_path):
    path = str(tmp_path / "nope.parquet")
    compare(lambda pd: pd.read_parquet(path))


def test_read_parquet_bad_column_raises(compare, parquet_path):
    compare(lambda pd: pd.read_parquet(parquet_path, columns=["nope"]))


@pytest.mark.parametrize("index", [True, False])
def test_to_csv_round_trip(compare, tmp_path, index):
    def case(pd):
        path = tmp_path / f"out_{pd.__name__}.csv"
        df = frame(pd)
        df[df["i"] > 1].to_csv(path, index=index)
        return pd.read_csv(path)

    compare(case)


def test_to_csv_string(compare):
    def case(pd):
        df = frame(pd)
        return df.sort_values("f").to_csv()

    compare(case)


def test_to_parquet_round_trip(compare, tmp_path):
    def case(pd):
        path = tmp_path / f"out_{pd.__name__}.parquet"
        df = frame(pd)
        df.assign(z=df["i"] * df["f"]).to_parquet(path)
        return pd.read_parquet(path)

    compare(case)


def test_to_parquet_derived_index(compare, tmp_path):
    def case(pd):
        path = tmp_path / f"idx_{pd.__name__}.parquet"
        frame(pd).groupby("k").agg(total=("f", "sum")).to_parquet(path)
        return pd.read_parquet(path)

    compare(case)


def test_read_csv_sees_file_at_execution(tmp_path):
    """The read is lazy but the result equals reading the file when the value is needed."""
    path = tmp_path / "lazy.csv"
    frame(pandas).to_csv(path, index=False)
    df = litsdf.read_csv(path)
    pandas.testing.assert_frame_equal(df.to_pandas(), pandas.read_csv(path))


def test_read_csv_buffer_falls_back():
    import io

    text = frame(pandas).to_csv(index=False)
    expected = pandas.read_csv(io.StringIO(text))
    with pytest.warns(litsdf.FallbackWarning):
        got = litsdf.read_csv(io.StringIO(text))
    pandas.testing.assert_frame_equal(got.to_pandas(), expected)


def test_read_csv_pyarrow_engine(compare, csv_path):
    compare(lambda pd: pd.read_csv(csv_path, engine="pyarrow"))


def test_read_csv_dtypes_beyond_sample(compare, tmp_path):
    """The schema is sampled from the file's head; values past it must still be exact."""
    path = tmp_path / "long.csv"
    n = 1500
    pandas.DataFrame(
        {
            "a": list(range(n)),
            "f": [1] * 1200 + [2.5] + [1] * (n - 1201),
            "s": ["x"] * 1400 + [None] * (n - 1400),
        }
    ).to_csv(path, index=False)

    def case(pd):
        df = pd.read_csv(path)
        return df.assign(g=df["f"] * 2).groupby("s", dropna=False)["g"].sum(), df.dtypes

    compare(case)
