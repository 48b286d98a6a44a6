"""Serving what training saw: an integer feature may be missing (imputed as in training),
``inf`` is missing, ``litmus predict`` reads its file with the bundle's schema and reports bad
input, a missing or a bad bundle as one line (exit code 2, no traceback)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import litmus_automl as litmus
from litmus_automl.cli import main


def _frame(n: int = 160, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    k = rng.integers(0, 6, n)  # an int feature, never missing in training
    codes = rng.choice(["007", "042", "x9"], n)  # digits-only codes that are strings
    ts = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 10**7, n), unit="s")
    y = np.where(x + k / 3 + (codes == "007") + rng.normal(0, 0.3, n) > 1.2, "yes", "no")
    return pd.DataFrame(
        {"x": x, "k": k, "code": codes, "ts": ts.strftime("%Y-%m-%dT%H:%M:%S"), "y": y}
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real training run from a CSV; a LogisticRegression and an XGBoost bundle."""
    root = tmp_path_factory.mktemp("served")
    _frame().to_csv(root / "train.csv", index=False)
    task = litmus.TaskData.create(
        "t", "binary", {"train": str(root / "train.csv")}, {"label": "y"}, k_fold=2
    )
    assert task.roles == {"x": "numeric", "k": "numeric", "code": "categorical", "ts": "datetime"}
    algorithms = ["LogisticRegression", litmus.XGBoost(n_estimators=8, max_depth=2)]
    result = litmus.train([task], algorithm=algorithms, progress=False)
    bundles = {}
    for c in result.candidates:
        bundles[type(c.algorithm).__name__] = c.export(root / type(c.algorithm).__name__)
    return {"root": root, "task": task, "result": result, "bundles": bundles}


def _rows(served: dict[str, Any]) -> pd.DataFrame:
    return served["task"].X(served["task"].train).head(6).reset_index(drop=True)


@pytest.mark.parametrize("algorithm", ["LogisticRegression", "XGBoost"])
def test_missing_int_feature_is_imputed_as_in_training(
    served: dict[str, Any], algorithm: str, tmp_path: Path
) -> None:
    model = litmus.load(served["bundles"][algorithm])
    assert model.preprocessor.inputs["k"] == np.float64
    rows = _rows(served)
    median = float(served["task"].train["k"].median())  # what training imputes k with
    imputed = rows.assign(k=median)
    expected = model.predict_proba(imputed)
    holes = rows.astype({"k": "float64"})
    holes.loc[[0, 3], "k"] = np.nan
    want = np.where(holes["k"].isna().to_numpy()[:, None], expected, model.predict_proba(rows))
    # a DataFrame, a list of dicts, one dict (None or NaN), and the in-memory candidate
    np.testing.assert_array_equal(model.predict_proba(holes), want)
    records = holes.to_dict("records")
    np.testing.assert_array_equal(model.predict_proba(records), want)
    for missing in (None, float("nan")):
        one = {**rows.iloc[0].to_dict(), "k": missing}
        np.testing.assert_array_equal(model.predict_proba(one), expected[0])
    candidate = next(
        c for c in served["result"].candidates if type(c.algorithm).__name__ == algorithm
    )
    np.testing.assert_allclose(candidate.predict_proba(holes), want, rtol=1e-12)
    # the command line: a CSV with blanks in the int column
    score = holes.assign(ts=holes["ts"].dt.strftime("%Y-%m-%dT%H:%M:%S"))
    score.to_csv(tmp_path / "score.csv", index=False)
    out = tmp_path / "proba.csv"
    bundle = str(served["bundles"][algorithm])
    assert main(["predict", bundle, str(tmp_path / "score.csv"), "--proba", "-o", str(out)]) == 0
    written = pd.read_csv(out)
    assert list(written.columns) == ["no", "yes"]
    np.testing.assert_array_equal(written.to_numpy(dtype=want.dtype), want)  # XGBoost: float32


