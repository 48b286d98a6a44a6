"""The ``.dt`` accessor and datetime/timedelta arithmetic, with and without NaT values."""

from __future__ import annotations

import numpy as np
import pandas
import pytest

import litsdf

from .data import BASE, frame

WITH_NAT = list(BASE["t"])
WITH_NAT[2] = None
WITH_NAT[5] = "NaT"


def tcol(pd, which):
    """Datetime column ``t`` (complete) or ``tn`` (with NaT)."""
    return frame(pd, tn=np.array(WITH_NAT, dtype="datetime64[ns]"))[which]


WHICH = ["t", "tn"]
FIELDS = [
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "day_of_week",
    "quarter",
    "day_of_year",
    "days_in_month",
    "is_month_start",
    "is_month_end",
    "date",
    "time",
]
ALIASES = ["dayofweek", "weekday", "dayofyear"]  # deprecated in pandas 3


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize("field", FIELDS)
def test_dt_field(compare, which, field):
    compare(lambda pd: getattr(tcol(pd, which).dt, field))


@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize("field", ALIASES)
def test_dt_deprecated_alias(compare, which, field):
    compare(lambda pd: getattr(tcol(pd, which).dt, field))


@pytest.mark.parametrize("field", ALIASES)
def test_dt_deprecated_alias_warns_once(field):
    s = tcol(litsdf, "tn")
    with pytest.warns(pandas.errors.Pandas4Warning) as record:
        got = getattr(s.dt, field).to_pandas()
    assert len(record) == 1
    with pytest.warns(pandas.errors.Pandas4Warning):
        expected = getattr(tcol(pandas, "tn").dt, field)
    pandas.testing.assert_series_equal(got, expected)


@pytest.mark.parametrize("which", WHICH)
def test_dt_normalize(compare, which):
    compare(lambda pd: tcol(pd, which).dt.normalize())


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize(
    "delta",
    [pandas.Timedelta(days=1), pandas.Timedelta(hours=-5), pandas.Timedelta(minutes=90, seconds=1)],
    ids=str,
)
def test_add_sub_timedelta(compare, which, delta):
    compare(lambda pd: tcol(pd, which) + pd.Timedelta(delta))
    compare(lambda pd: pd.Timedelta(delta) + tcol(pd, which))
    compare(lambda pd: tcol(pd, which) - pd.Timedelta(delta))


def test_timedelta_constructor_forms(compare):
    compare(lambda pd: tcol(pd, "tn") + pd.Timedelta("2h"))
    compare(lambda pd: tcol(pd, "t") - pd.Timedelta(1, unit="D"))


def test_datetime_minus_datetime(compare):
    def case(pd):
        df = frame(pd, tn=np.array(WITH_NAT, dtype="datetime64[ns]"))
        return df["t"] - df["tn"]

    compare(case)


def test_datetime_minus_timestamp(compare):
    compare(lambda pd: tcol(pd, "tn") - pd.Timestamp("2024-01-01"))
    compare(lambda pd: pd.Timestamp("2024-06-01") - tcol(pd, "t"))


@pytest.mark.parametrize("field", ["days", "seconds"])
def test_timedelta_fields(compare, field):
    def case(pd):
        df = frame(pd, tn=np.array(WITH_NAT, dtype="datetime64[ns]"))
        return getattr((df["t"] - df["tn"]).dt, field)

    compare(case)


def test_timedelta_arithmetic(compare):
    def case(pd):
        df = frame(pd, tn=np.array(WITH_NAT, dtype="datetime64[ns]"))
        d = df["tn"] - df["t"].min()
        return [d / pd.Timedelta(hours=1), d // pd.Timedelta(days=1), d * 2, -d, abs(d)]

    compare(case)


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_compare_with_timestamp(compare, which, op):
    import operator

    compare(lambda pd: getattr(operator, op)(tcol(pd, which), pd.Timestamp("2024-03-10 06:15")))


def test_compare_datetime_columns(compare):
    def case(pd):
        df = frame(pd, tn=np.array(WITH_NAT, dtype="datetime64[ns]"))
        return [df["t"] == df["tn"], df["t"] > df["tn"], df["t"] != df["tn"]]

    compare(case)


def test_compare_with_string_date(compare):
    compare(lambda pd: tcol(pd, "tn") >= "2024-06-01")


def test_between_timestamps(compare):
    compare(
        lambda pd: tcol(pd, "tn").between(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-06-30"))
    )


def test_datetime_plus_int_raises(compare):
    compare(lambda pd: tcol(pd, "t") + 1)


def test_datetime_plus_datetime_raises(compare):
    def case(pd):
        df = frame(pd)
        return df["t"] + df["t"]

    compare(case)


def test_dt_on_numbers_raises(compare):
    compare(lambda pd: frame(pd)["i"].dt.year)


def test_timedelta_field_on_datetime_raises(compare):
    compare(lambda pd: tcol(pd, "t").dt.days)


def test_dt_methods_chain(compare):
    def case(pd):
        df = frame(pd, tn=np.array(WITH_NAT, dtype="datetime64[ns]"))
        shifted = df["tn"] + pd.Timedelta(days=1)
        return shifted.dt.normalize().dt.day * 100 + shifted.dt.hour

    compare(case)


def test_datetime_isna_fillna(compare):
    compare(lambda pd: tcol(pd, "tn").isna())
    compare(lambda pd: tcol(pd, "tn").fillna(pd.Timestamp("2000-01-01")))


def test_datetime_filter_by_field(compare):
    def case(pd):
        df = frame(pd)
        return df[df["t"].dt.year == 2024][["i", "t"]]

    compare(case)


def test_untraced_dt_method_falls_back():
    data = {"t": pandas.to_datetime(["2024-01-05 10:30", None])}
    with litsdf.option_context(fallback="warn"):
        with pytest.warns(litsdf.FallbackWarning):
            got = litsdf.DataFrame(data)["t"].dt.isocalendar()
        pandas.testing.assert_frame_equal(
            got.to_pandas(), pandas.DataFrame(data)["t"].dt.isocalendar()
        )


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize(
    "call",
    [
        ("floor", ("D",), {}),
        ("ceil", ("h",), {}),
        ("round", ("15min",), {}),
        ("strftime", ("%Y/%m/%d %H",), {}),
        ("day_name", (), {}),
        ("month_name", (), {}),
        ("tz_localize", ("UTC",), {}),
        ("floor", ("bogus",), {}),
        ("total_seconds", (), {}),
    ],
    ids=lambda c: f"{c[0]}{c[1]!r}",
)
def test_dt_methods(compare, which, call):
    name, args, kwargs = call
    compare(lambda pd: getattr(tcol(pd, which).dt, name)(*args, **kwargs))


def test_dt_tz_convert_and_timedelta_methods(compare):
    compare(lambda pd: tcol(pd, "tn").dt.tz_localize("UTC").dt.tz_convert("Asia/Tokyo").dt.hour)

    def case(pd):
        df = frame(pd, tn=np.array(WITH_NAT, dtype="datetime64[ns]"))
        d = df["tn"] - df["t"].min()
        return d.dt.total_seconds(), d.dt.floor("D"), d.dt.round("h")

    compare(case)
