"""Backend selection: each backend's preference and settings, the calibrated profile (format
2, and version 1 profiles migrated), ``litsdf calibrate``, and that the selector, the options
and the calibration name no backend."""

from __future__ import annotations

import io
import json
import re
import tokenize
from pathlib import Path

import numpy as np
import pandas
import pytest

import litsdf
from litsdf_compiler import engine, selector
from litsdf_compiler.backends import Backend, registry
from litsdf_compiler.backends.preference import Calibration, Preference, Setting, Settings
from litsdf_compiler.ir.relations import DataRef, ReadCsv, Source

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_profile(tmp_path, monkeypatch):
    """Every test reads/writes its own profile and starts from the defaults."""
    monkeypatch.setenv("LITSDF_PROFILE", str(tmp_path / "profile.json"))
    selector.reset_settings()
    yield
    selector.reset_settings()


def _first(plan, rows):
    return selector.ranked(plan, rows)[0]


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
def test_backends_state_their_preference_by_size(rows, first):
    selector.set_settings("rows", max_rows=1_000)
    selector.set_settings("numba", min_rows=50_000)
    plan = Source(DataRef(pandas.DataFrame({"a": [1.0]})))
    backend, wish = _first(plan, rows)
    assert backend.name == first
    assert str(rows) in wish.reason
    # the reference states the default rank for every plan: preferring backends come first
    order = [b.name for b, _ in selector.ranked(plan, rows)]
    assert order.index(first) <= order.index("pandas")


def test_unknown_size_prefers_the_default():
    backend, wish = _first(Source(DataRef(pandas.DataFrame({"a": [1]}))), None)
    assert backend.name == "pandas" and "unknown" in wish.reason


class _Stating(Backend):
    """A real (trivial) backend stating a fixed preference; it runs nothing."""

    def __init__(self, name: str, priority: int, rank: float | None) -> None:
        self.name, self.priority, self.rank = name, priority, rank

    def preference(self, plan, rows, settings):
        return None if self.rank is None else Preference(f"{self.name} wants it", self.rank)

    def execute(self, plan):
        raise NotImplementedError


def test_ranked_by_rank_then_priority_then_the_rest_in_priority_order():
    candidates = [
        _Stating("sel-none-10", 10, None),
        _Stating("sel-late-20", 20, 2.0),
        _Stating("sel-early-30", 30, 0.0),
        _Stating("sel-early-25", 25, 0.0),
        _Stating("sel-none-5", 5, None),
    ]
    by_priority = dict(sorted(((b.name, b) for b in candidates), key=lambda p: p[1].priority))
    got = selector.ranked(Source(DataRef(pandas.DataFrame())), 10, by_priority)
    assert [b.name for b, _ in got] == [
        "sel-early-25",
        "sel-early-30",
        "sel-late-20",
        "sel-none-5",
        "sel-none-10",
    ]
    assert got[0][1] == Preference("sel-early-25 wants it", 0.0) and got[-1][1] is None


def test_auto_selection_names_the_preference_and_what_was_passed_over():
    small = litsdf.DataFrame({"a": np.arange(3.0)})
    big = litsdf.DataFrame({"a": np.arange(200_000.0)})
    with litsdf.option_context(rows_max_rows=10, numba_min_rows=100_000):
        _, decision = engine.select((small["a"] * 2)._plan)
        assert "3 rows <= rows_max_rows=10 (settings: set by the user)" in decision.reason
        _, decision = engine.select((big["a"] * 2)._plan)
        assert "200000 rows >= numba_min_rows=100000" in decision.reason
        # rows prefers 3 rows but has no lowering for a sort: pandas runs, and says so
        backend, decision = engine.select(small.sort_values("a")._plan)
        assert backend.name == "pandas"
        assert "preferred first: rows (3 rows <= rows_max_rows=10" in decision.reason
        assert decision.declined == (("rows", "rows has no lowering for OrderBy"),)
    with litsdf.option_context(rows_max_rows=0, numba_min_rows=10**9):
        backend, decision = engine.select((small["a"] * 2)._plan)
        assert backend.name == "pandas" and "default" in decision.reason
    assert litsdf.options.rows_max_rows == 1_000  # (restored)


def test_options_expose_backend_settings_generically():
    view = litsdf.options.backend_settings("rows")
    assert view.max_rows == 1_000 and view.source == "built-in defaults"
    assert view.as_dict() == {"max_rows": 1_000} and "max_rows" in view.describe()
    view.max_rows = 7
    assert litsdf.options.rows_max_rows == 7
    assert selector.settings("rows").source == "set by the user"
    assert "rows_max_rows=7" in repr(litsdf.options) and "max_rows=7" in repr(view)
    litsdf.options.numba_min_rows = 123
    assert litsdf.options.backend_settings("numba").min_rows == 123


