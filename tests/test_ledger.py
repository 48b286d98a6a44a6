"""The decline ledger (tests/ledger/plugin.py): the comparison of the cases that ran with the
committed ledger, and the plugin end to end in real pytest subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .ledger.plugin import (
    DeclineLedger,
    diff_ledger,
    failure_lines,
    format_ledger_file,
    normalize_reason,
    parse_ledger_file,
    read_ledger,
    updated_ledger,
)

ROOT = Path(__file__).resolve().parent.parent
LEDGER = {"rows": {"t.py::a[rows]": "no lowering for Sort", "t.py::b[rows]": "reads 2 inputs"}}


def test_new_decline_fails_and_says_how_to_accept():
    outcomes = {("rows", "t.py::a[rows]"): "no lowering for Sort", ("rows", "t.py::c[rows]"): "x"}
    diff = diff_ledger(LEDGER, outcomes)
    assert diff.new == [("rows", "t.py::c[rows]", "x")]
    assert diff.vanished == [] and diff.changed == [] and diff.failed
    text = "\n".join(failure_lines(diff, Path("tests/ledger"), "pytest --update-ledger t.py"))
    assert "1 case(s) newly declined (not in tests/ledger)" in text
    assert "rows: t.py::c[rows] :: x" in text
    assert "record it with: pytest --update-ledger t.py" in text


def test_vanished_decline_fails_asking_for_an_update():
    diff = diff_ledger(LEDGER, {("rows", "t.py::b[rows]"): None})
    assert diff.vanished == [("rows", "t.py::b[rows]", "reads 2 inputs")] and diff.failed
    text = "\n".join(failure_lines(diff, Path("tests/ledger"), "pytest --update-ledger"))
    assert "no longer declined (coverage grew)" in text and "t.py::b[rows]" in text


def test_cases_that_did_not_run_are_ignored_and_kept():
    outcomes = {("rows", "t.py::a[rows]"): "no lowering for Sort", ("numba", "t.py::a[nb]"): None}
    diff = diff_ledger(LEDGER, outcomes)
    assert not diff.failed and not diff.changed  # b did not run: not "no longer declined"
    assert updated_ledger(LEDGER, outcomes) == LEDGER | {"numba": {}}


def test_reason_change_is_reported_not_failed_and_update_records_it():
    outcomes = {("rows", "t.py::a[rows]"): "no lowering for Head"}
    diff = diff_ledger(LEDGER, outcomes)
    assert diff.changed == [
        ("rows", "t.py::a[rows]", "no lowering for Sort", "no lowering for Head")
    ]
    assert not diff.failed
    assert "not a failure" in "\n".join(failure_lines(diff, Path("l"), "pytest --update-ledger"))
    assert updated_ledger(LEDGER, outcomes)["rows"]["t.py::a[rows]"] == "no lowering for Head"


def test_update_drops_vanished_and_adds_new():
    outcomes = {("rows", "t.py::b[rows]"): None, ("rows", "t.py::c[rows]"): "x"}
    assert updated_ledger(LEDGER, outcomes) == {
        "rows": {"t.py::a[rows]": "no lowering for Sort", "t.py::c[rows]": "x"}
    }


def test_file_round_trip_sorted_with_count(tmp_path):
    path = tmp_path / "rows.txt"
    path.write_text(format_ledger_file("rows", {"z::b": "r :: with separator", "a::b": "q"}))
    lines = path.read_text().splitlines()
    assert lines[0] == "# Decline ledger of the rows backend: 2 cases declined."
    assert lines[2:] == ["a::b :: q", "z::b :: r :: with separator"]
    assert parse_ledger_file(path) == {"a::b": "q", "z::b": "r :: with separator"}
    assert read_ledger(tmp_path, ["rows", "numba"]) == {
        "rows": {"a::b": "q", "z::b": "r :: with separator"},
        "numba": {},  # no file yet: nothing declined
    }


def test_malformed_ledger_line_names_file_and_line(tmp_path):
    path = tmp_path / "rows.txt"
    path.write_text("# header\nt.py::a :: ok\nt.py::b without reason\n")
    with pytest.raises(ValueError, match=r"rows.txt:3: expected a line 'node id :: reason'"):
        parse_ledger_file(path)
    path.write_text("t.py::a :: one\nt.py::a :: two\n")
    with pytest.raises(ValueError, match=r"rows.txt:2: node id 't.py::a' is listed twice"):
        parse_ledger_file(path)


def test_reason_is_one_stable_line():
    why = NotImplementedError("no lowering for\n  Sort at <object at 0x7f3a9c0d2e10>")
    assert normalize_reason(why) == "no lowering for Sort at <object at 0x?>"


def test_decline_of_a_backend_without_ledger_is_an_error(pytestconfig, tmp_path):
    plugin = DeclineLedger(pytestconfig, tmp_path, ["rows"])
    expected = r"backend 'auto' has no decline ledger.*\['rows'\]"
    with pytest.raises(ValueError, match=expected), plugin.declines("auto"):
        pass


# end to end: the plugin in a real pytest run -----------------------------------------------

CONFTEST = """
from pathlib import Path
from tests.ledger import plugin

