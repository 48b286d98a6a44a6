"""A backend added as one folder outside the source tree (``tests/plugin_backends/toy``): the
registry discovers it through ``LITSDF_BACKEND_PATH`` (or an entry point) without any file of
ours being edited; it is listed, runs the differential suite with its own decline ledger and
is chosen under ``backend="auto"`` when its preference says so. Each check runs in a real
subprocess, so the normal test run never registers the toy backend."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import litsdf
from litsdf_compiler import backends

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ROOT / "tests" / "plugin_backends"


def _run(
    args: list[str], path: str | None = str(PLUGINS), pythonpath: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != backends.BACKEND_PATH}
    if path is not None:
        env[backends.BACKEND_PATH] = path
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath, str(ROOT)]))
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def _python(code: str, **kwargs: str | None) -> subprocess.CompletedProcess[str]:
    return _run(["-c", textwrap.dedent(code)], **kwargs)


def test_the_toy_is_not_registered_in_the_normal_run():
    if os.environ.get(backends.BACKEND_PATH):
        pytest.skip(f"{backends.BACKEND_PATH} is set for this run")
    assert "toy" not in [b.name for b in litsdf.backends()]


AUTO = """
import json, numpy as np, pandas
import litsdf

def program(pd, n):
    df = pd.DataFrame({"a": np.arange(n) % 7, "b": np.linspace(0.0, 1.0, n)})
    kept = df[(df["a"] > 2) & (df["b"] < 0.9)]
    return kept.assign(c=kept["a"] * 2 + kept["b"], d=-kept["b"] / 0.5)

def run(n):
    got = program(litsdf, n)
    pandas.testing.assert_frame_equal(got.to_pandas(), program(pandas, n))
    return got.explain(format="dict")["backend"]

out = {"backends": [[b.name, b.available] for b in litsdf.backends()]}
out["3000"], out["500"], out["20000"] = run(3000), run(500), run(20000)
out["toy_settings"] = litsdf.options.backend_settings("toy").as_dict()
before = program(litsdf, 3000)
out["text before"] = before.explain(stage="backend")
before.to_pandas()
out["text"] = before.explain(stage="backend")
def feature(df):
    kept = df[df["a"] > 2]
    return kept.assign(c=kept["a"] * 2)

