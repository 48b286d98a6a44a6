"""The ``arrow`` backend: what the differential suite does not show.

Which physical nodes it runs natively (not by pandas' shared implementations), the parquet
scan's column projection, the error for a parquet file that became unreadable, Arrow's
threads, the selection under ``backend="auto"``, and its declines with reasons.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas
import pytest

import litsdf
from litsdf_compiler import engine
from litsdf_compiler.backends.arrow import BACKEND as ARROW
from litsdf_compiler.backends.base import Backend
from litsdf_compiler.backends.preference import Settings
from litsdf_compiler.ir import relations as rel
from litsdf_compiler.lower import Scan, lower, physical_nodes

pa = pytest.importorskip("pyarrow")


def _frame(pd, n: int = 2_000):
    rng = np.random.default_rng(5)
    x = rng.random(n)
    x[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "k": rng.integers(0, 7, n),
            "s": rng.choice(["apple", "Banana", "cherry", "date"], n),
            "x": x,
            "q": rng.integers(-(2**62), 2**62, n),
        }
    )


def _program(pd):
    df = _frame(pd)
    df = df[(df["x"] > 0.2) | df["x"].isna()]
    df = df.assign(y=df["q"] + df["q"], z=df["x"].fillna(0.5) * 2, u=df["s"].str.upper())
    out = df.groupby(["k", "u"])[["y", "z"]].sum()
    return out


def _run(program):
    """``program(litsdf)`` on arrow (strict), and its physical plan (lowered before it runs:
    a materialized value is a cached Source afterwards)."""
    with litsdf.option_context(backend="arrow", fallback="raise"):
        got = program(litsdf)
        optimized, _, _ = engine.prepare(got._plan, True)
        root = lower(optimized)
        assert ARROW.supports(optimized)
        return got.to_pandas(), root


def test_relational_plan_runs_natively():
    """Filter, Compute (int64 overflow wraps, NaN filled, str.upper) and a two-key GroupAgg
    all run by Arrow's kernels (no pandas island, no shared pandas implementation) and
    equal pandas (the int64 sums wrap as NumPy's do)."""
    expected = _program(pandas)
    got, root = _run(_program)
    pandas.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)
    kinds = {type(n).__name__ for n in physical_nodes(root)}
    assert {"Scan", "Filter", "Compute", "GroupAgg"} <= kinds
    assert "PandasCall" not in kinds
    shared = {Backend.pandas_call, Backend.group_agg, Backend.order_by}
    for kind in kinds - {"Finalize"}:
        assert getattr(type(ARROW), f"visit_{kind}") not in shared, kind


def test_stable_sort_with_missing_keys():
    """A several-key stable sort with NaN and missing strings, na_position first."""

    def program(pd):
        df = _frame(pd, 500)
        df = df.assign(s=df["s"].where(df["k"] != 3))
        return df.sort_values(["s", "x"], ascending=[False, True], na_position="first")

    got, root = _run(program)
    pandas.testing.assert_frame_equal(got, program(pandas))
    assert "OrderBy" in {type(n).__name__ for n in physical_nodes(root)}


def _parquet(tmp_path: Path) -> str:
    path = tmp_path / "wide.parquet"
    _frame(pandas, 300).assign(w=np.arange(300) * 1.5).to_parquet(path)
    return str(path)


def test_parquet_scan_reads_only_the_scan_columns(tmp_path):
    """After projection pushdown the Scan of a parquet file names two columns, and the
    backend's table holds exactly those, as Arrow arrays read by pyarrow.dataset."""
    path = _parquet(tmp_path)

    def program(pd):
        df = pd.read_parquet(path)
        return df[df["k"] > 2][["k", "x"]]

    got, root = _run(program)
    pandas.testing.assert_frame_equal(got, program(pandas))
    (scan,) = [n for n in physical_nodes(root) if isinstance(n, Scan)]
    assert isinstance(scan.source, rel.ReadParquet)
    assert [label for label, _ in scan.columns] == ["k", "x"]
    table = ARROW.visit_Scan(scan)
    assert set(table.columns) == set(scan.names())
    assert all(isinstance(v, (pa.Array, pa.ChunkedArray)) for v in table.columns.values())


