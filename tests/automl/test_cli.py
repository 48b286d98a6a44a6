"""The ``litmus`` command: train from YAML, predict with a bundle, the demo, config errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from litmus_automl.cli import ConfigError, load_config, main

CONFIG = """
tasks:
  - name: cancer
    task: [binary, classification]
    data: {train: train.csv, test: test.csv}
    schema: {label: target}
    k_fold: 3
algorithm:
  - LogisticRegression
  - {name: XGBoost, hyperparams: {n_estimators: 30}}
  - {name: XGBoost, search: {max_depth: {int: [2, 4]}, eta: {float: [0.05, 0.3], log: true}}}
metrics:
  validation: [accuracy, roc_auc]
  test: [accuracy, {name: coverage_at_precision, params: {precision: 0.85}}]
tune: {method: random, n_trials: 2, seed: 1}
resources: {train: {cpus: 1}}
export: bundle
"""


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    frame = load_breast_cancer(as_frame=True).frame
    test = frame.sample(frac=0.25, random_state=0)
    frame.drop(test.index).to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    test.drop(columns="target").to_csv(tmp_path / "score.csv", index=False)
    (tmp_path / "config.yaml").write_text(CONFIG)
    return tmp_path


def test_train_then_predict(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", str(workdir / "config.yaml")]) == 0
    out = capsys.readouterr().out
    assert "leaderboard" in out and "XGBoost#2" in out and "exported" in out
    assert (workdir / "bundle" / "manifest.json").exists()
    assert (
        main(
            [
                "predict",
                str(workdir / "bundle"),
                str(workdir / "score.csv"),
                "-o",
                str(workdir / "pred.csv"),
            ]
        )
        == 0
    )
    pred = pd.read_csv(workdir / "pred.csv")
    truth = pd.read_csv(workdir / "test.csv")["target"]
    assert len(pred) == len(truth) and (pred["prediction"] == truth).mean() > 0.9


def test_console_script_predicts_probabilities(workdir: Path) -> None:
    assert main(["train", str(workdir / "config.yaml")]) == 0
    litmus = shutil.which("litmus") or str(Path(sys.executable).parent / "litmus")
    done = subprocess.run(
        [litmus, "predict", str(workdir / "bundle"), str(workdir / "score.csv"), "--proba"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "0,1" and len(lines) == 1 + len(pd.read_csv(workdir / "score.csv"))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("k_fold: 3", "k_fold: 1"), "tasks[0]"),
        (("  - LogisticRegression", "  - Nope"), "algorithm[0]"),
        (("{int: [2, 4]}", "{int: 2}"), "algorithm[2].search.max_depth"),
        (("method: random", "method: annealing"), "tune"),
        (("export: bundle", "exports: bundle"), "unknown keys ['exports']"),
        (("train.csv", "missing.csv"), "no such file"),
        (
            ("{n_estimators: 30}", "{max_dept: 3}"),
            "algorithm[1].hyperparams: XGBoost: unknown parameters ['max_dept'] "
            "(did you mean 'max_depth'",
        ),
        (
            ("{n_estimators: 30}", "{n_estimators: -5}"),
            "algorithm[1].hyperparams: XGBoost: n_estimators=-5 is not valid",
        ),
        (("{int: [2, 4]}", "{int: [-1, 4]}"), "algorithm[2].search: XGBoost: the search space"),
        (("{n_estimators: 30}", "[30]"), "algorithm[1].hyperparams: expected a mapping"),
        (("[accuracy, roc_auc]", "[accuracy, auc]"), "metrics.validation[1]: unknown metric 'auc'"),
        (
            ("[accuracy, roc_auc]", "[accuracy, rmse]"),
            "task 'cancer': metrics['validation']: 'rmse' does not apply to a binary task",
        ),
        (("validation:", "valid:"), "metrics: unknown splits ['valid']"),
        (("export: bundle", "export: train.csv/bundle"), "train.csv is not a directory"),
        (("export: bundle", "export: train.csv"), "train.csv exists and is not a directory"),
        (("export: bundle", "ensemble: 3\nexport: bundle"), "ensemble: expected true or false"),
    ],
)
def test_config_errors_name_the_key(workdir: Path, edit: tuple[str, str], message: str) -> None:
    path = workdir / "config.yaml"
    path.write_text(CONFIG.replace(*edit))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value)
    assert main(["train", str(path)]) == 2


def test_export_checked_before_training(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = workdir / "config.yaml"
    (workdir / "bundle").mkdir()
    assert load_config(path)["export"] == str(workdir / "bundle")  # an empty directory: fine
    (workdir / "bundle" / "old.txt").write_text("a previous bundle")
    with pytest.raises(ConfigError, match=r"export: .*bundle exists and is not empty"):
        load_config(path)
    capsys.readouterr()
    assert main(["train", str(path)]) == 2
    captured = capsys.readouterr()
    assert "leaderboard" not in captured.out  # refused before training
    assert captured.err.startswith("litmus: export: ") and captured.err.count("\n") == 1
    assert (workdir / "bundle" / "old.txt").read_text() == "a previous bundle"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_export_in_a_read_only_directory(workdir: Path) -> None:
    locked = workdir / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        (workdir / "config.yaml").write_text(CONFIG.replace("export: bundle", "export: locked/b"))
        with pytest.raises(ConfigError, match="locked is not writable"):
            load_config(workdir / "config.yaml")
    finally:
        locked.chmod(0o700)


def test_several_tasks_export_under_their_names(workdir: Path) -> None:
    second = CONFIG.replace(
        "tasks:\n",
        "tasks:\n  - name: again\n    task: binary\n"
        "    data: {train: train.csv}\n    schema: {label: target}\n",
    )
    (workdir / "config.yaml").write_text(second)
    (workdir / "bundle" / "again").mkdir(parents=True)
    (workdir / "bundle" / "again" / "x").write_text("")
    with pytest.raises(ConfigError, match=r"bundle/again exists and is not empty"):
        load_config(workdir / "config.yaml")
    (workdir / "config.yaml").write_text(second.replace("name: again", "name: cancer"))
    with pytest.raises(ConfigError, match=r"tasks: names must be unique; repeated: \['cancer'\]"):
        load_config(workdir / "config.yaml")


def test_demo_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--trials", "2"]) == 0
    out = capsys.readouterr().out
    assert "leaderboard" in out and "bundle.predict(one row as a dict)" in out
    assert "identical to the in-memory model on the test set: True" in out
