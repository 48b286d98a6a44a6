"""Recipes: validation with key-path errors, knobs and ``--set``, the steps walked until the
bar is met (the shipped example: only its third step meets it), an unreachable bar, the CLI."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from sklearn.datasets import load_breast_cancer

import litmus_automl as litmus
from litmus_automl.cli import main
from litmus_automl.recipe import (
    RecipeError,
    example_recipe,
    load_recipe,
    parse_recipe,
    parse_sets,
    run_recipe,
)
from tests.automl.test_report import parse_report

EXAMPLE = yaml.safe_load(example_recipe().read_text())


@pytest.fixture(scope="module")
def cancer_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "cancer.csv"
    load_breast_cancer(as_frame=True).frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def example_run(cancer_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    # latency bar generous: this box is shared, the p99 of a 200 us call is scheduling noise
    recipe = load_recipe(example_recipe(), {"max_latency_ms": 1000})
    lines: list[str] = []
    out = tmp_path_factory.mktemp("runs") / "example"
    return run_recipe(recipe, cancer_csv, out=out, echo=lines.append), lines


def test_example_recipe_stops_at_the_third_step(example_run: Any) -> None:
    run, lines = example_run
    threshold = run.recipe.bar.threshold
    assert [o.step.index for o in run.outcomes] == [0, 1, 2]
    first, second, third = run.outcomes
    # the first two are genuinely weaker (three / one columns), the bar lies between
    assert first.metric < second.metric < threshold <= third.metric
    assert [o.met for o in run.outcomes] == [False, False, True]
    assert run.met and run.chosen is third
    steps = [line for line in lines if line.startswith("step ")]
    assert len(steps) == 3 and steps[0].startswith("step 1/3 'texture and shape, linear'")
    assert "accuracy 0.7832" in steps[0] and steps[2].endswith("bar met")
    assert any(
        line.startswith("bar met at step 3 of 3 (every measurement, tuned)") for line in lines
    )


def test_example_run_exports_the_bundle_and_the_report(example_run: Any, cancer_csv: Path) -> None:
    run, _ = example_run
    assert sorted(p.name for p in run.out.iterdir()) == [
        "bundle",
        "report.html",
        "run.json",
        "trials.json",
    ]
    model = litmus.load(run.bundle)
    frame = load_breast_cancer(as_frame=True).frame.drop(columns="target")
    assert np.array_equal(model.predict(frame), run.chosen.candidate.predict(frame))
    page = parse_report(run.report)
    (steps,) = page.table("steps")
    assert [row[0] for row in steps["rows"]] == ["1", "2", "3"]
    assert [row[-1] for row in steps["rows"]] == ["not met", "not met", "met"]
    assert len(page.table("leaderboard")) == 3  # one per step
    doc = json.loads((run.out / "run.json").read_text())
    assert doc["recipe"]["chosen"] == 3 and doc["recipe"]["met"] is True


WEAK = """
name: weak
data: {target: target, task: binary, k_fold: 3, seed: 0}
knobs:
  trials: {default: 2, min: 1, max: 50, help: tuning trials}
  min_accuracy: {default: 0.99, min: 0.5, max: 1.0}
defaults: {algorithms: [LogisticRegression], tune: null}
steps:
  - {name: one column, preprocess: {columns: [mean fractal dimension]}}
  - name: two columns, tuned
    preprocess: {columns: [mean radius, mean texture]}
    tune: {method: random, n_trials: $trials, seed: 0}
