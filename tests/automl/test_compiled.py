"""Models compiled for the one-row path: the same answers as the training library for every
model family litmus trains, stored and checked in the bundle, and crafted files refused."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

from litmus_automl import (
    Algorithm,
    ExtraTrees,
    HistGradientBoosting,
    LogisticRegression,
    RandomForest,
    Ridge,
    XGBoost,
    bundle,
    compiled,
)
from litmus_automl.bundle import BundleError
from litmus_automl.model_io import MODEL_IO
from litmus_automl.preprocess import Preprocessor
from litmus_automl.train import native_model


def _data(kind: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Real rows: breast cancer (binary), digits (10 classes), diabetes (regression)."""
    load = {"binary": load_breast_cancer, "multiclass": load_digits, "regression": load_diabetes}
    bunch = load[kind](as_frame=True)
    X = bunch.data.iloc[:600].astype(np.float64)
    y = bunch.target.to_numpy()[:600]
    return X, y.astype(np.float64) if kind == "regression" else y


DATA = {kind: _data(kind) for kind in ("binary", "multiclass", "regression")}

ALGORITHMS: dict[str, Callable[[], Algorithm]] = {
    "XGBoost": lambda: XGBoost(n_estimators=40, max_depth=4),
    "RandomForest": lambda: RandomForest(n_estimators=30, max_depth=8),
    "ExtraTrees": lambda: ExtraTrees(n_estimators=30),
    "HistGradientBoosting": lambda: HistGradientBoosting(max_iter=30),
    "LogisticRegression": lambda: LogisticRegression(),
    "LogisticRegression-raw": lambda: LogisticRegression(standardize=False, max_iter=5000),
    "Ridge": lambda: Ridge(),
    "Ridge-raw": lambda: Ridge(standardize=False),
}
CASES = [
    (name, kind)
    for name, make in ALGORITHMS.items()
    for kind in DATA
    if kind in make().kinds and not (name.startswith("Ridge") and kind != "regression")
]


def _fit(name: str, kind: str, X: np.ndarray, y: np.ndarray) -> tuple[Any, str, str]:
    """The native model litmus exports for ``name`` on ``kind``, its format and the bundle's
    task kind."""
    algorithm = ALGORITHMS[name]()
    n_classes = 0 if kind == "regression" else len(np.unique(y))
    algorithm.configure(kind, n_classes, seed=0, n_jobs=1)
    model, fmt = native_model(algorithm.fit(X, y))
    return model, fmt, "regression" if kind == "regression" else "classification"


def _labels(out: np.ndarray) -> np.ndarray:
    return (out[:, 1] >= 0.5).astype(int) if out.shape[1] == 2 else out.argmax(axis=1)


def _assert_same_answers(got: np.ndarray, want: np.ndarray, kind: str, exact: bool) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape
    if exact:
        assert np.array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    if kind == "classification":
        assert np.array_equal(_labels(got), _labels(want))


