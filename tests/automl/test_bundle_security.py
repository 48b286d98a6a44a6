"""Bundles that can't be turned against the user: each attack crafted for real on a bundle
exported by ``litmus.train`` and shown refused at load (and that nothing it carries runs).

An attacker here can edit any file of the bundle and recompute every sha256 in the manifest
(and the manifest's own digest), as anyone can; only the HMAC key is out of reach.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

import litmus_automl as litmus
from litmus_automl import bundle
from litmus_automl.bundle import BundleError, EnsembleModel
from litmus_automl.model_io import SKOPS_TRUSTED_LOADERS, SKOPS_TRUSTED_TYPES, skops_types

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

ROOT = Path(__file__).resolve().parents[2]
KEY = b"k" * 32
SKOPS = Path("model") / "model.skops"


def _task(name: str, frame: pd.DataFrame, kind: str) -> litmus.TaskData:
    return litmus.TaskData.create(
        name=name, task=kind, data={"train": frame}, schema={"label": "target"}, k_fold=2
    )


@pytest.fixture(scope="module")
def cancer() -> pd.DataFrame:
    return load_breast_cancer(as_frame=True).frame


@pytest.fixture(scope="module")
def trained(cancer: pd.DataFrame) -> litmus.Result:
    """LogisticRegression (a skops model) and XGBoost on breast cancer."""
    pytest.importorskip("xgboost")
    algorithms = ["LogisticRegression", litmus.XGBoost().hyperparams(n_estimators=10)]
    task = _task("cancer", cancer, "binary")
    return litmus.train([task], algorithm=algorithms, progress=False)


def _candidate(result: litmus.Result, name: str) -> litmus.Candidate:
    return next(c for c in result.candidates if c.name == name)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory, trained: litmus.Result) -> Path:
    """An unsigned bundle of the LogisticRegression candidate."""
    return _candidate(trained, "LogisticRegression").export(tmp_path_factory.mktemp("p") / "b")


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory, trained: litmus.Result) -> Path:
    """The same candidate's bundle signed with KEY."""
    lr = _candidate(trained, "LogisticRegression")
    return lr.export(tmp_path_factory.mktemp("s") / "b", key=KEY)


@pytest.fixture(scope="module")
def signed_ensemble(tmp_path_factory: pytest.TempPathFactory, trained: litmus.Result) -> Path:
    """An ensemble of both candidates (XGBoost, LogisticRegression), signed with KEY as text."""
    from litmus_automl.train import native_model

    members = [
        (c.preprocessor, *native_model(c.model), w)
        for c, w in zip(trained.candidates, (0.6, 0.4), strict=True)
    ]
    return bundle.export_ensemble(
        tmp_path_factory.mktemp("e") / "b",
        members,
        "classification",
        list(trained.task.classes_),
        0.5,
        metrics={},
        label="target",
        key=KEY.decode(),
    )


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


def _sha256(file: Path) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()


def _forge(path: Path, edit: Callable[[dict[str, Any]], None] = lambda m: None) -> None:
    """What an attacker does after editing files: edit the manifest, recompute every file's
    sha256 and the manifest's own digest (signature.json is left as it was)."""
    file = path / "manifest.json"
    manifest = json.loads(file.read_text())
    edit(manifest)
    manifest["hashes"] = {name: _sha256(path / name) for name in manifest["hashes"]}
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    manifest["manifest_sha256"] = hashlib.sha256(
        json.dumps(body, sort_keys=True).encode()
    ).hexdigest()
    file.write_text(json.dumps(manifest, indent=2))


def _rows(frame: pd.DataFrame, n: int = 40) -> pd.DataFrame:
    return frame.drop(columns="target").iloc[:n]


# skops: only the types litmus trains -----------------------------------------------------------
def _refit(task: litmus.TaskData, algorithm: litmus.Algorithm) -> litmus.Candidate:
    """What ``litmus.train`` refits for ``algorithm`` (without cross-validation): its
    preprocessing and model on the whole training set, as a Candidate."""
    from litmus_automl.preprocess import Preprocessor

    X, y = task.X(task.train), task.y(task.train)
    n_classes = 0 if task.classes_ is None else len(task.classes_)
    algorithm.configure(task.kind, n_classes, seed=task.seed, n_jobs=1)
    prep = Preprocessor.fit(X, task.roles)
    model = algorithm.with_params({}).fit(prep.transform(X), y)
    return litmus.Candidate(
        name=algorithm.name,
        algorithm=algorithm,
        params={},
        task=task,
        scores={},
        oof=np.empty(0),
        model=model,
        preprocessor=prep,
    )