bar: {metric: accuracy, threshold: $min_accuracy}
"""


def test_unreachable_bar_exports_the_best_and_says_what_to_try(
    cancer_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "weak.yaml").write_text(WEAK)
    out = tmp_path / "out"
    code = main(
        ["recipe", "run", str(tmp_path / "weak.yaml"), "--data", str(cancer_csv)]
        + ["--out", str(out)]
    )
    assert code == 3  # ran, but no step met the bar
    text = capsys.readouterr().out
    assert "no step met the bar (accuracy >= 0.99 on the test split)" in text
    assert "the best reached: step 2 of 2 (two columns, tuned)" in text
    assert "next: raise the knob trials (now 2; allowed up to 50)" in text
    assert "relax the bar's knob min_accuracy" in text
    doc = json.loads((out / "run.json").read_text())
    best = doc["recipe"]["outcomes"][1]
    assert doc["recipe"]["chosen"] == 2 and best["metric"] < 0.99
    assert best["metric"] > doc["recipe"]["outcomes"][0]["metric"]
    assert litmus.load(out / "bundle").predict({"mean radius": 20.0, "mean texture": 25.0}) == 0
    assert (out / "report.html").exists() and not (out / ".steps").exists()


def _bad(path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(EXAMPLE)
    *parents, last = path.split("/")
    target: Any = doc
    for key in parents:
        target = target[int(key) if isinstance(target, list) else key]
    if value is KeyError:
        del target[last]
    else:
        target[int(last) if isinstance(target, list) else last] = value
    return doc


BAD = [
    (
        "steps/2/algorithms/0",
        "xgb",
        r"^steps\[2\]\.algorithms\[0\]: unknown algorithm 'xgb'; "
        r"expected one of XGBoost, LogisticRegression",
    ),
    ("stepz", [], r"^stepz: unknown key 'stepz'; expected one of name, description, data"),
    ("steps/0/preprocess/colums", ["x"], r"^steps\[0\]\.preprocess\.colums: unknown key"),
    ("bar/metric", "acuracy", r"^bar\.metric: unknown metric 'acuracy'; known metrics:"),
    ("bar/metric", "rmse", r"^bar\.metric: 'rmse' does not apply to a binary task"),
    ("bar/threshold", "high", r"^bar\.threshold: expected a number; got 'high'"),
    ("bar/direction", "lower", r"^bar\.direction: accuracy is better when higher"),
    (
        "knobs/trials/default",
        500,
        r"^knobs\.trials\.default: 500 is outside the allowed an "
        r"integer in 1\.\.200",
    ),
    ("knobs/trials/min", 300, r"^knobs\.trials: min 300 is above max 200"),
    ("steps/2/tune/n_trials", 0, r"^steps\[2\]\.tune\.n_trials: expected an integer >= 1"),
    ("steps/2/tune/method", "annealing", r"^steps\[2\]\.tune: Tune\(method=\.\.\.\) must be one"),
    (
        "steps/2/algorithms/1/search/max_depth",
        {"int": [4, 2]},
        r"^steps\[2\]\.algorithms\[1\]"
        r"\.search\.max_depth: ",
    ),
    (
        "steps/1/algorithms/0/hyperparams/max_dept",
        3,
        r"^steps\[1\]\.algorithms\[0\]\.hyperparams: "
        r".*'max_dept'.*did you mean 'max_depth'",
    ),
    ("data/task", "classification", r"^data\.task: expected one of binary, multiclass, regression"),
    ("data/test_fraction", 1.5, r"^data\.test_fraction: expected a number in \(0, 1\)"),
    ("data/target", KeyError, r"^data\.target: expected the name of the label column"),
    (
        "bar/threshold",
        "$min_acc",
        r"^bar\.threshold: '\$min_acc' names no knob \(the recipe's "
        r"knobs: time_budget_s, trials, min_accuracy, max_latency_ms\)",
    ),
    ("knobs/spare", {"default": 1}, r"^knobs\.spare: not used anywhere in the recipe"),
    ("steps", [], r"^steps: expected a list of at least one step"),
    ("bar/latency_p99_us", 500, r"^bar: give latency_p99_ms or latency_p99_us, not both"),
    ("steps/0/ensemble", "yes", r"^steps\[0\]\.ensemble: expected true or false"),
    ("defaults/algorithms", [], r"^steps\[0\]\.algorithms: expected a list of at least one"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD, ids=[f"{p}={v}" for p, v, _ in BAD])
def test_bad_recipes_name_the_key_path(path: str, value: Any, message: str) -> None:
    with pytest.raises(RecipeError, match=message):
        parse_recipe(_bad(path, value))


def test_algorithm_checked_against_the_task_kind() -> None:
    doc = _bad("data/task", "regression")
    doc["bar"] = {"metric": "rmse", "threshold": 1.0}
    with pytest.raises(
        RecipeError,
        match=r"^steps\[0\]\.algorithms\[0\]: LogisticRegression "
        r"does not support regression tasks",
    ):
        parse_recipe(doc)


def test_recipe_files_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="no such recipe file"):
        load_recipe(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("steps: [unclosed")
    with pytest.raises(RecipeError, match=r"bad\.yaml: not valid YAML"):
        load_recipe(tmp_path / "bad.yaml")
    (tmp_path / "code.yaml").write_text("!!python/object/apply:os.system ['echo hi']")
    with pytest.raises(RecipeError, match="not valid YAML"):  # safe_load: no code from YAML
        load_recipe(tmp_path / "code.yaml")


def test_knobs_and_set(tmp_path: Path) -> None:
    recipe = load_recipe(example_recipe(), parse_sets(["time_budget_s=120", "trials=7"]))
    assert recipe.values["time_budget_s"] == 120.0 and recipe.steps[2].tune.timeout_s == 120.0
    assert recipe.steps[2].tune.n_trials == 7 and recipe.steps[0].tune is None
    assert recipe.used["min_accuracy"] == ("bar.threshold",)
    with pytest.raises(
        RecipeError,
        match=r"^--set time_budget_s=5000: 5000 is outside the "
        r"allowed a number in 5\.\.600",
    ):
        load_recipe(example_recipe(), parse_sets(["time_budget_s=5000"]))
    with pytest.raises(RecipeError, match=r"^--set trials=2\.5: expected an integer in 1\.\.200"):
        load_recipe(example_recipe(), parse_sets(["trials=2.5"]))
    with pytest.raises(RecipeError, match=r"^--set trials=many: expected an integer"):
        load_recipe(example_recipe(), parse_sets(["trials=many"]))
    with pytest.raises(
        RecipeError,
        match=r"^--set budget: unknown knob 'budget'; the recipe's "
        r"knobs: time_budget_s, trials",
    ):
        load_recipe(example_recipe(), parse_sets(["budget=3"]))
    with pytest.raises(RecipeError, match=r"expected KNOB=VALUE"):
        parse_sets(["trials"])


def test_data_checked_before_training(cancer_csv: Path, tmp_path: Path) -> None:
    doc = _bad("steps/1/preprocess/columns", ["mean radius", "mean radiu"])
    recipe = parse_recipe(doc)
    out = tmp_path / "out"
    with pytest.raises(
        RecipeError,
        match=r"^steps\[1\]\.preprocess\.columns\[1\]: no column "
        r"'mean radiu' in .*cancer.csv",
    ):
        run_recipe(recipe, cancer_csv, out=out, echo=lambda _: None)
    with pytest.raises(RecipeError, match=r"^data\.target: no column 'target'"):
        run_recipe(parse_recipe(EXAMPLE), _no_target(tmp_path), out=out, echo=lambda _: None)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(RecipeError, match=r"^--out .*full: exists and is not empty"):
        run_recipe(parse_recipe(EXAMPLE), cancer_csv, out=tmp_path / "full", echo=lambda _: None)
    assert not out.exists() and (tmp_path / "full" / "keep.txt").read_text() == "mine"


def _no_target(tmp_path: Path) -> Path:
    path = tmp_path / "no_target.csv"
    load_breast_cancer(as_frame=True).frame.drop(columns="target").to_csv(path, index=False)
    return path


def test_recipe_check_prints_the_recipe(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recipe", "check", str(example_recipe()), "--set", "trials=9"]) == 0
    out = capsys.readouterr().out
    assert "ok; recipe 'cancer-screening': 3 steps; bar: accuracy >= 0.94" in out
    assert "trials=9 (an integer in 1..200)" in out


def _litmus(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-m", "litmus_automl.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def test_cli_errors_are_one_line(tmp_path: Path, cancer_csv: Path) -> None:
    doc = _bad("steps/2/algorithms/0", "xgb")
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(doc))
    done = _litmus("recipe", "run", "bad.yaml", "--data", str(cancer_csv), cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("litmus: steps[2].algorithms[0]: unknown algorithm 'xgb'")
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "cancer-screening-run").exists()


def test_cli_set_outside_a_range(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recipe", "check", str(example_recipe()), "--set", "time_budget_s=1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("litmus: --set time_budget_s=1: 1 is outside the allowed a number")
    assert len(err.strip().splitlines()) == 1