@pytest.mark.parametrize(("name", "kind"), CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_compiled_equals_native_on_real_rows(name: str, kind: str) -> None:
    """Each model family litmus trains (binary, multi-class, regression): the compiled form
    gives the native answers on a few hundred real rows, one row at a time and all at once:
    the same bits for linear models, within 1e-6 and the same labels for trees."""
    frame, y = DATA[kind]
    X = frame.to_numpy()
    train, rows = X[::2], X[1::2]
    model, fmt, task = _fit(name, kind, train, y[::2])
    native = MODEL_IO[fmt].predictor(model, task)
    form, why = compiled.compile_model(model, fmt, task, native, X.shape[1])
    assert form is not None, why
    assert form.family == ("linear" if name.startswith(("Logistic", "Ridge")) else "trees")
    fast = form.predictor(task, native)
    exact = form.family == "linear"
    for i in range(len(rows)):
        _assert_same_answers(fast(rows[i : i + 1]), native(rows[i : i + 1]), task, exact)
    _assert_same_answers(fast(rows), native(rows), task, exact)
    if name == "XGBoost":  # one row: XGBoost's float32 sums and links, bit for bit
        assert all(np.array_equal(fast(r[None]), native(r[None])) for r in rows)


@pytest.mark.parametrize("name", ["XGBoost", "HistGradientBoosting", "RandomForest"])
@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_missing_values_follow_the_default_directions(name: str, kind: str) -> None:
    """Rows with NaN: XGBoost's and HistGradientBoosting's learned default directions in the
    kernel; a forest leaves such rows to scikit-learn. The same answers either way."""
    frame, y = DATA[kind]
    X = frame.to_numpy().copy()
    rng = np.random.default_rng(1)
    X[rng.random(X.shape) < 0.15] = np.nan
    if name == "RandomForest":
        train = np.nan_to_num(X[::2])  # trained without NaN; predicting with NaN
    else:
        train = X[::2]
    model, fmt, task = _fit(name, kind, train, y[::2])
    native = MODEL_IO[fmt].predictor(model, task)
    form, why = compiled.compile_model(model, fmt, task, native, X.shape[1])
    assert form is not None, why
    fast = form.predictor(task, native)
    rows = X[1::2]
    assert np.isnan(rows).any(axis=1).mean() > 0.5
    for i in range(len(rows)):
        _assert_same_answers(fast(rows[i : i + 1]), native(rows[i : i + 1]), task, False)


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
@pytest.mark.parametrize("name", ["XGBoost", "RandomForest", "HistGradientBoosting"])
def test_values_the_kernel_leaves_to_the_native_model(name: str) -> None:
    """An infinite value, or one past float32's range where features are rounded to float32,
    goes to the native model: the same answer, or the same error (scikit-learn's forests
    refuse it)."""
    frame, y = DATA["binary"]
    X = frame.to_numpy()
    model, fmt, task = _fit(name, "binary", X[::2], y[::2])
    native = MODEL_IO[fmt].predictor(model, task)
    form, why = compiled.compile_model(model, fmt, task, native, X.shape[1])
    assert form is not None, why
    fast = form.predictor(task, native)
    for value in (np.inf, -np.inf, 1e39):
        row = X[1:2].copy()
        row[0, 3] = value
        try:
            want = native(row)
        except ValueError as err:
            with pytest.raises(ValueError, match=re.escape(str(err).splitlines()[0])):
                fast(row)
        else:
            _assert_same_answers(fast(row), want, task, False)


def test_xgboost_best_iteration_and_parallel_trees() -> None:
    """Early stopping (predict up to the best round, as XGBModel.predict) and
    ``num_parallel_tree`` > 1 (several trees per class and round)."""
    xgboost = pytest.importorskip("xgboost")
    frame, y = DATA["multiclass"]
    X = frame.to_numpy()
    model = xgboost.XGBClassifier(
        n_estimators=200, max_depth=3, num_parallel_tree=2, early_stopping_rounds=3
    ).fit(X[::2], y[::2], eval_set=[(X[1::2], y[1::2])], verbose=False)
    assert model.get_booster().attr("best_iteration") is not None
    assert model.best_iteration < 199
    native = MODEL_IO["xgboost"].predictor(model, "classification")
    form, why = compiled.compile_model(model, "xgboost", "classification", native, X.shape[1])
    assert form is not None, why
    assert len(form.roots) == (model.best_iteration + 1) * 10 * 2
    fast = form.predictor("classification", native)
    assert np.array_equal(fast(X), model.predict_proba(X))


def test_declined_models_are_served_natively(tmp_path: Path) -> None:
    """No compiled form for XGBoost's categorical splits or Ridge's classifier (a pickle): the
    manifest says why, and the bundle predicts through the native model."""
    xgboost = pytest.importorskip("xgboost")
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {"a": rng.normal(size=300), "c": pd.Categorical(rng.choice(["x", "y", "z"], 300))}
    )
    y = ((X["a"] > 0) ^ (X["c"] == "y")).astype(int)
    model = xgboost.XGBClassifier(n_estimators=5, enable_categorical=True).fit(X, y)
    native = MODEL_IO["xgboost"].predictor(model, "classification")
    form, why = compiled.compile_model(model, "xgboost", "classification", native, 2)
    assert form is None and "categorical" in why

    frame, y2 = DATA["binary"]
    ridge = Ridge()
    ridge.configure("binary", 2, seed=0, n_jobs=1)
    model2, fmt = native_model(ridge.fit(frame.to_numpy(), y2))
    assert fmt == "pickle"
    pre = Preprocessor.fit(frame, {c: "numeric" for c in frame.columns})
    path = bundle.export(
        tmp_path / "ridge", pre, model2, fmt, "classification", [0, 1], None, {}, "target"
    )
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["model"]["compiled"] == {"declined": "model format 'pickle' is served natively"}
    m = bundle.load(path, allow_pickle=True)
    assert m.compiled is None
    row = frame.iloc[0].to_dict()
    assert np.array_equal(m.predict_proba(row), model2.predict_proba(pre.transform(frame[:1]))[0])


