"""Size-based backend selection: thresholds, the calibrated profile, ``litsdf calibrate``."""

from __future__ import annotations

import json

import numpy as np
import pandas
import pytest

import litsdf
from litsdf_compiler import engine, selector
from litsdf_compiler.ir.relations import DataRef, ReadCsv, Source


@pytest.fixture(autouse=True)
def _isolated_profile(tmp_path, monkeypatch):
    """Every test reads/writes its own profile and starts from the defaults."""
    monkeypatch.setenv("LITSDF_PROFILE", str(tmp_path / "profile.json"))
    selector._CURRENT.clear()
    yield
    selector._CURRENT.clear()


def test_estimate_rows_of_sources_parquet_and_csv(tmp_path):
    frame = pandas.DataFrame({"a": range(7)})
    assert selector.estimate_rows(Source(DataRef(frame))) == 7
    path = tmp_path / "t.parquet"
    pandas.DataFrame({"a": range(1234)}).to_parquet(path)
    plan = litsdf.read_parquet(path)[["a"]]._plan
    assert selector.estimate_rows(plan) == 1234
    assert selector.estimate_rows(ReadCsv(str(tmp_path / "x.csv"))) is None


@pytest.mark.parametrize(
    ("rows", "first"),
    [(1, "rows"), (1_000, "rows"), (1_001, "pandas"), (49_999, "pandas"), (50_000, "numba")],
)
def test_preference_by_size(rows, first):
    order, why = selector.preference(rows, selector.Thresholds(1_000, 50_000))
    assert order[0] == first
    assert str(rows) in why


def test_unknown_size_prefers_pandas():
    order, why = selector.preference(None)
    assert order == ("pandas",) and "unknown" in why


def test_auto_selection_names_the_size_rule():
    small = litsdf.DataFrame({"a": np.arange(3.0)})
    big = litsdf.DataFrame({"a": np.arange(200_000.0)})
    with litsdf.option_context(rows_max_rows=10, numba_min_rows=100_000):
        _, decision = engine.select((small["a"] * 2)._plan)
        assert "3 rows <= rows_max_rows=10" in decision.reason
        _, decision = engine.select((big["a"] * 2)._plan)
        assert "200000 rows >= numba_min_rows=100000" in decision.reason
    with litsdf.option_context(rows_max_rows=0, numba_min_rows=10**9):
        backend, decision = engine.select((small["a"] * 2)._plan)
        assert backend.name == "pandas" and "pandas" in decision.reason


def test_options_validate_thresholds():
    with pytest.raises(ValueError, match="non-negative integer"):
        litsdf.options.rows_max_rows = -1
    with pytest.raises(ValueError, match="non-negative integer"):
        litsdf.options.numba_min_rows = 1.5  # type: ignore[assignment]
    litsdf.options.rows_max_rows = 7
    assert litsdf.options.rows_max_rows == 7
    assert selector.thresholds().source == "set by the user"


def test_profile_round_trip_and_is_loaded(tmp_path):
    where = selector.save_profile(selector.Thresholds(33, 44_000), {"note": "test"})
    assert where == tmp_path / "profile.json"
    selector._CURRENT.clear()
    th = selector.thresholds()
    assert (th.rows_max_rows, th.numba_min_rows) == (33, 44_000)
    assert str(where) in th.source
    assert litsdf.options.rows_max_rows == 33


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "invalid JSON"),
        ('{"format": "other"}', "not a litsdf profile"),
        ('{"format": "litsdf-profile", "version": 99}', "version 99"),
        (
            '{"format": "litsdf-profile", "version": 1, "thresholds": {"rows_max_rows": -1}}',
            "non-negative integers",
        ),
    ],
)
def test_bad_profile_is_named_and_ignored(tmp_path, text, message):
    path = tmp_path / "profile.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as err:
        selector.load_profile(path)
    assert str(path) in str(err.value)
    with pytest.warns(UserWarning, match="ignoring the litsdf profile"):
        th = selector.thresholds()
    assert th == selector.Thresholds()


def test_calibrate_quick_writes_a_profile_the_selector_uses(tmp_path):
    from litsdf.calibrate import calibrate

    lines: list[str] = []
    found = calibrate(quick=True, report=lines.append)
    doc = json.loads((tmp_path / "profile.json").read_text())
    assert doc["format"] == "litsdf-profile"
    assert doc["thresholds"] == {
        "rows_max_rows": found.rows_max_rows,
        "numba_min_rows": found.numba_min_rows,
    }
    assert set(doc["measured"]) == {"rows", "numba"}
    assert any(line.startswith("rows_max_rows =") for line in lines)
    selector._CURRENT.clear()
    assert selector.thresholds().source.startswith("profile ")


def test_cli_calibrate_dry_run_saves_nothing(tmp_path, capsys):
    from litsdf.cli import main

    assert main(["calibrate", "--quick", "--dry-run"]) == 0
    assert "rows_max_rows =" in capsys.readouterr().out
    assert not (tmp_path / "profile.json").exists()