def test_infinity_in_a_feature_is_missing_for_logistic_regression(
    served: dict[str, Any], tmp_path: Path
) -> None:
    model = litmus.load(served["bundles"]["LogisticRegression"])
    rows = _rows(served)
    median = float(served["task"].train["x"].median())
    expected = model.predict_proba(rows.assign(x=median))
    for inf in (np.inf, -np.inf):
        np.testing.assert_array_equal(model.predict_proba(rows.assign(x=inf)), expected)
        one = {**rows.iloc[2].to_dict(), "x": inf}
        np.testing.assert_array_equal(model.predict_proba(one), expected[2])
        assert model.predict(one) in ("no", "yes")
    score = rows.assign(x=["inf", "-inf", "inf", "1e400", "-inf", "inf"])
    score = score.assign(ts=score["ts"].dt.strftime("%Y-%m-%dT%H:%M:%S"))
    score.to_csv(tmp_path / "score.csv", index=False)
    bundle = str(served["bundles"]["LogisticRegression"])
    out = tmp_path / "proba.csv"
    assert main(["predict", bundle, str(tmp_path / "score.csv"), "--proba", "-o", str(out)]) == 0
    np.testing.assert_array_equal(pd.read_csv(out).to_numpy(), expected)


def test_training_with_infinity_trains_a_logistic_regression(tmp_path: Path) -> None:
    frame = _frame(120, seed=1)
    frame.loc[::10, "x"] = np.inf
    task = litmus.TaskData.create("inf", "binary", {"train": frame}, {"label": "y"}, k_fold=2)
    best = litmus.train([task], algorithm=["LogisticRegression"], progress=False).best
    assert "num__x#missing" in best.preprocessor.feature_names
    model = litmus.load(best.export(tmp_path / "b"))
    row = task.X(task.train).iloc[0].to_dict()
    np.testing.assert_array_equal(
        model.predict_proba({**row, "x": np.inf}), model.predict_proba({**row, "x": None})
    )


def test_predict_reads_the_csv_with_the_bundle_schema(
    served: dict[str, Any], tmp_path: Path
) -> None:
    """Codes of digits stay strings, datetimes are parsed as in training, blank ints are
    missing: pandas' own read_csv would read the codes as ints and the blanks as floats."""
    raw = pd.read_csv(served["root"] / "train.csv").head(12).drop(columns="y")
    raw = raw[raw["code"] != "x9"].astype({"k": "float64"})
    raw.loc[raw.index[0], "k"] = np.nan
    raw.to_csv(tmp_path / "score.csv", index=False)
    naive = pd.read_csv(tmp_path / "score.csv")
    assert naive["code"].dtype == np.int64 and naive["ts"].dtype != "datetime64[us]"
    bundle = served["bundles"]["XGBoost"]
    assert (
        main(["predict", str(bundle), str(tmp_path / "score.csv"), "-o", str(tmp_path / "p")]) == 0
    )
    parsed = raw.assign(ts=pd.to_datetime(raw["ts"], format="ISO8601"))  # as TaskData does
    expected = litmus.load(bundle).predict(parsed)
    assert pd.read_csv(tmp_path / "p")["prediction"].tolist() == expected.tolist()