# the bundle -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def forest_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, Preprocessor]:
    frame, y = DATA["multiclass"]
    pre = Preprocessor.fit(frame, {c: "numeric" for c in frame.columns})
    model, fmt, task = _fit("RandomForest", "multiclass", pre.transform(frame), y)
    classes = [f"digit {i}" for i in range(10)]
    path = bundle.export(
        tmp_path_factory.mktemp("rf") / "b", pre, model, fmt, task, classes, None, {}, "target"
    )
    return path, model, pre


def test_bundle_serves_the_compiled_form_and_older_bundles_natively(
    forest_bundle: tuple[Path, Any, Preprocessor], tmp_path: Path
) -> None:
    """A bundle holds the compiled form (hashed like every file) and serves rows through
    it; one exported without it (as older bundles) predicts natively, with the same labels."""
    path, model, pre = forest_bundle
    manifest = json.loads((path / "manifest.json").read_text())
    files = manifest["model"]["compiled"]["files"]
    assert files == ["compiled/compiled.json", "compiled/arrays.npz"]
    assert all(f in manifest["hashes"] for f in files)
    served = bundle.load(path)
    assert isinstance(served.compiled, compiled.TreeEnsemble)

    frame = DATA["multiclass"][0]
    old = bundle.export(
        tmp_path / "old", pre, model, "sklearn", "classification",
        served.classes, None, {}, "target", compile_models=False,
    )  # fmt: skip
    assert "compiled" not in json.loads((old / "manifest.json").read_text())["model"]
    plain = bundle.load(old)
    assert plain.compiled is None
    records = frame.iloc[:200].to_dict("records")
    for r in records:
        np.testing.assert_allclose(served.predict_proba(r), plain.predict_proba(r), atol=1e-6)
    assert [served.predict(r) for r in records] == [plain.predict(r) for r in records]
    assert served.predict(records) == plain.predict(records)
    assert np.array_equal(served.predict(frame), plain.predict(frame))  # frames: native


def _rewrite(path: Path, change: Callable[[dict[str, np.ndarray]], None]) -> None:
    """Edit the bundle's compiled arrays and rewrite every hash, as someone able to edit the
    files could: only the compiled model's own checks stand in the way."""
    file = path / "compiled" / "arrays.npz"
    with np.load(file) as npz:
        arrays = {k: npz[k] for k in npz.files}
    change(arrays)
    with open(file, "wb") as f:
        np.savez(f, **arrays)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["hashes"]["compiled/arrays.npz"] = hashlib.sha256(file.read_bytes()).hexdigest()
    manifest["manifest_sha256"] = bundle._manifest_digest(manifest)
    (path / "manifest.json").write_text(json.dumps(manifest))


def _inner(arrays: dict[str, np.ndarray]) -> int:
    return int(np.flatnonzero(arrays["left"] != -1)[0])


def _set(name: str, value: Any, where: Callable[[dict[str, np.ndarray]], int] = _inner) -> Any:
    def change(arrays: dict[str, np.ndarray]) -> None:
        arrays[name][where(arrays)] = value

    return change


def _replace(name: str, value: Callable[[np.ndarray], Any]) -> Any:
    def change(arrays: dict[str, np.ndarray]) -> None:
        arrays[name] = value(arrays[name])

    return change