def test_options_validate_backend_settings():
    with pytest.raises(
        ValueError, match="'rows' setting 'max_rows' must be a non-negative integer"
    ):
        litsdf.options.rows_max_rows = -1
    with pytest.raises(ValueError, match=r"non-negative integer; got 1\.5"):
        litsdf.options.numba_min_rows = 1.5  # type: ignore[assignment]
    with pytest.raises(ValueError, match="non-negative integer; got True"):
        litsdf.options.backend_settings("rows").max_rows = True
    with pytest.raises(AttributeError, match=r"no setting 'max_row' \(its settings: max_rows\)"):
        litsdf.options.backend_settings("rows").max_row = 3
    with pytest.raises(AttributeError, match="no setting 'nope'"):
        _ = litsdf.options.backend_settings("numba").nope
    with pytest.raises(ValueError, match="unknown backend 'nosuch'; known backends: "):
        litsdf.options.backend_settings("nosuch")
    with pytest.raises(AttributeError, match="unknown option 'rows_max_row'"):
        litsdf.options.rows_max_row = 3
    with pytest.raises(AttributeError, match="unknown option"), litsdf.option_context(nope=1):
        pass
    assert litsdf.options.rows_max_rows == 1_000  # nothing was changed by the failures


def test_setting_checks_its_type_and_minimum():
    count = Setting("n", 3, "a count", minimum=1)
    assert count.check("b", 5) == 5
    with pytest.raises(ValueError, match="'b' setting 'n' must be an integer >= 1; got 0"):
        count.check("b", 0)
    ratio = Setting("r", 0.5, "a ratio")
    assert ratio.check("b", 2) == 2 and ratio.check("b", 0.25) == 0.25
    with pytest.raises(ValueError, match="non-negative number; got nan"):
        ratio.check("b", float("nan"))
    with pytest.raises(KeyError, match="backend 'b' has no setting 'x' \\(its settings: n\\)"):
        Settings("b", (count,), {"x": 1})


def test_profile_round_trip_and_is_loaded(tmp_path):
    where = selector.save_profile(
        {
            "rows": Calibration({"max_rows": 33}, {"note": "test"}),
            "numba": Calibration({"min_rows": 44_000}, {}),
            "not-installed-here": Calibration({"x": 1}, {}),
        }
    )
    assert where == tmp_path / "profile.json"
    doc = json.loads(where.read_text())
    assert doc["version"] == 2
    assert doc["backends"]["rows"] == {"settings": {"max_rows": 33}, "measured": {"note": "test"}}
    assert (selector.settings("rows").max_rows, selector.settings("numba").min_rows) == (33, 44_000)
    assert str(where) in selector.settings("rows").source
    assert litsdf.options.rows_max_rows == 33
    assert "not-installed-here" not in selector.load_profile(where)  # kept in the file, unused
    assert selector.settings("pandas").source == "built-in defaults"  # not in the profile


def test_version_1_profile_is_migrated_to_the_backends_sections(tmp_path):
    """A profile saved by an earlier litsdf keeps working."""
    (tmp_path / "profile.json").write_text(
        json.dumps(
            {
                "format": "litsdf-profile",
                "version": 1,
                "thresholds": {"rows_max_rows": 12, "numba_min_rows": 34_000},
                "measured": {"rows": {}, "numba": {}},
            }
        )
    )
    assert selector.settings("rows").max_rows == 12
    assert selector.settings("numba").min_rows == 34_000
    assert selector.settings("rows").source == f"profile {tmp_path / 'profile.json'}"
    _, decision = engine.select(Source(DataRef(pandas.DataFrame({"a": range(20)}))))
    assert decision.reason.startswith("20 rows: the default backend")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "invalid JSON"),
        ('{"format": "other"}', "not a litsdf profile"),
        ('{"format": "litsdf-profile", "version": 99}', "version 99 is not 1 or 2"),
        (
            '{"format": "litsdf-profile", "version": 1, "thresholds": {"rows_max_rows": -1}}',
            "threshold 'rows_max_rows' must be a non-negative integer",
        ),
        (
            '{"format": "litsdf-profile", "version": 1, "thresholds": {"rows_max_row": 5}}',
            "backend 'rows' has no setting 'max_row'",
        ),
        ('{"format": "litsdf-profile", "version": 2}', "'backends' must be an object"),
        (
            '{"format": "litsdf-profile", "version": 2, "backends": {"rows": {}}}',
            "backend 'rows': 'settings' must be an object",
        ),
        (
            '{"format": "litsdf-profile", "version": 2, '
            '"backends": {"numba": {"settings": {"min_rows": "many"}}}}',
            "'numba' setting 'min_rows' must be a non-negative integer; got 'many'",
        ),
    ],
)
def test_bad_profile_is_named_and_ignored(tmp_path, text, message):
    path = tmp_path / "profile.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(message)) as err:
        selector.load_profile(path)
    assert str(path) in str(err.value)
    with pytest.warns(UserWarning, match="ignoring the litsdf profile"):
        found = selector.settings("rows")
    assert (found.max_rows, found.source) == (1_000, "built-in defaults")


