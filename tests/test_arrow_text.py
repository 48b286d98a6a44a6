"""The arrow backend's text path: what the differential suite does not show.

Shared sub-expressions computed once, a large ``Compute`` split over row slices in threads
(and the pieces glued in order), the selection of text plans under ``backend="auto"``, and
the declines of ufuncs and maps it does not reproduce.
"""

from __future__ import annotations

import os
import select
import signal
import threading

import numpy as np
import pandas
import pytest

import litsdf
from litsdf_compiler import engine
from litsdf_compiler.backends.arrow import BACKEND as ARROW
from litsdf_compiler.backends.arrow import threads
from litsdf_compiler.backends.preference import Settings
from litsdf_compiler.ir import expressions as ex
from litsdf_compiler.ir import strings as st
from litsdf_compiler.lower import Compute, lower, physical_nodes

pa = pytest.importorskip("pyarrow")


def _text(pd, n: int):
    rng = np.random.default_rng(3)
    words = np.array(["Ab,", "cD", "é!", "--", "x y", ""])
    text = [" ".join(rng.choice(words, 3)) for _ in range(n)]
    text[::7] = [None] * len(text[::7])
    return pd.DataFrame(
        {"text": pandas.array(text, dtype="str"), "k": rng.choice(["a", "b", "c"], n)}
    )


def _program(pd, n: int = 3_000):
    df = _text(pd, n)
    clean = df["text"].fillna("").str.lower().str.replace(r"[^a-z ]+", " ", regex=True)
    clean = clean.str.strip()
    return df.assign(
        clean=clean, n=clean.str.count(" ") + 1, length=clean.str.len(), m=df["k"].map({"a": 1})
    )


def test_shared_subexpressions_are_steps():
    """A chain used by three outputs is computed once: one step, read by the outputs."""
    clean = st.StrStrip(st.StrCase(ex.FillNa(ex.Col("t"), ex.Lit("")), "lower"))
    outputs = [("c", clean), ("n", st.StrLen(clean)), ("m", st.StrMethod(clean, "count", (" ",)))]
    steps, rewritten = threads.shared_steps(outputs)
    assert [e for _, e in steps] == [clean]
    ((temp, _),) = steps
    assert rewritten[0] == ("c", ex.Col(temp))
    assert rewritten[1] == ("n", st.StrLen(ex.Col(temp)))
    assert threads.shared_steps([("a", ex.Col("t")), ("b", clean)]) == (
        [],
        [("a", ex.Col("t")), ("b", clean)],
    )


def test_large_compute_runs_over_slices_in_threads():
    """With the split forced, each computed column is the slices' pieces in order (one chunk
    per slice, of different threads) and the result equals pandas."""
    seen: set[str] = set()
    from litsdf_compiler.backends.arrow import expressions

    def evaluate(e, column, length):
        seen.add(threading.current_thread().name)
        return expressions.evaluate(e, column, length)

    table = {"t": pa.array(["Ab", None, "cD", "é"] * 10, type=pa.large_string())}
    outputs = [("n", st.StrLen(ex.FillNa(ex.Col("t"), ex.Lit("")))), ("t", ex.Col("t"))]
    with threads.parallelism(min_rows=1, workers=4):
        out = threads.evaluate_all(outputs, table.__getitem__, 40, evaluate)
    assert out["t"] is table["t"]  # (an input column is not cut and glued)
    assert out["n"].num_chunks == 4
    assert out["n"].to_pylist() == [2, 0, 2, 1] * 10
    assert len({name for name in seen if name.startswith("litsdf-arrow")}) >= 2
    with threads.parallelism(min_rows=1, workers=3):
        got = _program(litsdf)
        with litsdf.option_context(backend="arrow", fallback="raise"):
            pandas.testing.assert_frame_equal(got.to_pandas(), _program(pandas))


def test_pieces_of_ints_and_floats_are_floats():
    """A slice where an integer result has a missing value is float64 (pandas' dtype for the
    whole column): the pieces are all float64."""
    ints, floats = pa.array([1, 2]), pa.array([np.nan, 3.0])
    glued = threads.concat([ints, floats])
    assert glued.type == pa.float64()
    assert glued.to_pylist()[:2] == [1.0, 2.0] and glued.to_pylist()[3] == 3.0
    with pytest.raises(TypeError, match="different types"):
        threads.concat([ints, pa.array(["a"])])


def test_the_text_chain_runs_in_arrow():
    """The whole chain is one Compute on arrow (no pandas island), its map a lookup."""
    with litsdf.option_context(backend="arrow", fallback="raise"):
        got = _program(litsdf)
        optimized, _, _ = engine.prepare(got._plan, True)
        root = lower(optimized)
        assert ARROW.supports(optimized)
        kinds = {type(n).__name__ for n in physical_nodes(root)}
        assert "PandasCall" not in kinds and Compute.__name__ in kinds