def pytest_addoption(parser):
    plugin.add_option(parser)

def pytest_configure(config):
    plugin.install(config, Path(__file__).parent / "ledger", ["fake"])
"""

CASES = """
import os
import pytest
from litsdf_compiler.engine import BackendDeclined
from tests.ledger.plugin import declines

DECLINE = os.environ["DECLINE"].split(",")

@pytest.mark.parametrize("case", ["a", "b", "c"])
def test_case(pytestconfig, case):
    with declines(pytestconfig, "fake"):
        if case in DECLINE:
            raise BackendDeclined(f"no lowering for {case}")

def test_broken(pytestconfig):
    with declines(pytestconfig, "fake"):
        if "broken" in DECLINE:
            raise BackendDeclined("broken declined")
    assert False, "a failing case says nothing about its declines"

def test_skipped_otherwise(pytestconfig):
    with declines(pytestconfig, "fake"):
        if "skipped_otherwise" in DECLINE:
            raise BackendDeclined("skip declined")
    pytest.skip("not a decline")
"""


def _pytest(project: Path, decline: str, *args: str) -> tuple[int, str]:
    env = {**os.environ, "DECLINE": decline, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, proc.stdout + proc.stderr


def test_plugin_end_to_end(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "conftest.py").write_text(textwrap.dedent(CONFTEST))
    (tmp_path / "test_cases.py").write_text(textwrap.dedent(CASES))
    ledger = tmp_path / "ledger" / "fake.txt"
    a, b, c = (f"test_cases.py::test_case[{x}]" for x in "abc")

    # record: a, b and the broken / otherwise-skipped cases decline
    rc, out = _pytest(tmp_path, "a,b,broken,skipped_otherwise", "--update-ledger")
    assert rc == 0, out
    assert "fake: 5 cases run, 4 declined (80%)" in out
    entries = parse_ledger_file(ledger)
    assert entries == {
        a: "no lowering for a",
        b: "no lowering for b",
        "test_cases.py::test_broken": "broken declined",
        "test_cases.py::test_skipped_otherwise": "skip declined",
    }

    # same declines: green
    rc, out = _pytest(tmp_path, "a,b,broken,skipped_otherwise")
    assert rc == 0, out
    assert "newly declined" not in out and "no longer declined" not in out

    # c newly declined: the run fails and names the case and the command that accepts it
    rc, out = _pytest(tmp_path, "a,b,c,broken,skipped_otherwise", "-k", "test_case")
    assert rc == 1, out
    assert "1 case(s) newly declined" in out and f"fake: {c} :: no lowering for c" in out
    assert "record it with: pytest --update-ledger -q -p no:cacheprovider -k test_case" in out

    # b no longer declines; test_skipped_otherwise skips for another reason: only b is
    # reported (a skip that is not a decline is inconclusive)
    rc, out = _pytest(tmp_path, "a", "-k", "not broken")
    assert rc == 1, out
    assert "1 case(s) in ledger no longer declined (coverage grew)" in out
    assert f"fake: {b} :: no lowering for b" in out and "skipped_otherwise ::" not in out

    # a failing case is inconclusive too: pytest fails the run, the ledger says nothing
    rc, out = _pytest(tmp_path, "", "-k", "broken")
    assert rc == 1 and "1 failed" in out, out
    assert "no longer declined" not in out

    # a run of only a says nothing about b and c: green
    rc, out = _pytest(tmp_path, "a", a)
    assert rc == 0, out

    # update from a partial run: c added, the entries of cases that did not run are kept
    rc, out = _pytest(tmp_path, "c", "--update-ledger", c)
    assert rc == 0, out
    assert parse_ledger_file(ledger) == entries | {c: "no lowering for c"}
    assert ledger.read_text().startswith("# Decline ledger of the fake backend: 5 cases")