def test_calibrate_quick_writes_a_profile_the_selector_uses(tmp_path):
    from litsdf.calibrate import calibrate

    lines: list[str] = []
    found = calibrate(quick=True, report=lines.append)
    doc = json.loads((tmp_path / "profile.json").read_text())
    assert doc["format"] == "litsdf-profile" and doc["version"] == 2
    calibrated = {b.name for b in registry().values() if b.settings and b.available()}
    assert set(doc["backends"]) == set(found) == calibrated
    for name, settings in found.items():
        assert doc["backends"][name]["settings"] == dict(settings)
        measured = doc["backends"][name]["measured"]
        assert len(measured["sizes"]) == len(measured["pandas_s"]) == len(measured[f"{name}_s"])
        assert any(line.startswith(f"{name}_") and " = " in line for line in lines)
        assert selector.settings(name).source == f"profile {tmp_path / 'profile.json'}"
    assert any(line.startswith("rows   n=1 ") and "speed-up" in line for line in lines)


def test_cli_calibrate_dry_run_saves_nothing(tmp_path, capsys):
    from litsdf.cli import main

    assert main(["calibrate", "--quick", "--dry-run"]) == 0
    assert "rows_max_rows = " in capsys.readouterr().out
    assert not (tmp_path / "profile.json").exists()


def test_pipeline_runs_the_selected_backends_program_and_says_why():
    pipe = litsdf.compile(
        lambda df: df.assign(y=df["x"] * 2.0), example=pandas.DataFrame({"x": [1.0]})
    )
    frame = pandas.DataFrame({"x": [1.0, 2.5]})
    expected = frame.assign(y=frame["x"] * 2.0)
    pandas.testing.assert_frame_equal(pipe(frame), expected)
    assert "last pipe(df) ran on rows (2 rows <= rows_max_rows=1000" in pipe.explain()
    with litsdf.option_context(rows_max_rows=1):
        pandas.testing.assert_frame_equal(pipe(frame), expected)
    assert "ran on pandas (2 rows: the default backend)" in pipe.explain()
    with litsdf.option_context(backend="rows"):
        pandas.testing.assert_frame_equal(pipe(frame), expected)
    assert "ran on rows (requested explicitly)" in pipe.explain()


def test_pipeline_without_a_program_runs_the_plan_on_the_preferred_backend_and_says_why():
    pytest.importorskip("numba")
    pipe = litsdf.compile(lambda df: df[df["x"] > 1.0], example=pandas.DataFrame({"x": [1.0]}))
    frame = pandas.DataFrame({"x": [1.0, 2.5, 3.0]})
    with litsdf.option_context(rows_max_rows=1, numba_min_rows=3):
        pandas.testing.assert_frame_equal(pipe(frame), frame[frame["x"] > 1.0])
    assert "last pipe(df) ran on numba (3 rows >= numba_min_rows=3 (settings: set by" in (
        pipe.explain()
    )
    with litsdf.option_context(backend="numba"):  # (numba offers no program: the plan runs)
        pandas.testing.assert_frame_equal(pipe(frame), frame[frame["x"] > 1.0])
        pandas.testing.assert_frame_equal(pipe(frame.iloc[:1]), frame.iloc[:0])
    assert "last pipe(df) ran on numba (requested explicitly)" in pipe.explain()


def test_pipeline_explain_before_a_run_shows_the_choice_by_size():
    pipe = litsdf.compile(lambda df: df[df["x"] > 1.0], example=pandas.DataFrame({"x": [1.0]}))
    text = pipe.explain()
    assert "pipe(df) not run yet; under backend='auto':" in text
    assert "1 rows: rows (1 rows <= rows_max_rows=1000" in text
    assert "100,000 rows: " in text


# the selector, the options and the calibration name no backend -------------------------------

FILES = ("litsdf_compiler/selector.py", "litsdf/_config.py", "litsdf/calibrate.py")
_PROSE = {"rows", "pandas"}
"""Backend names that are also ordinary words (an input's size in rows, the pandas library):
only their quoted and ``<backend>_<setting>`` spellings count as naming the backend."""


def _named_backends(path: Path) -> list[str]:
    found = []
    settings = {s.name for b in registry().values() for s in b.settings}
    for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
        if token.type not in (tokenize.NAME, tokenize.STRING):
            continue
        where = f"{path.name}:{token.start[0]}: {token.string[:60]!r}"
        for name in registry():
            words = re.findall(r"[A-Za-z0-9]+", token.string)
            if re.search(rf"""["']{re.escape(name)}["']""", token.string):
                found.append(f"{where} quotes backend {name!r}")
            elif re.search(rf"\b{re.escape(name)}_", token.string):
                found.append(f"{where} spells a setting of backend {name!r}")
            elif name not in _PROSE and name in words:
                found.append(f"{where} names backend {name!r}")
        for setting in settings:
            if re.search(rf"\b{re.escape(setting)}\b", token.string):
                found.append(f"{where} names the backend setting {setting!r}")
    return found


@pytest.mark.parametrize("file", FILES)
def test_selection_code_names_no_backend(file):
    found = _named_backends(ROOT / file)
    assert not found, "\n".join(found)


def test_the_naming_check_sees_a_backend_name(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text('x = "rows"\ny = options.numba_min_rows\nz = "numba is fast"\nw = max_rows\n')
    found = _named_backends(path)
    assert [line.split(": ", 1)[0] for line in found] == [
        "bad.py:1",
        "bad.py:2",
        "bad.py:3",
        "bad.py:4",
    ]