def test_skops_trust_list_is_exactly_what_litmus_trains(tmp_path: Path, cancer: pd.DataFrame):
    """Re-derive SKOPS_TRUSTED_TYPES / SKOPS_TRUSTED_LOADERS from models litmus trains and
    exports (every scikit-learn algorithm, binary, multiclass, regression, linear models with
    and without standardization, HistGradientBoosting with early stopping): the lists must be
    exactly what these files hold."""

    def sklearn_algorithms() -> list[litmus.Algorithm]:
        small = {"n_estimators": 5}
        return [
            litmus.LogisticRegression(),
            litmus.LogisticRegression().hyperparams(standardize=False, class_weight="balanced"),
            litmus.Ridge(),
            litmus.Ridge().hyperparams(standardize=False),
            litmus.RandomForest().hyperparams(**small),
            litmus.ExtraTrees().hyperparams(**small),
            litmus.HistGradientBoosting().hyperparams(max_iter=10),
        ]

    rng = np.random.default_rng(0)
    big = pd.DataFrame(rng.normal(size=(10_050, 3)), columns=["a", "b", "c"])
    big["target"] = (big["a"] + rng.normal(size=len(big)) > 0).astype(int)
    tasks = [
        (_task("binary", cancer, "binary"), sklearn_algorithms()),
        (_task("multiclass", load_wine(as_frame=True).frame, "multiclass"), sklearn_algorithms()),
        (
            _task("regression", load_diabetes(as_frame=True).frame, "regression"),
            sklearn_algorithms(),
        ),
        # more than 10 000 rows: HistGradientBoosting stops early on a validation split
        (_task("early", big, "binary"), [litmus.HistGradientBoosting().hyperparams(max_iter=5)]),
    ]
    files: dict[str, Path] = {}
    for task, algorithms in tasks:
        for i, algorithm in enumerate(a for a in algorithms if task.kind in a.kinds):
            where = _refit(task, algorithm).export(tmp_path / f"{task.name}-{i}")
            manifest = json.loads((where / "manifest.json").read_text())
            if manifest["model"]["format"] == "sklearn":
                files[f"{task.name}/{algorithm.name}#{i}"] = where / SKOPS
    # every scikit-learn algorithm is exported with skops for some task (Ridge classifies
    # through its own softmax, a pickle)
    exported = {name.split("/")[1].split("#")[0] for name in files}
    assert exported == {
        "LogisticRegression",
        "Ridge",
        "RandomForest",
        "ExtraTrees",
        "HistGradientBoosting",
    }
    needed_types: set[str] = set()
    needed_loaders: set[str] = set()
    for name, file in files.items():
        types, loaders = skops_types(file)
        missing = sorted(types - SKOPS_TRUSTED_TYPES)
        assert not missing, f"{name} needs types missing from SKOPS_TRUSTED_TYPES: {missing}"
        odd = sorted(loaders - SKOPS_TRUSTED_LOADERS)
        assert not odd, f"{name} needs loaders missing from SKOPS_TRUSTED_LOADERS: {odd}"
        needed_types |= types
        needed_loaders |= loaders
    unused = sorted(SKOPS_TRUSTED_TYPES - needed_types)
    assert not unused, f"SKOPS_TRUSTED_TYPES trusts types no litmus model holds: {unused}"
    # CachedNode: a second reference to an object already read; no litmus model shares one
    assert SKOPS_TRUSTED_LOADERS - needed_loaders == {"CachedNode"}
    for name in files:  # and each loads back
        assert litmus.load(files[name].parent.parent).kind in ("classification", "regression")


def _swap_model(path: Path, model: Any) -> None:
    """Replace the bundle's skops model by ``model`` (skops.io.dump) and forge the hashes."""
    import skops.io

    (path / SKOPS).unlink()
    skops.io.dump(model, path / SKOPS)
    _forge(path)


def _exec_payload(marker: Path, final: Any) -> Any:
    """A scikit-learn Pipeline whose predict_proba runs Python code before ``final`` (a
    fitted classifier): array2string turns the features into text whose separator is the
    code, runstring (``exec``) runs it. Every type in it passed the old trust list (any
    ``numpy.*``, ``sklearn.*``)."""
    from numpy.testing._private.utils import runstring
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    code = f"open({str(marker)!r}, 'w').write('ran')"
    text = FunctionTransformer(
        np.array2string,
        kw_args={"separator": f"]]\n{code}\n[[", "max_line_width": 10**9, "threshold": 10**9},
    )
    run = FunctionTransformer(runstring, kw_args={"dict": {}})
    return make_pipeline(text, run, final)


