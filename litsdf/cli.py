"""``litsdf`` command line: ``litsdf demo``, ``litsdf backends`` and ``litsdf calibrate``."""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["main", "sample_sales", "pipeline"]


def sample_sales(n: int = 200_000, seed: int = 0) -> Any:
    """A deterministic synthetic sales table (pandas) for the demo."""
    import pandas

    rng = np.random.default_rng(seed)
    qty = rng.integers(0, 12, n).astype("float64")
    qty[rng.random(n) < 0.05] = np.nan
    titles = np.array(["  Red Mug ", "blue MUG", " Green Pen  ", "PEN black", " notebook "])
    return pandas.DataFrame(
        {
            "order_id": np.arange(n),
            "region": rng.choice(["north", "south", "east", "west"], n),
            "cat": rng.choice(["mugs", "pens", "paper"], n),
            "title": titles[rng.integers(0, len(titles), n)],
            "price": np.round(rng.gamma(2.0, 12.0, n), 2),
            "qty": qty,
            "notes": np.array(["gift wrap", "", "express", "call first"])[rng.integers(0, 4, n)],
            "ts": pandas.Timestamp("2024-01-01")
            + pandas.to_timedelta(rng.integers(0, 365 * 24 * 3600, n), unit="s"),
        }
    )


def pipeline(pd: Any, path: str) -> Any:
    """The demo pipeline, written once in the pandas API (``pd`` is pandas or litsdf)."""
    df = pd.read_parquet(path)
    df["revenue"] = df["price"] * df["qty"].fillna(0)
    df["title"] = df["title"].str.lower().str.strip()
    df["month"] = df["ts"].dt.month
    big = df[(df["revenue"] > 100) & df["title"].str.contains("mug", regex=False)]
    out = big.groupby(["region", "cat"], as_index=False).agg(
        total=("revenue", "sum"), n=("qty", "count"), first_month=("month", "min")
    )
    return out.sort_values("total", ascending=False).head(10)


def _median_time(fn: Any, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[runs // 2]


def _demo(rows: int) -> int:
    import pandas

    import litsdf

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sales.parquet")
        sample_sales(rows).to_parquet(path)
        print(f"litsdf demo: {rows:,} synthetic sales rows in {path}\n")
        result = pipeline(litsdf, path)
        print(result.explain())
        got = result.to_pandas()
        print("\n== result ==")
        print(got.to_string())
        expected = pipeline(pandas, path)
        pandas.testing.assert_frame_equal(got, expected)
        print("\nidentical to pandas: yes (values, dtypes, index, order)")
        lit = _median_time(lambda: pipeline(litsdf, path).to_pandas())
        plain = _median_time(lambda: pipeline(pandas, path))
        print(
            f"median of 5 runs (trace + run): litsdf {lit * 1e3:.1f} ms, "
            f"plain pandas {plain * 1e3:.1f} ms (litsdf / pandas = {lit / plain:.2f}: the "
            "optimized plan ran on litsdf's pandas backend)"
        )
        print("fallbacks:", litsdf.fallback_counts() or "none")
    _demo_compiled(sample_sales(1_000))
    return 0


def features(df: Any) -> Any:
    """The demo's serving pipeline: row-wise features of one order (pandas API)."""
    df["title"] = df["title"].str.lower().str.strip()
    df["qty"] = df["qty"].fillna(0)
    df["revenue"] = df["price"] * df["qty"]
    df["log_revenue"] = np.log1p(df["revenue"]).clip(0, 8)
    df["region_id"] = df["region"].map({"north": 0, "south": 1, "east": 2, "west": 3})
    df["express"] = df["notes"].str.contains("express", regex=False)
    return df[df["revenue"] > 0]


def _demo_compiled(sample: Any) -> None:
    """``litsdf.compile``: the same pandas code on one row (row kernel) and on a batch."""
    import pandas

    import litsdf

    pipe = litsdf.compile(features, example=sample)
    row = sample.iloc[0].to_dict()
    print("\n== compiled pipeline: litsdf.compile(features) ==")
    print(pipe.explain().split("== backend ==")[0].rstrip())
    out = pipe.transform_row(row)
    one = pandas.DataFrame([row]).astype(sample.dtypes.to_dict())
    expected = features(one.copy()).to_dict("records")
    print("\ntransform_row(one order) ->", out)
    assert [out] == expected or (out is None and not expected), (out, expected)
    print("identical to pandas on the 1-row frame: yes")
    row_s = _median_time(lambda: [pipe.transform_row(row) for _ in range(1000)]) / 1000
    pandas_s = _median_time(lambda: features(one.copy()))
    pipe_s = _median_time(lambda: pipe(one))
    print(
        f"one row, median: transform_row {row_s * 1e6:.1f} us, pipe(1-row DataFrame) "
        f"{pipe_s * 1e6:.0f} us, pandas {pandas_s * 1e3:.2f} ms "
        f"({pandas_s / row_s:,.0f}x and {pandas_s / pipe_s:,.0f}x faster than pandas)"
    )
    batch = pipe(sample)
    pandas.testing.assert_frame_equal(batch, features(sample.copy()))
    print(
        f"pipe(1,000-row DataFrame) identical to pandas: yes (ran on "
        f"{pipe.explain(format='dict')['last_run']['backend']})"
    )


def _backends() -> int:
    import litsdf

    for b in litsdf.backends():
        print(f"{b.name:10s} {'available' if b.available else 'unavailable'}  {b.reason}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``litsdf`` command."""
    parser = argparse.ArgumentParser(prog="litsdf", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="trace, explain and run a sample pipeline vs pandas")
    demo.add_argument("--rows", type=int, default=200_000)
    sub.add_parser("backends", help="list the backends and their availability")
    cal = sub.add_parser(
        "calibrate",
        help="measure each backend's selection settings here and save them as a profile",
    )
    cal.add_argument("--quick", action="store_true", help="fewer, smaller sizes")
    cal.add_argument("--profile", default=None, help="where to write the profile")
    cal.add_argument("--dry-run", action="store_true", help="measure and print; save nothing")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return _demo(args.rows)
    if args.command == "calibrate":
        from .calibrate import calibrate

        calibrate(quick=args.quick, save=not args.dry_run, path=args.profile)
        return 0
    return _backends()


if __name__ == "__main__":
    raise SystemExit(main())