def _bad_bundle(served: dict[str, Any], tmp_path: Path) -> Path:
    copy = tmp_path / "tampered"
    shutil.copytree(served["bundles"]["LogisticRegression"], copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["task"]["threshold"] = 0.1
    (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy


def _score_csv(served: dict[str, Any], tmp_path: Path, edit: Any = None) -> Path:
    raw = pd.read_csv(served["root"] / "train.csv", dtype=str).head(5).drop(columns="y")
    (raw if edit is None else edit(raw)).to_csv(tmp_path / "score.csv", index=False)
    return tmp_path / "score.csv"


def _set(column: str, row: int, value: str) -> Any:
    def edit(raw: pd.DataFrame) -> pd.DataFrame:
        out = raw.copy()
        out.loc[row, column] = value
        return out

    return edit


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("no bundle", "no such bundle directory"),
        ("tampered bundle", "manifest.json: content does not match its manifest_sha256"),
        ("no input", "missing.csv: no such file"),
        ("missing column", "score.csv: missing column(s) ['k'] that the bundle reads"),
        ("bad number", "score.csv line 4, column 'x': 'abc' is not a number"),
        ("bad date", "score.csv line 2, column 'ts': '2021-13-45' is not an ISO 8601 date"),
        ("empty file", "score.csv: empty file"),
        ("bad output", "--output"),
    ],
)
def test_predict_errors_are_one_line(
    served: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    message: str,
) -> None:
    bundle = served["bundles"]["LogisticRegression"]
    score = _score_csv(served, tmp_path)
    extra: list[str] = []
    if case == "no bundle":
        bundle = tmp_path / "nothing"
    elif case == "tampered bundle":
        bundle = _bad_bundle(served, tmp_path)
    elif case == "no input":
        score = tmp_path / "missing.csv"
    elif case == "missing column":
        score = _score_csv(served, tmp_path, lambda raw: raw.drop(columns="k"))
    elif case == "bad number":
        score = _score_csv(served, tmp_path, _set("x", 2, "abc"))
    elif case == "bad date":
        score = _score_csv(served, tmp_path, _set("ts", 0, "2021-13-45"))
    elif case == "empty file":
        score.write_text("")
    else:
        extra = ["-o", str(tmp_path / "no" / "such" / "dir" / "p.csv")]
    assert main(["predict", str(bundle), str(score), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("litmus: ") and message in err and err.count("\n") == 1, err


def test_predict_error_from_the_console_script_has_no_traceback(
    served: dict[str, Any], tmp_path: Path
) -> None:
    score = _score_csv(served, tmp_path, _set("k", 1, "three"))
    litmus_cmd = shutil.which("litmus") or str(Path(sys.executable).parent / "litmus")
    bundle = str(served["bundles"]["XGBoost"])
    done = subprocess.run(
        [litmus_cmd, "predict", bundle, str(score)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"litmus: {score} line 3, column 'k': 'three' is not a number\n"


def test_read_input_other_schemas(tmp_path: Path) -> None:
    """An integer input (a bundle written before ints were read as float64), a bool, a
    parquet file: converted when nothing is lost, else refused naming line and column."""
    from litmus_automl.inputs import InputError, read_input

    schema = {"k": np.dtype("int64"), "flag": np.dtype("bool"), "when": np.dtype("<M8[us]")}
    file = tmp_path / "rows.csv"
    file.write_text("k,flag,when,extra\n1,True,2021-01-02,a\n2,False,2021-03-04T05:06:07,b\n")
    frame = read_input(file, schema)
    assert frame.dtypes.to_dict() == {**schema, "extra": pd.StringDtype(na_value=np.nan)}
    assert frame["when"].iloc[1] == pd.Timestamp("2021-03-04T05:06:07")
    file.write_text("k,flag,when\n1,True,2021-01-02\n,False,2021-01-02\n")
    with pytest.raises(
        InputError, match=r"rows.csv line 3, column 'k': a missing value: the bundle reads int64"
    ):
        read_input(file, schema)
    file.write_text("k,flag,when\n1,yes,2021-01-02\n")
    with pytest.raises(InputError, match=r"line 2, column 'flag': 'yes' is not True or False"):
        read_input(file, schema)
    pq = tmp_path / "rows.parquet"
    pd.DataFrame({"k": [1.0, 2.5], "flag": [True, False], "when": ["2021-01-02", "x"]}).to_parquet(
        pq
    )
    with pytest.raises(InputError, match=r"rows.parquet row 2, column 'k': 2.5: .* fractional"):
        read_input(pq, schema)
    pd.DataFrame({"k": [1, 2], "flag": [True, False], "when": ["2021-01-02", "x"]}).to_parquet(pq)
    with pytest.raises(InputError, match=r"row 2, column 'when': 'x' is not an ISO 8601 date"):
        read_input(pq, schema)