@pytest.mark.parametrize(
    "program",
    [
        lambda pd, path: pd.read_parquet(path, filters=[("k", "in", [1, 5]), ("x", ">", 0.5)]),
        lambda pd, path: pd.read_parquet(path, filters=[[("k", "==", 2)], [("s", "==", "date")]]),
    ],
    ids=["and", "or"],
)
def test_parquet_row_filters_are_read_by_the_dataset(tmp_path, program):
    """``read_parquet(filters=...)`` (as given here, or added by predicate pushdown) is read by the
    arrow Scan itself, with the expression pandas' pyarrow engine builds: same rows, order
    and index as pandas."""
    path = _parquet(tmp_path)
    got, root = _run(lambda pd: program(pd, path))
    pandas.testing.assert_frame_equal(got, program(pandas, path), check_exact=True)
    (scan,) = [n for n in physical_nodes(root) if isinstance(n, Scan)]
    assert isinstance(scan.source, rel.ReadParquet)
    assert "filters" in dict(scan.source.options)
    table = ARROW.visit_Scan(scan)
    assert len(table) == len(got)


def test_unreadable_parquet_file_names_the_file(tmp_path):
    """A parquet file truncated after the plan was lowered raises pyarrow's error type
    (pandas' own for such a file) with a message naming the file."""
    path = _parquet(tmp_path)
    plan = rel.ReadParquet(path)  # (no recorded version: a plan built elsewhere)
    assert ARROW.supports(plan)
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: len(data) // 2])
    with pytest.raises(pa.ArrowInvalid, match=r"wide\.parquet"):
        ARROW.execute(plan)
    with pytest.raises(pa.ArrowInvalid):
        pandas.read_parquet(path)


def test_changed_parquet_file_is_an_error(tmp_path):
    path = _parquet(tmp_path)
    df = litsdf.read_parquet(path)
    Path(path).write_bytes(Path(path).read_bytes()[:-10])
    with litsdf.option_context(backend="arrow"), pytest.raises(litsdf.FileChangedError):
        df.to_pandas()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_arrow_threads_run_the_aggregation():
    """Acero runs on Arrow's thread pool: with more than one CPU, running a large groupby
    leaves the process with Arrow's worker threads."""
    if pa.cpu_count() < 2:
        pytest.skip("one CPU: Arrow runs single-threaded")

    def program(pd):
        return _frame(pd, 200_000).groupby("k")[["x"]].mean()

    got, _ = _run(program)
    pandas.testing.assert_frame_equal(got, program(pandas), check_exact=False, rtol=1e-12)
    assert len(os.listdir("/proc/self/task")) > 1


def test_auto_prefers_arrow_for_large_relational_plans():
    """Under auto, a groupby over >= arrow_min_rows rows runs on arrow, with the reason; a
    small one and a plan without relational work do not ask for it."""
    big = litsdf.DataFrame(_frame(pandas, 1_000))
    with litsdf.option_context(backend="auto", arrow_min_rows=500):
        plan = big.groupby("k")[["x"]].sum()._plan
        _, decision = engine.execute(plan)
        assert decision.backend == "arrow"
        assert "arrow_min_rows=500" in decision.reason
    with litsdf.option_context(backend="auto", arrow_min_rows=5_000):
        _, decision = engine.execute(big.groupby("k")[["x"]].sum()._plan)
        assert decision.backend != "arrow"
    row_only = (big["x"] * 2)._plan
    defaults = Settings("arrow", ARROW.settings)
    assert ARROW.preference(row_only, 10**7, defaults) is None


