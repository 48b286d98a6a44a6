"""Algorithms: fit / predict / predict_proba per task kind, save / load, search spaces,
the registry, custom algorithms; and the search-space distributions."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import optuna
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.exceptions import NotFittedError
from sklearn.neighbors import KNeighborsClassifier

import litmus_automl as litmus
from litmus_automl import (
    Algorithm,
    Categorical,
    ExtraTrees,
    Float,
    HistGradientBoosting,
    Int,
    LogisticRegression,
    RandomForest,
    Ridge,
    XGBoost,
    model_io,
)
from litmus_automl.algorithms import get, names, register
from litmus_automl.algorithms import sklearn as sk_algos
from litmus_automl.algorithms import xgboost as xgb_algo
from litmus_automl.space import from_dict


def _data(kind: str) -> tuple[pd.DataFrame, np.ndarray]:
    if kind == "binary":
        bunch = load_breast_cancer(as_frame=True)
        X, y = bunch.data.iloc[::3, :8], bunch.target.to_numpy()[::3]
    elif kind == "multiclass":
        bunch = load_wine(as_frame=True)
        X, y = bunch.data, bunch.target.to_numpy()
    else:
        bunch = load_diabetes(as_frame=True)
        X, y = bunch.data.iloc[:150], bunch.target.to_numpy(dtype=np.float64)[:150]
    return X, y


DATA = {kind: _data(kind) for kind in ("binary", "multiclass", "regression")}
N_CLASSES = {"binary": 2, "multiclass": 3, "regression": None}

FAST: dict[str, Callable[[], Algorithm]] = {
    "XGBoost": lambda: XGBoost(n_estimators=15, max_depth=3),
    "LogisticRegression": lambda: LogisticRegression(),
    "Ridge": lambda: Ridge(),
    "RandomForest": lambda: RandomForest(n_estimators=10, max_depth=5),
    "ExtraTrees": lambda: ExtraTrees(n_estimators=10, max_depth=5),
    "HistGradientBoosting": lambda: HistGradientBoosting(max_iter=15),
}
CASES = [
    (name, kind)
    for name in FAST
    for kind in ("binary", "multiclass", "regression")
    if not (name == "LogisticRegression" and kind == "regression")
]


def _fitted(name: str, kind: str) -> Algorithm:
    X, y = DATA[kind]
    algo = FAST[name]().configure(kind, N_CLASSES[kind], seed=0, n_jobs=1)
    assert algo.fit(X, y) is algo
    return algo


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_fit_predict_save_load(name: str, kind: str, tmp_path) -> None:
    X, y = DATA[kind]
    algo = _fitted(name, kind)
    pred = algo.predict(X)
    assert pred.shape == (len(X),)
    assert algo.n_features_in_ == X.shape[1]
    assert list(algo.feature_names_in_) == list(X.columns)
    if kind == "regression":
        assert pred.dtype == np.float64
        assert np.corrcoef(pred, y)[0, 1] > 0.5
        with pytest.raises(NotImplementedError, match="no probabilities"):
            algo.predict_proba(X)
        proba = None
    else:
        assert pred.dtype == np.int64 and (pred == y).mean() > 0.8
        proba = algo.predict_proba(X)
        assert proba.shape == (len(X), N_CLASSES[kind])
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
        np.testing.assert_array_equal(algo.classes_, np.arange(N_CLASSES[kind]))
    files = algo.save(tmp_path / "m")
    native = "model.ubj" if name == "XGBoost" else "model.skops"
    assert sorted(p.rsplit("/", 1)[1] for p in files) == ["algorithm.json", native]
    for loader in (Algorithm, type(algo)):
        back = loader.load(tmp_path / "m")
        assert type(back) is type(algo) and back.task_kind == kind
        assert back.get_params() == algo.get_params()
        np.testing.assert_array_equal(back.predict(X), pred)
        if proba is not None:
            np.testing.assert_array_equal(back.predict_proba(X), proba)


def test_logistic_regression_declines_regression() -> None:
    with pytest.raises(ValueError, match="LogisticRegression does not support regression"):
        LogisticRegression().configure("regression")
    X, y = DATA["regression"]
    with pytest.raises(ValueError, match="does not support regression"):
        LogisticRegression().fit(X, y)  # kind inferred from the float label


def test_unconfigured_fit_infers_kind() -> None:
    X, y = DATA["multiclass"]
    algo = RandomForest(n_estimators=5).fit(X, y)
    assert algo.task_kind == "multiclass" and algo.predict_proba(X).shape == (len(X), 3)


def test_ridge_classifier_proba_is_softmax() -> None:
    X, _ = DATA["multiclass"]
    algo = _fitted("Ridge", "multiclass")
    proba = algo.predict_proba(X)
    np.testing.assert_array_equal(proba.argmax(axis=1), algo.predict(X))
    unscaled = Ridge(standardize=False).configure("binary", 2).fit(*DATA["binary"])
    assert not hasattr(unscaled.estimator_, "steps")  # not a Pipeline


def test_xgboost_objectives_and_json(tmp_path) -> None:
    for kind, objective in [("binary", "binary:logistic"), ("multiclass", "multi:softprob")]:
        algo = _fitted("XGBoost", kind)
        assert algo.estimator_.get_params()["objective"] == objective
        assert algo.estimator_.get_params()["tree_method"] == "hist"
    assert _fitted("XGBoost", "regression").estimator_.objective == "reg:squarederror"
    files = algo.save(tmp_path, format="json")
    assert files[1].endswith("model.json")
    json.loads((tmp_path / "model.json").read_text())  # native JSON
    X, _ = DATA["multiclass"]
    np.testing.assert_array_equal(XGBoost.load(tmp_path).predict_proba(X), algo.predict_proba(X))
    with pytest.raises(ValueError, match="format must be one of"):
        algo.save(tmp_path, format="pickle")


def test_xgboost_device(monkeypatch) -> None:
    assert isinstance(xgb_algo.cuda_available(), bool)
    monkeypatch.setattr(xgb_algo, "cuda_available", lambda: False)
    with pytest.raises(RuntimeError, match="device='cuda' was requested but no CUDA device"):
        XGBoost().configure("binary", 2, device="cuda")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        XGBoost(device="cuda:0").configure("binary", 2)
    with pytest.raises(RuntimeError, match="no CUDA device"):
        XGBoost().hyperparams(device="cuda").fit(*DATA["binary"])
    XGBoost().configure("binary", 2, device="cpu")
    monkeypatch.setattr(xgb_algo, "cuda_available", lambda: True)
    algo = XGBoost(n_estimators=2).configure("binary", 2, device="cuda")
    assert algo.build().get_params()["device"] == "cuda"


def test_save_load_errors(tmp_path, monkeypatch) -> None:
    with pytest.raises(NotFittedError):
        RandomForest().save(tmp_path)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        XGBoost().predict(DATA["binary"][0])
    with pytest.raises(FileNotFoundError, match="no saved algorithm"):
        Algorithm.load(tmp_path / "empty")
    algo = _fitted("RandomForest", "binary")
    algo.save(tmp_path / "rf")
    with pytest.raises(ValueError, match="is not a XGBoost"):
        XGBoost.load(tmp_path / "rf")
    monkeypatch.setattr(
        model_io, "SKOPS_TRUSTED_TYPES", model_io.SKOPS_TRUSTED_TYPES - {"sklearn.tree._tree.Tree"}
    )
    with pytest.raises(sk_algos.UntrustedModelError, match=r"sklearn\.tree\._tree\.Tree"):
        Algorithm.load(tmp_path / "rf")
    monkeypatch.undo()
    with (tmp_path / "rf" / "model.skops").open("ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(ValueError, match="sha256 does not match"):
        Algorithm.load(tmp_path / "rf")


def test_load_never_imports_or_unpickles_what_the_file_names(tmp_path) -> None:
    import sys

    algo = _fitted("RandomForest", "binary")
    algo.save(tmp_path / "rf")
    meta_path = tmp_path / "rf" / "algorithm.json"
    meta = json.loads(meta_path.read_text())
    assert "antigravity" not in sys.modules
    meta["class"] = "antigravity:Thing"  # importing it would run its module code
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="'antigravity' is not imported"):
        Algorithm.load(tmp_path / "rf")
    assert "antigravity" not in sys.modules
    meta["class"] = "os:system"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="is not a Algorithm"):
        Algorithm.load(tmp_path / "rf")


# ---- hyperparameters and search spaces ---------------------------------------------------


def test_default_spaces() -> None:
    assert XGBoost().search_space() == {
        "max_depth": Int(3, 10),
        "learning_rate": Float(0.01, 0.3, log=True),
        "n_estimators": Int(50, 400),
        "subsample": Float(0.6, 1.0),
        "colsample_bytree": Float(0.5, 1.0),
        "min_child_weight": Float(1.0, 10.0, log=True),
    }
    for name in names():
        space = get(name).search_space()
        assert space and all(isinstance(d, (Int, Float, Categorical)) for d in space.values())


def test_hyperparams_and_search_semantics() -> None:
    base = XGBoost()
    fixed = base.hyperparams(max_depth=5)
    assert fixed is not base and base.get_params() == {}
    assert fixed.get_params() == {"max_depth": 5} and "max_depth" not in fixed.search_space()
    issue = XGBoost().search(max_depth=Int(3, 10), eta=Float(0.01, 0.3, log=True))
    assert issue.search_space()["learning_rate"] == Float(0.01, 0.3, log=True)
    narrowed = fixed.search(max_depth=Int(3, 6), booster=["gbtree", "dart"])
    assert narrowed.get_params() == {}  # searching a fixed param frees it
    assert narrowed.search_space()["max_depth"] == Int(3, 6)
    assert narrowed.search_space()["booster"] == Categorical(("gbtree", "dart"))
    refixed = narrowed.hyperparams(max_depth=4, eta=0.1)
    assert refixed.get_params() == {"max_depth": 4, "learning_rate": 0.1}
    assert "max_depth" not in refixed.search_space()
    assert "booster" in refixed.search_space()  # other searched params stay
    with pytest.raises(ValueError, match="'eta' and 'learning_rate' name the same parameter"):
        XGBoost(eta=0.1, learning_rate=0.2)
    with pytest.raises(TypeError, match=r"search\(max_depth=...\): expected Int, Float"):
        XGBoost().search(max_depth=5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"unknown parameters \['max_dept'\]"):
        RandomForest().hyperparams(max_dept=3)
    with pytest.raises(ValueError, match="unknown parameters"):
        HistGradientBoosting().search(depth=Int(1, 3))
    assert repr(refixed) == "XGBoost(max_depth=4, learning_rate=0.1)"


def test_with_params_and_set_params() -> None:
    algo = RandomForest(n_estimators=5).configure("multiclass", 3, seed=7, n_jobs=1)
    algo.fit(*DATA["multiclass"])
    trial = algo.with_params({"max_depth": 3})
    assert trial.get_params() == {"n_estimators": 5, "max_depth": 3}
    assert (trial.task_kind, trial.n_classes, trial.seed) == ("multiclass", 3, 7)
    assert not hasattr(trial, "estimator_") and hasattr(algo, "estimator_")
    assert trial.build().random_state == 7
    assert algo.set_params(max_depth=2) is algo and algo.get_params()["max_depth"] == 2
    with pytest.raises(ValueError, match="a binary task has 2 classes"):
        algo.configure("binary", 3)
    with pytest.raises(ValueError, match="unknown task kind"):
        algo.configure("ranking")


def test_optuna_trial_drives_a_fit() -> None:
    algo = XGBoost().hyperparams(n_estimators=10).configure("binary", 2)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    params = {name: dist.suggest(trial, name) for name, dist in algo.search_space().items()}
    assert 3 <= params["max_depth"] <= 10 and 0.01 <= params["learning_rate"] <= 0.3
    model = algo.with_params(params).fit(*DATA["binary"])
    assert model.estimator_.get_params()["max_depth"] == params["max_depth"]


# ---- registry and custom algorithms --------------------------------------------------------


def test_registry() -> None:
    assert names()[:6] == list(FAST)
    assert isinstance(get("XGBoost"), XGBoost) and isinstance(get("randomforest"), RandomForest)
    algo = XGBoost()
    assert get(algo) is algo and isinstance(get(Ridge), Ridge)
    with pytest.raises(ValueError, match="unknown algorithm 'SVM'; known algorithms: XGBoost, "):
        get("SVM")
    with pytest.raises(TypeError, match="registry name or an Algorithm"):
        get(3.0)

    class Other(Algorithm):
        name = "XGBoost"

    with pytest.raises(ValueError, match="already registered"):
        register(Other)
    with pytest.raises(TypeError, match="Algorithm subclass"):
        register(KNeighborsClassifier)  # type: ignore[arg-type]


class KNN(Algorithm):
    """A custom algorithm through ``build``."""

    name = "TestKNN"
    kinds = frozenset({"binary", "multiclass"})

    def default_space(self) -> dict:
        return {"n_neighbors": Int(1, 15), "weights": Categorical(["uniform", "distance"])}

    def build(self) -> KNeighborsClassifier:
        return KNeighborsClassifier(**self.get_params())


class Centroid(Algorithm):
    """A custom algorithm the sklearn way: explicit params, own fit / predict / proba."""

    kinds = frozenset({"binary", "multiclass"})

    def __init__(self, shrink: float = 0.0, power: int = 2) -> None:
        self.shrink = shrink
        self.power = power

    def default_space(self) -> dict:
        return {"shrink": Float(0.0, 1.0), "power": Int(1, 3)}

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=float), np.asarray(y)
        center = X.mean(axis=0)
        self.centers_ = np.stack(
            [(1 - self.shrink) * X[y == k].mean(axis=0) + self.shrink * center for k in range(3)]
        )
        return self

    def _dist(self, X):
        return np.abs(np.asarray(X, dtype=float)[:, None, :] - self.centers_).sum(-1) ** self.power

    def predict(self, X):
        return self._dist(X).argmin(axis=1)

    def predict_proba(self, X):
        w = 1.0 / (self._dist(X) + 1e-9)
        return w / w.sum(axis=1, keepdims=True)


def test_custom_algorithm_via_build(tmp_path) -> None:
    register(KNN)
    algo = get("TestKNN").hyperparams(n_neighbors=3)
    assert algo.search_space() == {"weights": Categorical(("uniform", "distance"))}
    with pytest.raises(ValueError, match="TestKNN does not support regression"):
        algo.configure("regression")
    X, y = DATA["multiclass"]
    fitted = algo.configure("multiclass", 3).fit(X, y)
    assert (fitted.predict(X) == y).mean() > 0.7
    files = fitted.save(tmp_path)
    assert sorted(p.rsplit("/", 1)[1] for p in files) == ["algorithm.joblib", "algorithm.json"]
    with pytest.raises(ValueError, match=r"pickled .*allow_pickle=True"):
        Algorithm.load(tmp_path)
    back = Algorithm.load(tmp_path, allow_pickle=True)
    np.testing.assert_array_equal(back.predict_proba(X), fitted.predict_proba(X))
    with pytest.raises(NotImplementedError, match="override build"):
        Algorithm().fit(X, y)


def test_custom_algorithm_sklearn_style(tmp_path) -> None:
    algo = Centroid(shrink=0.1)
    assert algo.get_params() == {"shrink": 0.1, "power": 2}
    assert algo.name == "Centroid" and algo.search_space() == {}  # both params are fixed
    free = Centroid().search(shrink=Float(0.0, 0.5))
    assert free.get_params() == {"power": 2}
    assert free.search_space() == {"shrink": Float(0.0, 0.5)}
    trial = free.with_params({"shrink": 0.2})
    assert trial.shrink == 0.2 and trial.get_params() == {"shrink": 0.2, "power": 2}
    X, y = DATA["multiclass"]
    fitted = trial.configure("multiclass", 3).fit(X, y)
    assert fitted.predict_proba(X).shape == (len(X), 3)
    fitted.save(tmp_path)
    meta = json.loads((tmp_path / "algorithm.json").read_text())
    assert meta["params"] == {"shrink": 0.2, "power": 2} and meta["class"].endswith(":Centroid")
    back = Centroid.load(tmp_path, allow_pickle=True)
    np.testing.assert_array_equal(back.predict(X), fitted.predict(X))
    (tmp_path / "algorithm.joblib").write_bytes(b"evil")
    with pytest.raises(ValueError, match="sha256 does not match"):
        Centroid.load(tmp_path, allow_pickle=True)


# ---- distributions -------------------------------------------------------------------------


def test_distributions_validate() -> None:
    with pytest.raises(ValueError, match=r"low \(5\) must be < high \(5\)"):
        Int(5, 5)
    with pytest.raises(ValueError, match="log=True needs low > 0"):
        Float(0.0, 1.0, log=True)
    with pytest.raises(ValueError, match="log=True needs low > 0"):
        Int(0, 4, log=True)
    with pytest.raises(ValueError, match="log=True needs step=1"):
        Int(1, 9, log=True, step=2)
    with pytest.raises(TypeError, match="must be an int"):
        Int(1.5, 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="finite number"):
        Float(0, float("inf"))
    with pytest.raises(ValueError, match="must not be empty"):
        Categorical([])
    with pytest.raises(ValueError, match="duplicate choices"):
        Categorical(["a", "a"])
    with pytest.raises(TypeError, match="list or tuple"):
        Categorical("ab")
    with pytest.raises(TypeError, match="None, bool, int, float or str"):
        Categorical([[1], [2]])
    with pytest.raises(ValueError, match="unknown distribution type"):
        from_dict({"type": "Poisson"})


def test_distributions_suggest_contains_roundtrip() -> None:
    space = {
        "a": Int(2, 20, step=2),
        "b": Float(1e-3, 1.0, log=True),
        "c": Categorical([None, "x", 3]),
        "d": Int(1, 100, log=True),
    }
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(20):
        trial = study.ask()
        for name, dist in space.items():
            assert dist.contains(dist.suggest(trial, name))
    assert not Int(2, 20, step=2).contains(3) and not Int(1, 3).contains(True)
    assert not Categorical([1]).contains(1.0) and Float(0, 1).contains(0.5)
    for dist in space.values():
        assert from_dict(json.loads(json.dumps(dist.to_dict()))) == dist
    assert litmus.Float(0, 1) == Float(0.0, 1.0)


# ---- hyperparameter validation -------------------------------------------------------------


def test_unknown_names_refused_with_close_matches() -> None:
    import xgboost

    with pytest.raises(
        ValueError, match=r"XGBoost: unknown parameters \['max_dept'\] \(did you mean 'max_depth'"
    ):
        XGBoost().hyperparams(max_dept=3)
    with pytest.raises(ValueError, match=r"XGBoost: unknown parameters \['max_dept'\]"):
        XGBoost().search(max_dept=Int(2, 4))
    with pytest.raises(ValueError, match=r"\['etaa'\] \(did you mean 'eta'"):
        XGBoost(etaa=0.1)  # aliases are suggested too
    with pytest.raises(ValueError, match=r"'max_dept' -> 'max_depth'.*'subsamplee' -> 'subsample'"):
        XGBoost().hyperparams(max_dept=3, subsamplee=0.5)
    with pytest.raises(
        ValueError,
        match=r"RandomForest: unknown parameters \['n_estimator'\] \(did you mean 'n_estimators'",
    ):
        RandomForest().hyperparams(n_estimator=3)
    accepted = set(xgboost.XGBModel().get_params()) | xgb_algo.BOOSTER_PARAMS
    assert set(XGBoost().valid_params()) == accepted
    assert set(xgb_algo.RANGES) | set(xgb_algo.CHOICES) <= accepted
    dart = XGBoost().hyperparams(booster="dart", rate_drop=0.1, n_estimators=5, min_split_loss=0.5)
    assert dart.get_params()["gamma"] == 0.5  # XGBoost's alias, read as the canonical name
    fitted = dart.configure("binary", 2).fit(*DATA["binary"])
    assert fitted.estimator_.get_booster().num_boosted_rounds() == 5


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: XGBoost(n_estimators=-5),
            r"XGBoost: n_estimators=-5 is not valid: expected an integer >= 1",
        ),
        (lambda: XGBoost().hyperparams(n_estimators=0), "n_estimators=0 is not valid"),
        (lambda: XGBoost().hyperparams(num_boost_round=True), "n_estimators=True is not valid"),
        (lambda: XGBoost().hyperparams(n_estimators=2.5), "expected an integer >= 1"),
        (
            lambda: XGBoost().hyperparams(eta=0),
            r"learning_rate=0 is not valid: expected a number > 0",
        ),
        (lambda: XGBoost().hyperparams(subsample=0.0), r"expected a number in \(0, 1\]"),
        (lambda: XGBoost().hyperparams(colsample_bytree=1.5), r"in \(0, 1\]"),
        (
            lambda: XGBoost().hyperparams(max_depth=-1),
            "max_depth=-1 is not valid: expected an integer >= 0",
        ),
        (lambda: XGBoost().hyperparams(scale_pos_weight=0), "scale_pos_weight=0 is not valid"),
        (
            lambda: XGBoost().hyperparams(booster="gbtre"),
            r"expected one of \['dart', 'gblinear', 'gbtree'\]",
        ),
        (
            lambda: RandomForest().hyperparams(n_estimators=0),
            r"RandomForest: n_estimators=0 is not valid: The 'n_estimators' parameter",
        ),
        (
            lambda: LogisticRegression().hyperparams(C=-1.0),
            r"LogisticRegression: C=-1.0 is not valid",
        ),
        (lambda: LogisticRegression().hyperparams(standardize="yes"), "expected True or False"),
        (lambda: HistGradientBoosting().hyperparams(max_iter=0), "max_iter=0 is not valid"),
    ],
)
def test_out_of_range_values_refused(make: Callable[[], Algorithm], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_xgboost_accepts_the_nonsense_litmus_refuses() -> None:
    """Why the ranges exist: XGBoost itself trains an empty model without complaint."""
    import xgboost

    X, y = DATA["binary"]
    empty = xgboost.XGBClassifier(n_estimators=-5).fit(X, y)
    assert empty.get_booster().num_boosted_rounds() == 0
    with pytest.raises(ValueError, match="n_estimators=-5"):
        XGBoost().hyperparams(n_estimators=-5)


def test_search_space_bounds_are_checked() -> None:
    with pytest.raises(
        ValueError,
        match=r"XGBoost: the search space subsample=Float.* reaches 1.5, which is not valid: "
        r"expected a number in \(0, 1\]",
    ):
        XGBoost().search(subsample=Float(0.5, 1.5))
    with pytest.raises(ValueError, match=r"n_estimators=Int.* reaches 0"):
        XGBoost().search(n_estimators=Int(0, 10))
    with pytest.raises(ValueError, match=r"reaches 'dartt'"):
        XGBoost().search(booster=["gbtree", "dartt"])
    with pytest.raises(ValueError, match=r"verbosity=Int.* reaches 4"):
        XGBoost().search(verbosity=Int(0, 4, step=2))
    XGBoost().search(verbosity=Int(0, 4, step=3))  # gives 0 and 3 only: both valid
    with pytest.raises(
        ValueError, match=r"RandomForest: the search space max_features=Float.* reaches 1.5"
    ):
        RandomForest().search(max_features=Float(0.5, 1.5))
    with pytest.raises(ValueError, match=r"HistGradientBoosting: the search space learning_rate"):
        HistGradientBoosting().search(learning_rate=Float(0.0, 0.3))
    for name in names():  # every default space is valid for every kind the algorithm supports
        for kind in sorted(get(name).kinds):
            algo = get(name)
            algo.search(**algo.default_space()).configure(kind, N_CLASSES[kind])


def test_kind_dependent_values_checked_at_configure() -> None:
    forest = RandomForest().hyperparams(criterion="squared_error")  # a regressor's criterion
    with pytest.raises(
        ValueError, match=r"criterion='squared_error' is not valid.*RandomForestClassifier"
    ):
        forest.configure("binary", 2)
    assert forest.task_kind is None  # a failed configure changes nothing
    assert forest.configure("regression").task_kind == "regression"
    with pytest.raises(ValueError, match="criterion"):
        RandomForest().search(criterion=["gini", "squared_error"]).configure("multiclass", 3)