CRAFTED = {
    "left child past the end": (
        _set("left", 10**6),
        r"node 0's left child 1000000 is out of range",
    ),
    "right child pointing back": (_set("right", 0), r"node 0's right child 0 is out of range"),
    "child in the next tree": (
        _replace("left", lambda a: np.where(np.arange(len(a)) == 0, len(a) - 1, a)),
        r"node 0's left child \d+ is out of range",
    ),
    "feature out of range": (
        _set("feature", 64),
        r"node 0 splits on feature 64, outside \[0, 64\)",
    ),
    "negative feature": (_set("feature", -3), r"splits on feature -3"),
    "NaN threshold": (_set("threshold", np.nan), r"node 0's threshold is NaN"),
    "root out of range": (_set("roots", 10**6, lambda a: -1), r"'roots' must start at 0"),
    "offset out of range": (_set("offset", 7, lambda a: 0), r"tree 0 adds to outputs 7..16"),
    "infinite leaf": (
        _set("value", np.inf, lambda a: int(np.flatnonzero(a["left"] == -1)[0])),
        r"leaf values and 'base' must be finite",
    ),
    "float child indices": (
        _replace("left", lambda a: a.astype(np.float64)),
        r"array 'left' has dtype float64; expected int32",
    ),
    "missing array": (lambda arrays: arrays.pop("threshold"), r"array 'threshold' is missing"),
    "object array": (
        _replace("value", lambda a: a.astype(object)),
        r"not a NumPy archive of plain arrays",
    ),
}


@pytest.mark.parametrize("case", list(CRAFTED), ids=list(CRAFTED))
def test_crafted_compiled_files_are_refused(
    case: str, forest_bundle: tuple[Path, Any, Preprocessor], tmp_path: Path
) -> None:
    """A compiled-model file whose arrays would make the kernel read out of bounds or loop
    (or that holds anything but plain numeric arrays) is refused at load with an error
    naming the file and the node, even when every hash has been rewritten to match."""
    import shutil

    change, message = CRAFTED[case]
    path = Path(shutil.copytree(forest_bundle[0], tmp_path / "b"))
    _rewrite(path, change)
    with pytest.raises(compiled.CompiledFormatError, match=message) as err:
        bundle.load(path)
    assert "compiled/arrays.npz" in str(err.value)


def test_a_compiled_form_that_disagrees_with_the_native_model_is_refused(
    forest_bundle: tuple[Path, Any, Preprocessor], tmp_path: Path
) -> None:
    """Valid arrays that do not give the native model's answers (a leaf's class
    probabilities swapped): the load compares both on probe rows and refuses the bundle."""
    import shutil

    path = Path(shutil.copytree(forest_bundle[0], tmp_path / "b"))

    def swap(arrays: dict[str, np.ndarray]) -> None:
        arrays["value"] = arrays["value"][:, ::-1].copy()

    _rewrite(path, swap)
    with pytest.raises(BundleError, match=r"compiled: the compiled model does not give the"):
        bundle.load(path)


def test_compiled_settings_are_checked(
    forest_bundle: tuple[Path, Any, Preprocessor], tmp_path: Path
) -> None:
    """compiled.json: another format, version or family, or settings of the wrong type."""
    import shutil

    for change, message in [
        ({"version": 99}, r"version 99 is not supported"),
        ({"family": "code"}, r"family 'code'; expected one of \['linear', 'trees'\]"),
        ({"strict": "yes"}, r"'strict' must be true or false"),
        ({"post": "eval"}, r"'post' is 'eval'"),
    ]:
        path = Path(
            shutil.copytree(forest_bundle[0], tmp_path / str(len(list(tmp_path.iterdir()))))
        )
        file = path / "compiled" / "compiled.json"
        file.write_text(json.dumps({**json.loads(file.read_text()), **change}))
        manifest = json.loads((path / "manifest.json").read_text())
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        manifest["hashes"]["compiled/compiled.json"] = digest
        manifest["manifest_sha256"] = bundle._manifest_digest(manifest)
        (path / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(compiled.CompiledFormatError, match=message):
            bundle.load(path)