def test_skops_runstring_payload_is_refused_and_nothing_runs(
    plain: Path, tmp_path: Path, cancer: pd.DataFrame
) -> None:
    import skops.io

    final = litmus.load(plain).model.steps[-1][1]
    # the payload is live: loaded as skops allows it, its first predict runs the code
    live = tmp_path / "live.skops"
    skops.io.dump(_exec_payload(tmp_path / "live-marker", final), live)
    untrusted = skops.io.get_untrusted_types(file=live)
    assert "numpy.testing._private.utils.runstring" in untrusted
    assert all(t.startswith(("numpy.", "sklearn.")) for t in untrusted)  # the old trust list
    with pytest.raises(ValueError):  # the code runs, then the next step fails
        skops.io.load(live, trusted=untrusted).predict_proba(np.zeros((1, 3)))
    assert (tmp_path / "live-marker").read_text() == "ran"

    marker = tmp_path / "marker"
    attacked = _copy(plain, tmp_path / "attacked")
    _swap_model(attacked, _exec_payload(marker, final))
    with pytest.raises(BundleError, match=r"model\.skops holds types that litmus does not tr") as e:
        litmus.load(attacked)
    assert "numpy.testing._private.utils.runstring" in str(e.value)
    assert "sklearn.preprocessing._function_transformer.FunctionTransformer" in str(e.value)
    assert not marker.exists()
    # the CLI refuses it too, in a fresh process, and nothing runs there either
    _rows(cancer).to_csv(tmp_path / "rows.csv", index=False)
    cli = [sys.executable, "-m", "litmus_automl.cli", "predict", str(attacked)]
    done = subprocess.run([*cli, str(tmp_path / "rows.csv")], capture_output=True, cwd=ROOT)
    assert done.returncode != 0 and b"runstring" in done.stderr
    assert not marker.exists()


def test_skops_function_transformer_with_trusted_function_is_refused(
    plain: Path, tmp_path: Path, cancer: pd.DataFrame
) -> None:
    """skops itself trusts every scikit-learn estimator and every NumPy ufunc: a
    FunctionTransformer(numpy.negative) before the model shows up in no untrusted list, and
    inverts the classifier's decisions. litmus never trains one, so it is refused."""
    import skops.io

    model = litmus.load(plain).model
    inverted = bundle.InferenceModel(
        litmus.load(plain).preprocessor, model, "sklearn", "classification", [0, 1]
    )
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    evil = make_pipeline(FunctionTransformer(np.negative), *[s for _, s in model.steps])
    attacked = _copy(plain, tmp_path / "attacked")
    _swap_model(attacked, evil)
    assert skops.io.get_untrusted_types(file=attacked / SKOPS) == []  # skops would load it
    rows = _rows(cancer, 200)
    flipped = bundle.InferenceModel(
        inverted.preprocessor, evil, "sklearn", "classification", [0, 1]
    )
    assert (flipped.predict(rows) != inverted.predict(rows)).mean() > 0.5  # the harm is real
    with pytest.raises(BundleError, match=r"FunctionTransformer'?\]"):
        litmus.load(attacked)


