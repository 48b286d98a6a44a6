"""The differential harness: every behaviour test is pandas code run on pandas and on each
available litsdf backend (strict: no fallback allowed), compared with ``pandas.testing``."""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas
import pytest

import litsdf

from .ledger import plugin as ledger

BACKENDS = [b.name for b in litsdf.backends() if b.available]
#: the backends with a decline ledger (tests/ledger/<backend>.txt); pandas never declines
COMPILED = [b.name for b in litsdf.backends() if b.name != "pandas"]


def pytest_addoption(parser: pytest.Parser) -> None:
    ledger.add_option(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: longer tests")
    ledger.install(config, Path(__file__).parent / "ledger", COMPILED)
    # hermetic size thresholds: a profile saved by `litsdf calibrate` on this machine must not
    # change which backend "auto" picks in tests
    os.environ["LITSDF_PROFILE"] = os.path.join(
        tempfile.mkdtemp(prefix="litsdf-test-"), "profile.json"
    )


def assert_same(got: Any, expected: Any) -> None:
    """``got`` (litsdf, already converted) equals ``expected`` (pandas) exactly."""
    if isinstance(expected, pandas.DataFrame):
        assert isinstance(got, pandas.DataFrame), f"expected a DataFrame, got {type(got)}"
        pandas.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)
    elif isinstance(expected, pandas.Series):
        assert isinstance(got, pandas.Series), f"expected a Series, got {type(got)}"
        pandas.testing.assert_series_equal(got, expected, check_exact=False, rtol=1e-12)
    elif isinstance(expected, pandas.Index):
        pandas.testing.assert_index_equal(got, expected)
    elif isinstance(expected, np.ndarray):
        assert isinstance(got, np.ndarray) and got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
    elif isinstance(expected, (list, tuple, dict)):
        assert type(got) is type(expected)
        assert len(got) == len(expected)
        pairs = (
            zip(got.items(), expected.items()) if isinstance(expected, dict) else zip(got, expected)
        )
        for g, e in pairs:
            assert_same(g, e)
    else:
        assert type(got) is type(expected), f"type {type(got)} != {type(expected)}"
        if isinstance(expected, float) and math.isnan(expected):
            assert math.isnan(got)
        elif expected is pandas.NA or expected is pandas.NaT:
            assert got is expected
        else:
            assert got == expected or (
                isinstance(expected, (float, np.floating))
                and math.isclose(got, expected, rel_tol=1e-12)
            ), f"{got!r} != {expected!r}"


def to_pandas(value: Any) -> Any:
    """Convert litsdf results (also inside containers) to pandas objects."""
    if isinstance(value, (litsdf.DataFrame, litsdf.Series)):
        return value.to_pandas()
    if isinstance(value, tuple):
        return tuple(to_pandas(v) for v in value)
    if isinstance(value, list):
        return [to_pandas(v) for v in value]
    if isinstance(value, dict):
        return {k: to_pandas(v) for k, v in value.items()}
    return value


class Compare:
    """Runs a case ``fn(pd)`` with real pandas and with litsdf on one backend (optimizer on or
    off), and compares."""

    def __init__(self, config: pytest.Config, backend: str, optimize: bool = True) -> None:
        self.config = config
        self.backend = backend
        self.optimize = optimize
        self.cases = 0

    def __call__(self, fn: Callable[[Any], Any]) -> None:
        self.cases += 1
        try:
            expected = fn(pandas)
        except Exception as err:  # pandas raises: litsdf must raise the same type
            with self._declines_skip(), pytest.raises(type(err)):
                self._run(fn)
            return
        with self._declines_skip():
            got = self._run(fn)
        assert_same(got, expected)

    def _run(self, fn: Callable[[Any], Any]) -> Any:
        with litsdf.option_context(backend=self.backend, fallback="raise", optimize=self.optimize):
            return to_pandas(fn(litsdf))

    @contextlib.contextmanager
    def _declines_skip(self) -> Iterator[None]:
        """A compiled backend may decline a plan it cannot run exactly (a clean decline, never
        a wrong answer): the case is skipped with the backend's reason and recorded in the
        decline ledger (``tests/ledger/``). The pandas backend is the reference and must never
        decline."""
        if self.backend == "pandas":
            yield
        else:
            with ledger.declines(self.config, self.backend):
                yield


MODES = [(b, opt) for b in BACKENDS for opt in (True, False)]


@pytest.fixture(params=MODES, ids=[f"{b}-{'opt' if o else 'noopt'}" for b, o in MODES])
def compare(request: pytest.FixtureRequest) -> Compare:
    """``compare(lambda pd: ...)`` checks litsdf on this backend, with the optimizer on and
    off, against pandas."""
    backend, optimize = request.param
    for mark in request.node.iter_markers("xfail_backend"):
        if mark.args[0] == backend:
            request.applymarker(
                pytest.mark.xfail(strict=True, reason=mark.kwargs.get("reason", ""))
            )
    return Compare(request.config, backend, optimize)
