"""The numba backend: what it accepts, its disk cache across processes, NaN/dtype edge cases
and groupby kernels against pandas."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas
import pytest

import litsdf
from litsdf_compiler.backends import get_backend
from litsdf_compiler.engine import BackendDeclined

from .conftest import assert_same

pytest.importorskip("numba")

BACKEND = get_backend("numba")


def _frame(pd):
    return pd.DataFrame(
        {
            "f": [1.5, np.nan, -2.0, 0.0, 3.25, np.inf, -0.5, np.nan],
            "i": np.array([1, 0, -3, 4, 2**62, 7, -1, 0], dtype="int64"),
            "j": np.array([2, 5, 1, 0, 3, 3, 2, 1], dtype="int32"),
            "b": [True, False, True, True, False, True, False, False],
            "k": ["x", "y", None, "x", "y", "z", "x", None],
            "g": np.array([1, 2, 1, 2, 3, 1, 3, 2], dtype="int64"),
        }
    )


def _same(fn):
    expected = fn(pandas)
    with litsdf.option_context(backend="numba", fallback="raise"):
        got = fn(litsdf)
        got = got.to_pandas() if hasattr(got, "to_pandas") else got
    assert_same(got, expected)


def _plan(fn):
    return fn(litsdf)._plan


def test_numba_is_not_imported_by_litsdf():
    code = "import sys, litsdf; litsdf.backends(); print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_available_and_listed():
    assert BACKEND.available()
    assert "numba" in [b.name for b in litsdf.backends()]


@pytest.mark.parametrize(
    "make",
    [
        lambda pd: _frame(pd).assign(x=lambda d: np.log1p(d["f"].fillna(0).clip(0, 2))),
        lambda pd: _frame(pd)[lambda d: d["f"] > 0],
        lambda pd: _frame(pd).groupby("g").agg(m=("f", "mean"), n=("i", "count")),
        lambda pd: _frame(pd).sort_values("i").head(3),
        lambda pd: _frame(pd).assign(u=lambda d: d["k"].str.upper()),
    ],
)
def test_accepted(make):
    assert BACKEND.supports(_plan(make))


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda pd: _frame(pd).assign(x=lambda d: d["f"].astype("int64")), "float to integer"),
        (lambda pd: _frame(pd).assign(x=lambda d: d["i"].where(d["b"])), "where"),
        (lambda pd: _frame(pd).assign(x=lambda d: d["i"] // d["j"]), "floordiv"),
        (lambda pd: _frame(pd).groupby(["g", "b"]).sum(), "several keys"),
        (lambda pd: _frame(pd).groupby("g")["f"].median(), "median"),
    ],
)
def test_declined_with_reason(make, why):
    verdict = BACKEND.supports(_plan(make))
    assert not verdict and why in verdict.reason
    with litsdf.option_context(backend="numba", fallback="raise"), pytest.raises(BackendDeclined):
        make(litsdf).to_pandas()


@pytest.mark.parametrize(
    "expr",
    [
        "d['i'] + d['j']",
        "d['i'] * 4",  # 2**62 * 4 wraps like NumPy
        "d['i'] / d['j']",  # int / int -> float64, x/0 -> inf, 0/0 -> nan
        "d['f'] / 0",
        "d['i'] // 3",
        "d['i'] % -3",
        "d['j'] ** 2",
        "d['f'] ** 0.5",
        "d['f'] ** 3",
        "d['f'] == d['f']",
        "d['f'] != 1.5",
        "d['f'] < d['i']",
        "(d['f'] > 0) & d['b'] | ~d['b']",
        "d['f'].isna() ^ d['b']",
        "-d['j']",
        "abs(d['f'])",
        "np.sqrt(d['f'])",
        "np.exp(d['i'] % 5)",
        "np.floor(d['f'])",
        "np.sign(d['f'])",
        "np.maximum(d['f'], d['j'])",
        "d['f'].fillna(-1)",
        "d['i'].fillna(0.5)",
        "d['f'].clip(3, -1)",
        "d['j'].clip(None, 2)",
        "d['f'].round(1)",
        "d['f'].round(-1)",
        "d['f'].between(-1, 2, inclusive='neither')",
        "d['f'].isin([1.5, np.nan])",
        "d['i'].isin([0, 7, 2.5])",
        "d['f'].where(d['b'])",
        "d['f'].mask(d['b'], d['f'] * 2)",
        "d['j'].astype('float32') + 1",
        "d['i'].astype('int8')",
        "d['f'].astype(bool)",
        "d['k'].str.len()",
        "d['k'].str.contains('x', regex=False) | d['b']",
        "d['k'] == 'x'",
        "d['k'].isna()",
    ],
)
def test_expression_edge_cases(expr):
    _same(lambda pd: _frame(pd).assign(out=lambda d: eval(expr, {"np": np, "d": d})))


def test_filter_then_assign_keeps_index_and_order():
    def case(pd):
        df = _frame(pd)
        df["x"] = df["f"] * 2
        df = df[df["x"] > -3]
        df["y"] = df["x"] + df["i"]
        df = df[df["b"]]
        return df[["y", "k", "x"]]

    _same(case)


@pytest.mark.parametrize("func", ["sum", "mean", "count", "min", "max", "std", "var", "size"])
@pytest.mark.parametrize("dropna", [True, False])
def test_groupby_kernels_match_pandas(func, dropna):
    def case(pd):
        df = _frame(pd)
        return getattr(df.groupby("k", dropna=dropna)[["f", "i", "j"]], func)()

    _same(case)


@pytest.mark.parametrize("as_index", [True, False])
def test_groupby_named_and_nunique(as_index):
    _same(
        lambda pd: (
            _frame(pd)
            .groupby("g", as_index=as_index)
            .agg(a=("f", "sum"), b=("k", "nunique"), c=("b", "max"), d=("f", "std"))
        )
    )


def test_groupby_float_sum_is_kahan_compensated():
    rng = np.random.default_rng(0)
    data = {"g": rng.integers(0, 3, 10_000), "v": rng.normal(0, 1e8, 10_000) + 0.1}
    _same(lambda pd: pd.DataFrame(data).groupby("g")["v"].sum())
    _same(lambda pd: pd.DataFrame(data).groupby("g")["v"].mean())


def test_kernel_loaded_from_disk_in_second_process(tmp_path):
    script = textwrap.dedent(
        """
        import time, numpy as np, litsdf
        df = litsdf.DataFrame({"a": np.arange(1000.0), "b": np.arange(1000)})
        df["c"] = np.log1p(df["a"].clip(1, 50)) * df["b"] - 0.25
        t = time.perf_counter()
        with litsdf.option_context(backend="numba", fallback="raise"):
            df[df["c"] > 3].to_pandas()
        print(time.perf_counter() - t)
        """
    )
    env = {**os.environ, "LITSDF_CACHE_DIR": str(tmp_path)}

    def run() -> float:
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        )
        return float(out.stdout.strip())

    first = run()
    modules = list((tmp_path / "numba").glob("litsdf_k_*.py"))
    assert modules, "the generated kernel module is written to the cache directory"
    cached = list((tmp_path / "numba").rglob("*.nbi"))
    assert cached, "numba's on-disk cache index is next to it"
    second = run()
    assert second < first  # loaded, not compiled again