def test_auto_prefers_arrow_for_large_text_plans():
    """Under auto, a plan with str methods over >= arrow_min_rows rows runs on arrow (before
    numba and pandas), with the reason; below it, arrow states no preference."""
    big = litsdf.DataFrame(_text(pandas, 1_000))
    with litsdf.option_context(backend="auto", arrow_min_rows=500):
        _, decision = engine.execute(big["text"].str.lower()._plan)
        assert decision.backend == "arrow"
        assert "StrCase" in decision.reason and "arrow_min_rows=500" in decision.reason
    plan = big["text"].str.lower()._plan
    defaults = Settings("arrow", ARROW.settings)
    assert ARROW.preference(plan, 99_999, defaults) is None
    assert ARROW.preference(plan, 100_000, defaults) is not None
    assert ARROW.preference((big["k"] == "a")._plan, 10**7, defaults) is None


@pytest.mark.parametrize(
    ("program", "reason"),
    [
        (lambda pd: np.add(pd.DataFrame({"a": [1.0]})["a"], 1.0), "np.add of 2 inputs"),
        (lambda pd: np.log1p(pd.DataFrame({"a": [True]})["a"]), "np.log1p of bool"),
        (lambda pd: np.sqrt(pd.DataFrame({"a": ["x"]})["a"]), "np.sqrt of str"),
        (lambda pd: pd.DataFrame({"a": ["x"]})["a"].map({"x": True}), "map to values [True]"),
        (lambda pd: pd.DataFrame({"a": ["x"]})["a"].map({"x": None}), "map to values [None]"),
        (lambda pd: pd.DataFrame({"a": [1]})["a"].map({1: 2}), "map of int64"),
        (lambda pd: pd.DataFrame({"a": ["x", None]})["a"].map({None: 1}), "string keys only"),
    ],
)
def test_declines_ufuncs_and_maps_with_the_reason(program, reason):
    verdict = ARROW.supports(engine.prepare(program(litsdf)._plan, False)[0])
    assert not verdict
    assert reason in verdict.reason


def test_parallelism_rejects_bad_values():
    with pytest.raises(ValueError, match="workers=0"), threads.parallelism(workers=0):
        pass
    with pytest.raises(ValueError, match="min_rows=0"), threads.parallelism(min_rows=0):
        pass
    assert threads.min_rows() == threads.MIN_ROWS


def test_numpy_error_state_holds_in_the_workers():
    """``np.errstate(invalid="raise")`` makes pandas' ``np.log`` of a negative raise
    FloatingPointError; so does the arrow backend's, over slices in threads."""

    def program(pd):
        return np.log(pd.DataFrame({"x": [-1.0, 2.0, 3.0, 4.0]})["x"])

    with np.errstate(invalid="raise"), pytest.raises(FloatingPointError):
        program(pandas)
    arrow = litsdf.option_context(backend="arrow", fallback="raise")
    sliced = threads.parallelism(min_rows=1, workers=2)
    with sliced, np.errstate(invalid="raise"), arrow, pytest.raises(FloatingPointError):
        program(litsdf).to_pandas()


def test_ascii_check_reads_only_the_strings_bytes():
    """``is_ascii`` of a slice looks at the bytes its offsets span: a non-ASCII value outside
    the slice does not count, one inside does (the ascii_* kernels then do not run)."""
    from litsdf_compiler.backends.arrow.strings import is_ascii

    values = pa.array(["ab", "é", "cd", None, ""], type=pa.large_string())
    assert is_ascii(values.slice(2)) and is_ascii(values.slice(0, 1))
    assert not is_ascii(values) and not is_ascii(values.slice(1, 2))
    assert is_ascii(pa.chunked_array([values.slice(2), values.slice(0, 1)]))
    assert is_ascii(pa.array([], type=pa.string()))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_runs_the_split_work():
    """After the pool exists, a forked child (whose copy of the pool has no threads) still
    evaluates a split Compute: it makes its own pool."""
    table = {"t": pa.array(["Ab", None, "cD", "é"] * 10, type=pa.large_string())}
    outputs = [("n", st.StrLen(ex.FillNa(ex.Col("t"), ex.Lit(""))))]
    from litsdf_compiler.backends.arrow import expressions

    with threads.parallelism(min_rows=1, workers=2):
        threads.evaluate_all(outputs, table.__getitem__, 40, expressions.evaluate)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # (the child: report the result's length, then leave at once)
            out = threads.evaluate_all(outputs, table.__getitem__, 40, expressions.evaluate)
            os.write(write, str(len(out["n"])).encode())
            os._exit(0)
        os.close(write)
        ready, _, _ = select.select([read], [], [], 60)
        if not ready:  # (the child hangs: work queued on a pool without threads)
            os.kill(pid, signal.SIGKILL)
        with os.fdopen(read) as pipe:
            got = pipe.read() if ready else ""
        _, status = os.waitpid(pid, 0)
    assert got == "40" and status == 0