def test_skops_function_and_method_loaders_are_refused(plain: Path, tmp_path: Path) -> None:
    """An object rebuilt by a skops loader for callables (a function, here of a trusted type
    name) is refused by loader, even when its type name is trusted."""
    attacked = _copy(plain, tmp_path / "attacked")
    file = attacked / SKOPS
    with zipfile.ZipFile(file) as z:
        members = {n: z.read(n) for n in z.namelist()}
    schema = json.loads(members["schema.json"])
    schema["content"]["content"]["memory"] = {
        "__class__": "Pipeline",
        "__module__": "sklearn.pipeline",
        "__loader__": "MethodNode",
        "content": {"func": "fit", "obj": schema["content"]["content"]["steps"]},
    }
    members["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(file, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    _forge(attacked)
    with pytest.raises(BundleError, match=r"skops loaders \['MethodNode'\]"):
        litmus.load(attacked)


def _tree_bundle(cancer: pd.DataFrame, algorithm: litmus.Algorithm, path: Path) -> Path:
    return _refit(_task("cancer", cancer, "binary"), algorithm).export(path)


def test_trees_indexing_out_of_bounds_are_refused(cancer: pd.DataFrame, tmp_path: Path) -> None:
    """Trusted tree types with crafted node arrays (a child index past the end, a child that
    loops back, a split on a feature the model lacks): scikit-learn's predict would read out
    of bounds or loop forever, so they are refused at load."""
    from sklearn.tree._tree import Tree

    forest = _tree_bundle(cancer, litmus.RandomForest().hyperparams(n_estimators=3), tmp_path / "f")
    for field, value, message in (
        ("left_child", 10**6, "a left child index not after its node"),
        ("right_child", 0, "a right child index not after its node"),
        ("feature", 999, r"a split on a feature outside \[0, 30\)"),
    ):
        model = litmus.load(forest).model
        tree = model.estimators_[1].tree_
        state = tree.__getstate__()
        nodes = state["nodes"].copy()
        nodes[field][0] = value
        bad = Tree(tree.n_features, tree.n_classes, tree.n_outputs)
        bad.__setstate__({**state, "nodes": nodes})
        model.estimators_[1].tree_ = bad
        attacked = _copy(forest, tmp_path / f"forest-{field}")
        _swap_model(attacked, model)
        with pytest.raises(BundleError, match=rf"model\.skops: a Tree has {message}"):
            litmus.load(attacked)

    boosted = _tree_bundle(
        cancer, litmus.HistGradientBoosting().hyperparams(max_iter=3), tmp_path / "h"
    )
    model = litmus.load(boosted).model
    model._predictors[2][0].nodes["left"][0] = 10**6
    attacked = _copy(boosted, tmp_path / "boosted")
    _swap_model(attacked, model)
    with pytest.raises(BundleError, match="a TreePredictor has a left child index not after"):
        litmus.load(attacked)
    assert litmus.load(boosted).kind == "classification"


# signing ---------------------------------------------------------------------------------------
def test_signed_bundle_loads_with_its_key_and_without_one(
    signed: Path, plain: Path, cancer: pd.DataFrame
) -> None:
    doc = json.loads((signed / "signature.json").read_text())
    assert doc["format"] == "litmus-bundle-signature" and doc["algorithm"] == "HMAC-SHA256"
    assert not (plain / "signature.json").exists()
    rows = _rows(cancer)
    expected = litmus.load(plain).predict_proba(rows)
    for key in (KEY, KEY.decode()):  # bytes, or text as its UTF-8 bytes
        assert np.array_equal(litmus.load(signed, key=key).predict_proba(rows), expected)
    assert np.array_equal(litmus.load(signed).predict_proba(rows), expected)  # hashes only


def test_wrong_key_and_unsigned_bundle_are_refused(signed: Path, plain: Path) -> None:
    with pytest.raises(BundleError, match=r"signature\.json: the signature does not match"):
        litmus.load(signed, key=b"another key")
    with pytest.raises(BundleError, match=r"not signed.*refusing an unsigned bundle"):
        litmus.load(plain, key=KEY)
    with pytest.raises(ValueError, match=r"key=.*empty"):
        litmus.load(signed, key="")
    with pytest.raises(TypeError, match="key= must be bytes or str; got int"):
        litmus.load(signed, key=42)  # type: ignore[arg-type]


def _edits() -> dict[str, Callable[[dict[str, Any]], None]]:
    def swap_labels(m: dict[str, Any]) -> None:
        m["task"]["classes"] = m["task"]["classes"][::-1]

    def low_threshold(m: dict[str, Any]) -> None:
        m["task"]["threshold"] = 0.001

    def regression(m: dict[str, Any]) -> None:
        m["task"].update(kind="regression", classes=None, threshold=None)

    def more_labels(m: dict[str, Any]) -> None:
        m["task"].update(classes=[*m["task"]["classes"], 2], threshold=None)

    def big_threshold(m: dict[str, Any]) -> None:
        m["task"]["threshold"] = 5.0

    def kind_only(m: dict[str, Any]) -> None:
        m["task"]["kind"] = "regression"

    return {
        "swap_labels": swap_labels,
        "low_threshold": low_threshold,
        "regression": regression,
        "more_labels": more_labels,
        "big_threshold": big_threshold,
        "kind_only": kind_only,
        "features": lambda m: m["feature_names"].reverse(),
    }


# what the checks without a key catch (None: only the signature can tell)
CAUGHT_WITHOUT_KEY = {
    "swap_labels": None,
    "low_threshold": None,
    "regression": r"task\.kind is 'regression', but the model .* is a classification model",
    "more_labels": r"shape \(1, 2\) for one row, but task\.classes lists 3 classes",
    "big_threshold": r"manifest\.json: task\.threshold must be a number strictly between 0 and 1",
    "kind_only": r"manifest\.json: task\.classes must be null for a regression",
    "features": r"manifest\.json: feature_names .* differs from the features of",
}


@pytest.mark.parametrize("edit", sorted(CAUGHT_WITHOUT_KEY))
def test_edited_task_is_refused_with_a_key(
    edit: str, signed: Path, tmp_path: Path, cancer: pd.DataFrame
) -> None:
    attacked = _copy(signed, tmp_path / "attacked")
    _forge(attacked, _edits()[edit])
    with pytest.raises(BundleError, match=r"signature\.json: the signature does not match"):
        litmus.load(attacked, key=KEY)
    caught = CAUGHT_WITHOUT_KEY[edit]
    if caught is not None:
        with pytest.raises(BundleError, match=caught):
            litmus.load(attacked)
        return
    # a plausible edit loads without a key and answers wrongly: why the key matters
    rows = _rows(cancer, 200)
    honest = litmus.load(signed, key=KEY).predict(rows)
    assert (litmus.load(attacked).predict(rows) != honest).any()


def test_every_file_is_covered_by_the_signature(signed_ensemble: Path, tmp_path: Path) -> None:
    """Change any one file of a signed ensemble (each member's plan and model included) and
    recompute the hashes: the signature no longer matches."""
    manifest = json.loads((signed_ensemble / "manifest.json").read_text())
    assert len(manifest["ensemble"]) == 2
    names = sorted(manifest["hashes"])
    assert {"members/0/preprocess.json", "members/1/preprocess.json"} <= set(names)
    for i, name in enumerate(names):
        attacked = _copy(signed_ensemble, tmp_path / str(i))
        with open(attacked / name, "ab") as f:
            f.write(b" ")
        _forge(attacked)
        with pytest.raises(BundleError, match="signature does not match"):
            litmus.load(attacked, key=KEY)
    assert isinstance(litmus.load(signed_ensemble, key=KEY.decode()), EnsembleModel)

    def heavier(m: dict[str, Any]) -> None:
        m["ensemble"][0]["weight"], m["ensemble"][1]["weight"] = (
            m["ensemble"][1]["weight"],
            m["ensemble"][0]["weight"],
        )

    reweighted = _copy(signed_ensemble, tmp_path / "weights")
    _forge(reweighted, heavier)
    with pytest.raises(BundleError, match="signature does not match"):
        litmus.load(reweighted, key=KEY)


def test_environment_variable_signs_and_verifies(
    trained: litmus.Result,
    plain: Path,
    tmp_path: Path,
    cancer: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """LITMUS_BUNDLE_KEY (text) signs at export and is required at load; the CLI's
    `litmus predict` checks it too, in a fresh process, with no option of its own."""
    monkeypatch.setenv("LITMUS_BUNDLE_KEY", "a text key")
    target = _candidate(trained, "LogisticRegression").export(tmp_path / "bundle")
    assert (target / "signature.json").is_file()
    assert litmus.load(target).kind == "classification"  # verified with the variable's key
    litmus.load(target, key=b"a text key")  # the same key, as its UTF-8 bytes
    with pytest.raises(BundleError, match="signature does not match"):
        litmus.load(target, key="another")  # key= wins over the variable
    with pytest.raises(BundleError, match="refusing an unsigned bundle"):
        litmus.load(plain)
    _rows(cancer).to_csv(tmp_path / "rows.csv", index=False)
    cli = [sys.executable, "-m", "litmus_automl.cli", "predict"]
    ok = subprocess.run([*cli, str(target), str(tmp_path / "rows.csv")], capture_output=True)
    assert ok.returncode == 0, ok.stderr
    assert len(ok.stdout.decode().splitlines()) == 41  # a header and 40 predictions
    unsigned = subprocess.run([*cli, str(plain), str(tmp_path / "rows.csv")], capture_output=True)
    assert unsigned.returncode != 0 and b"refusing an unsigned bundle" in unsigned.stderr
    monkeypatch.delenv("LITMUS_BUNDLE_KEY")
    assert litmus.load(plain).kind == "classification"


# files of the bundle ---------------------------------------------------------------------------
def test_symlinks_inside_a_bundle_are_refused(plain: Path, tmp_path: Path) -> None:
    # a link to a copy of the same bytes: every hash still matches
    linked = _copy(plain, tmp_path / "linked")
    outside = tmp_path / "outside.skops"
    shutil.copy(linked / SKOPS, outside)
    (linked / SKOPS).unlink()
    (linked / SKOPS).symlink_to(outside)
    with pytest.raises(BundleError, match=r"linked/model/model\.skops: a symbolic link inside"):
        litmus.load(linked)

    folder = _copy(plain, tmp_path / "folder")
    shutil.move(folder / "model", tmp_path / "elsewhere")
    (folder / "model").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(BundleError, match=r"folder/model: a symbolic link inside the bundle"):
        litmus.load(folder)

    # the bundle directory itself may be reached through a link
    (tmp_path / "alias").symlink_to(plain, target_is_directory=True)
    assert litmus.load(tmp_path / "alias").kind == "classification"


def test_paths_leaving_the_bundle_and_special_files_are_refused(
    plain: Path, tmp_path: Path
) -> None:
    (tmp_path / "secret.json").write_text("{}")
    for name, message in (
        ("../secret.json", r"hashes: '\.\./secret\.json' lies outside the bundle"),
        (str(tmp_path / "secret.json"), r"hashes: '/.*secret\.json' lies outside the bundle"),
        ("", r"hashes: '' is not a relative path"),
    ):
        attacked = _copy(plain, tmp_path / f"attacked{len(name)}")

        def add(m: dict[str, Any], name: str = name) -> None:
            m["hashes"][name] = "0" * 64

        _forge_without_rehash(attacked, add)
        with pytest.raises(BundleError, match=message):
            litmus.load(attacked)

    fifo = _copy(plain, tmp_path / "fifo")
    os.mkfifo(fifo / "model" / "pipe")
    with pytest.raises(BundleError, match=r"fifo/model/pipe: not a regular file or directory"):
        litmus.load(fifo)


def _forge_without_rehash(path: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit the manifest and recompute only its own digest (listed files may not exist)."""
    file = path / "manifest.json"
    manifest = json.loads(file.read_text())
    edit(manifest)
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    manifest["manifest_sha256"] = hashlib.sha256(
        json.dumps(body, sort_keys=True).encode()
    ).hexdigest()
    file.write_text(json.dumps(manifest))


def test_export_refuses_a_task_that_makes_no_sense(trained: litmus.Result, tmp_path: Path) -> None:
    lr = _candidate(trained, "LogisticRegression")
    from litmus_automl.train import native_model

    model, fmt = native_model(lr.model)
    args = {"metrics": {}, "label": "target"}
    for kind, classes, threshold, message in (
        ("binary", [0, 1], None, r"kind must be one of \['classification', 'regression'\]"),
        ("classification", [0], None, "classes must list two or more"),
        ("classification", [0, 0], None, "classes must be distinct"),
        ("classification", [0, 1], 1.0, "threshold must be a number strictly between 0 and 1"),
        ("classification", [0, 1], float("nan"), "threshold must be a number strictly"),
        ("classification", [0, 1, 2], 0.5, "threshold is for a binary classification"),
        ("regression", [0, 1], None, "classes must be null for a regression"),
    ):
        with pytest.raises(BundleError, match=message):
            bundle.export(
                tmp_path / "b", lr.preprocessor, model, fmt, kind, classes, threshold, **args
            )
        assert not (tmp_path / "b").exists()


def test_preprocess_json_with_eval_node_is_refused(plain: Path, tmp_path: Path) -> None:
    """A preprocess.json whose plan ends in a FrameElementwise ``eval`` node (pandas
    ``DataFrame.eval`` of attacker text) is refused at load."""
    marker = tmp_path / "marker"
    attacked = _copy(plain, tmp_path / "attacked")
    doc = json.loads((attacked / "preprocess.json").read_text())
    plan = doc["pipeline"]["plan"]
    expr = f"x = @open({str(marker)!r}, 'w')"
    plan["nodes"].append(
        {
            "op": "FrameElementwise",
            "fields": {
                "input": {"$node": plan["root"]},
                "method": "eval",
                "kwargs": {"$tuple": [{"$tuple": ["expr", expr]}]},
            },
        }
    )
    plan["root"] = len(plan["nodes"]) - 1
    (attacked / "preprocess.json").write_text(json.dumps(doc))
    _forge(attacked)
    try:
        with pytest.raises(BundleError, match="eval"):
            litmus.load(attacked)
    finally:
        assert not marker.exists()
