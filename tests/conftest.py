"""The differential harness: every behaviour test is pandas code run on pandas and on each
available litsdf backend (strict: no fallback allowed), compared with ``pandas.testing``:
exactly, except the float values computed by a float reduction that ran in the case's plan
(``tests/comparison.py``)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas
import pytest

import litsdf

from .comparison import TOLERATED, assert_matches, assert_same, executed_plans, ran_pandas_islands
from .ledger import plugin as ledger

__all__ = ["BACKENDS", "MODES", "Compare", "assert_same", "to_pandas"]

BACKENDS = [b.name for b in litsdf.backends() if b.available]
#: the backends with a decline ledger (tests/ledger/<backend>.txt); pandas never declines
COMPILED = [b.name for b in litsdf.backends() if b.name != "pandas"]


def pytest_addoption(parser: pytest.Parser) -> None:
    ledger.add_option(parser)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TOLERATED["cases"]:
        terminalreporter.write_line(
            f"{TOLERATED['cases']} comparisons passed with the float-reduction tolerance "
            "(exact comparison failed; a float reduction ran: tests/comparison.py)"
        )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: longer tests")
    ledger.install(config, Path(__file__).parent / "ledger", COMPILED)
    # hermetic size thresholds: a profile saved by `litsdf calibrate` on this machine must not
    # change which backend "auto" picks in tests
    os.environ["LITSDF_PROFILE"] = os.path.join(
        tempfile.mkdtemp(prefix="litsdf-test-"), "profile.json"
    )


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
        with self._declines_skip(), executed_plans() as plans:
            got = self._run(fn)
        assert_matches(got, expected, plans)
        if self.backend in COMPILED:
            ledger.islands(self.config, self.backend, ran_pandas_islands(plans, self.backend))

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