pipe = litsdf.compile(feature, example=pandas.DataFrame({"a": [1]}))
frame = pandas.DataFrame({"a": np.arange(3000) % 7})
pandas.testing.assert_frame_equal(pipe(frame), feature(frame))
out["pipe"] = [pipe._last.backend, pipe._last.reason]
litsdf.options.toy_min_rows = 4000
out["3000 after toy_min_rows=4000"] = run(3000)
print(json.dumps(out))
"""


def test_a_backend_folder_is_listed_and_chosen_by_auto_when_it_prefers_the_size():
    done = _python(AUTO)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert ["toy", True] in out["backends"]
    assert out["toy_settings"] == {"min_rows": 2_000, "max_rows": 5_000}
    ran = out["3000"]
    assert (ran["backend"], ran["ran"]) == ("toy", True)
    assert (
        ran["reason"] == "3000 rows in toy_min_rows..toy_max_rows=2000..5000 (settings: "
        "built-in defaults)"
    )
    assert "would run on: toy (3000 rows in toy_min_rows..toy_max" in out["text before"]
    assert "ran on: toy (3000 rows in toy_min_rows..toy_max_rows=2000..5000" in out["text"]
    # outside its range the other backends' preferences win
    assert out["500"]["backend"] == "rows" and out["20000"]["backend"] == "numba"
    assert out["pipe"][0] == "toy" and out["pipe"][1].startswith("3000 rows in toy_min_rows")
    after = out["3000 after toy_min_rows=4000"]
    assert after["backend"] == "pandas" and after["reason"] == "3000 rows: the default backend"


def _ledger_run(ledger: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run(
        ["-m", "pytest", "-q", "-p", "no:cacheprovider", "--ledger-dir", str(ledger), *args]
    )


@pytest.mark.slow
def test_a_backend_folder_runs_the_differential_suite_with_its_own_ledger(tmp_path):
    suite = "tests/differential/test_columns.py"
    first = _ledger_run(tmp_path, suite, "-k", "toy", "--update-ledger")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    summary = [line for line in first.stdout.splitlines() if line.startswith("toy: ")]
    assert len(summary) == 1, first.stdout[-3000:]
    ran, declined = [int(word) for word in summary[0].split() if word.isdigit()][:2]
    assert ran > declined > 0  # cases ran on the toy (and passed), others were declined
    assert " passed" in first.stdout and " failed" not in first.stdout
    entries = (tmp_path / "toy.txt").read_text().splitlines()[2:]
    assert len(entries) == declined
    assert all("backend 'toy' declined the plan: toy" in e for e in entries)
    # the ledger it wrote now describes the toy: the same run passes without --update-ledger
    second = _ledger_run(tmp_path, suite, "-k", "toy")
    assert second.returncode == 0, second.stdout[-3000:]
    assert summary[0] in second.stdout
    # a case the ledger does not list as declined fails the run, naming the case
    node = entries[0].split(" :: ")[0]
    (tmp_path / "toy.txt").write_text("\n".join(entries[1:]) + "\n")
    third = _ledger_run(tmp_path, node)
    assert third.returncode == 1, third.stdout[-3000:]
    assert "decline ledger: 1 case(s) newly declined" in third.stdout
    assert f"toy: {node} :: " in third.stdout


def test_a_backend_installed_with_an_entry_point_is_listed(tmp_path):
    dist = tmp_path / "toy_entry-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-entry\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[litsdf_compiler.backends]\ntoyentry = toy_entry:BACKEND\n"
    )
    (tmp_path / "toy_entry.py").write_text(
        "from litsdf_compiler.backends.pandas import PandasBackend\n\n\n"
        "class EntryBackend(PandasBackend):\n    name = 'toyentry'\n    priority = 95\n\n\n"
        "BACKEND = EntryBackend()\n"
    )
    done = _python(
        """
        import litsdf
        df = litsdf.DataFrame({"a": [1, 2, 3]})
        with litsdf.option_context(backend="toyentry"):
            out = df[df["a"] > 1]
            print(out.to_pandas()["a"].tolist(), out.explain(stage="backend").splitlines()[1])
        print(sorted(b.name for b in litsdf.backends()))
        """,
        path=None,
        pythonpath=str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "[2, 3] ran on: toyentry (requested explicitly); options.backend='toyentry'"
    assert "toyentry" in lines[1] and "toy'" not in lines[1]


def test_two_backends_with_one_name_are_an_error_naming_both(tmp_path):
    package = tmp_path / "dup"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from litsdf_compiler.backends.pandas import PandasBackend\n\n\n"
        "class Dup(PandasBackend):\n    name = 'rows'\n\n\nBACKEND = Dup()\n"
    )
    done = _python("import litsdf; litsdf.backends()", path=str(tmp_path))
    assert done.returncode == 1
    assert (
        "ValueError: two backends are called 'rows': litsdf_compiler.backends.rows and "
        f"{package}" in done.stderr
    )


def test_a_broken_or_missing_backend_folder_is_named(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "__init__.py").write_text("import a_module_that_does_not_exist\n")
    (tmp_path / "helpers").mkdir()  # a folder without __init__.py is not a package: ignored
    with pytest.raises(
        ImportError,
        match=re.escape(f"importing the backend package {broken} failed: ModuleNotFoundError"),
    ):
        backends._from_path(str(tmp_path))
    assert not [m for m in sys.modules if m.startswith("_litsdf_backend_broken")]
    with pytest.raises(ValueError, match="LITSDF_BACKEND_PATH: '/no/such/folder' is not a folder"):
        backends._from_path("/no/such/folder")
    (broken / "__init__.py").write_text("VALUE = 1  # no BACKEND: not a backend\n")
    assert backends._from_path(str(tmp_path)) == []