@pytest.mark.parametrize(
    ("program", "reason"),
    [
        (lambda pd, p: pd.read_csv(p), "read_csv"),
        (lambda pd, p: pd.DataFrame({"a": [1, 2]})["a"] // 2, "floordiv"),
        (lambda pd, p: pd.DataFrame({"a": [1.0, 2.0]})["a"].round(1), "Round"),
        (lambda pd, p: pd.DataFrame({"a": [1.5, 2.5]})["a"].astype("int64"), "astype"),
    ],
)
def test_declines_with_the_reason(tmp_path, program, reason):
    path = tmp_path / "a.csv"
    pandas.DataFrame({"a": [1, 2]}).to_csv(path, index=False)
    value = program(litsdf, str(path))
    verdict = ARROW.supports(engine.prepare(value._plan, False)[0])
    assert not verdict
    assert reason in verdict.reason


def _arrow_parquet(tmp_path: Path) -> str:
    """A parquet file of ``_frame`` with a timestamp column and nulls, read back with
    ``dtype_backend="pyarrow"`` by the programs below."""
    frame = _frame(pandas, 3_000)
    frame["t"] = pandas.Timestamp("2024-01-01") + pandas.to_timedelta(np.arange(3_000), unit="h")
    frame.loc[::11, "s"] = None
    path = tmp_path / "arrow.parquet"
    frame.to_parquet(path)
    return str(path)


def test_arrow_dtype_plan_runs_natively(tmp_path):
    """A plan over ArrowDtype columns (``dtype_backend="pyarrow"``): the parquet Scan holds the
    dataset's Arrow arrays, the Filter (timestamp range, a Kleene mask with nulls), Compute,
    two-key GroupAgg (Acero's, not pandas' groupby) and OrderBy (Arrow's sort) all run by the
    arrow backend, and the result has pandas' ArrowDtype columns."""
    from litsdf_compiler.backends.arrow.groupby import check_order_by, native_group_agg
    from litsdf_compiler.lower import GroupAgg, OrderBy

    path = _arrow_parquet(tmp_path)

    def program(pd):
        df = pd.read_parquet(path, dtype_backend="pyarrow")
        df = df[(df["t"] >= pandas.Timestamp("2024-02-01")) & ((df["x"] > 0.2) | (df["k"] < 3))]
        df = df.assign(y=df["x"] * (1 - df["k"]), u=df["s"].str.upper())
        df = df.sort_values(["u", "y"], ascending=[False, True], na_position="first")
        return df.groupby(["k", "u"], sort=False)[["y", "q"]].sum()

    expected = program(pandas)
    got, root = _run(program)
    pandas.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)
    assert all(isinstance(d, pandas.ArrowDtype) for d in got.dtypes)
    nodes = list(physical_nodes(root))
    kinds = {type(n).__name__ for n in nodes}
    assert {"Scan", "Filter", "Compute", "GroupAgg", "OrderBy"} <= kinds
    assert "PandasCall" not in kinds
    (agg,) = [n for n in nodes if isinstance(n, GroupAgg)]
    assert native_group_agg(agg), native_group_agg(agg).reason
    (order,) = [n for n in nodes if isinstance(n, OrderBy)]
    assert check_order_by(order)
    (scan,) = [n for n in nodes if isinstance(n, Scan)]
    table = ARROW.visit_Scan(scan)
    assert all(isinstance(v, pa.ChunkedArray) for v in table.columns.values())


@pytest.mark.parametrize(
    ("program", "reason"),
    [
        (lambda pd, f: np.log(pd.DataFrame(f)["x"]), "Ufunc of an ArrowDtype column"),
        (lambda pd, f: pd.DataFrame(f)["d"] + 1, "dtype decimal128"),
        (lambda pd, f: pd.DataFrame(f).assign(z=lambda d: d["k"] + d["s"].str.len()), "beside"),
    ],
    ids=["ufunc", "decimal", "default-str"],
)
def test_arrow_dtype_declines_with_the_reason(program, reason):
    """An ArrowDtype expression it does not compute as pandas' own Arrow kernels do is
    declined, naming what (a NumPy ufunc, an Arrow type outside its families, pandas'
    default ``str`` column beside ArrowDtype ones)."""
    import decimal

    frame = pandas.DataFrame(
        {
            "x": pandas.array([1.0, None], dtype="double[pyarrow]"),
            "d": pandas.array(
                [decimal.Decimal("1.5"), None], dtype=pandas.ArrowDtype(pa.decimal128(5, 2))
            ),
            "k": pandas.array([1, 2], dtype="int64[pyarrow]"),
            "s": ["a", "bc"],
        }
    )
    value = program(litsdf, frame)
    verdict = ARROW.supports(engine.prepare(value._plan, False)[0])
    assert not verdict
    assert reason in verdict.reason
