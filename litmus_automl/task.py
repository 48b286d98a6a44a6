"""``TaskData``: one learning task — its data, label, column roles and K-fold splits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold

from litmus_automl._roles import FEATURE_ROLES, ROLES, infer_role, read_frame

__all__ = ["KINDS", "TaskData"]

KINDS = ("binary", "multiclass", "regression")
_SCHEMA_KEYS = ("label", "id", "text", "categorical", "numeric", "datetime", "ignore")


def _parse_task(task: Any) -> str:
    parts: tuple[Any, ...] = (task,) if isinstance(task, str) else task
    if isinstance(parts, (tuple, list)) and parts and all(isinstance(p, str) for p in parts):
        words = [p.lower() for p in parts]
        head, rest = words[0], words[1:]
        if head == "regression" and rest in ([], ["regression"]):
            return "regression"
        if head in ("binary", "multiclass") and rest in ([], ["classification"]):
            return head
    raise ValueError(
        f"task must be ('binary', 'classification'), ('multiclass', 'classification'), "
        f"('regression',) or one of 'binary', 'multiclass', 'regression'; got {task!r}"
    )


def _as_names(value: Any, key: str) -> list[Any]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    raise TypeError(f"schema[{key!r}] must be a column name or a list of names, got {value!r}")


def _is_splitter(obj: Any) -> bool:
    return not isinstance(obj, (str, bytes)) and callable(getattr(obj, "split", None))


@dataclass(eq=False, repr=False)
class TaskData:
    """A learning task: train (and test) data, the label, the role of each column, the folds.

    Build it with ``TaskData.create``.

    Attributes
    ----------
    name : str
        The task's name.
    kind : {"binary", "multiclass", "regression"}
        The task kind.
    train : pandas.DataFrame
        The training data (label included).
    test : pandas.DataFrame or None
        The test data, if given; it has the train features (the label, id and ignored
        columns may be absent).
    label : str
        The label column.
    roles : dict
        The role of every non-label column: numeric, categorical, text, datetime, id, ignore.
    classes_ : numpy.ndarray or None
        The sorted label values (classification), else None.
    splitter : object
        The object whose ``split(X, y)`` gives the folds.
    seed : int
        The seed of the default splitter.
    """

    name: str
    kind: str
    train: pd.DataFrame
    test: pd.DataFrame | None
    label: str
    roles: dict[Any, str]
    classes_: np.ndarray | None
    splitter: Any
    seed: int = 0

    @classmethod
    def create(
        cls,
        name: str,
        task: str | Sequence[str],
        data: Mapping[str, Any],
        schema: Mapping[str, Any] | None = None,
        k_fold: int | Any = 5,
        seed: int = 0,
    ) -> TaskData:
        """Read, check and describe a task.

        Parameters
        ----------
        name : str
            The task's name.
        task : tuple or str
            ``("binary", "classification")``, ``("multiclass", "classification")``,
            ``("regression",)``, or just ``"binary"`` / ``"multiclass"`` / ``"regression"``.
        data : dict
            ``{"train": ..., "test": ...}`` ("test" optional); each a pandas DataFrame, a
            litsdf DataFrame or the path of a .csv / .parquet file.
        schema : dict
            ``{"label": str}`` (required) and optionally ``"id"`` (a name or list), and lists
            for ``"text"``, ``"categorical"``, ``"numeric"``, ``"datetime"``, ``"ignore"`` that
            override the inferred roles. Roles of other columns are inferred: bool / int /
            float are numeric; datetime64 (and strings that are all ISO dates, converted) are
            datetime; strings are text when the median number of words is >= 3 or the mean
            length >= 30, else categorical; unique strings, or a unique column named ``id`` /
            ``*_id``, are ids (not features).
        k_fold : int or splitter, default 5
            The number of folds (>= 2): stratified K-fold for classification, K-fold for
            regression, shuffled with ``seed``. Or an object with ``split(X, y)``, used as is.
        seed : int, default 0
            The seed of the default splitter.

        Returns
        -------
        TaskData

        Raises
        ------
        ValueError
            For a missing / constant / NaN label, unknown schema keys or columns, a binary
            label without exactly 2 classes, a non-numeric regression label, an empty train
            set, test columns that differ from the train features, a bad ``k_fold``.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "age": [31, 45, 22, 60],
        ...                    "plan": ["x", "y", "x", "y"], "churn": [0, 1, 0, 1]})
        >>> t = TaskData.create("churn", ("binary", "classification"), {"train": df},
        ...                     schema={"label": "churn", "id": "customer_id"}, k_fold=2)
        >>> t.kind, t.features(), t.roles["customer_id"]
        ('binary', ['age', 'plan'], 'id')
        >>> t.y(t.train)
        array([0, 1, 0, 1])
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"TaskData name must be a non-empty str, got {name!r}")
        kind = _parse_task(task)
        train, test = _read_data(data)
        label, roles = _resolve_roles(train, schema)
        train = _convert_dates(train, roles, "train")
        splitter = _make_splitter(kind, k_fold, seed)
        if isinstance(k_fold, int) and k_fold > len(train):
            raise ValueError(f"k_fold={k_fold} is more than the {len(train)} train rows")
        classes = _check_label(train, label, kind)
        if test is not None:
            test = _check_test(test, train, label, roles)
            test = _convert_dates(test, roles, "test")
        self = cls(name, kind, train, test, label, roles, classes, splitter, seed)
        if classes is not None and isinstance(k_fold, int):
            counts = pd.Series(self.y(train)).value_counts()
            small = counts[counts < k_fold]
            if len(small):
                names = classes.tolist()
                rare = {names[int(i)]: int(n) for i, n in small.items()}
                raise ValueError(
                    f"label {label!r}: classes {rare} have fewer rows than k_fold={k_fold}; "
                    f"lower k_fold or pass a splitter"
                )
        return self

    # ---- features and labels -------------------------------------------------------------

    def features(self) -> list[Any]:
        """The feature columns (role numeric / categorical / text / datetime), in frame order."""
        return [c for c in self.train.columns if self.roles.get(c) in FEATURE_ROLES]

    def columns_with_role(self, role: str) -> list[Any]:
        """The columns of a role, in frame order."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; expected one of {list(ROLES)}")
        return [c for c in self.train.columns if self.roles.get(c) == role]

    def X(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The feature columns of ``frame`` (the train or test frame, or new rows)."""
        features = self.features()
        missing = [c for c in features if c not in frame.columns]
        if missing:
            raise ValueError(f"task {self.name!r}: frame lacks feature columns {missing}")
        return frame[features]

    def y(self, frame: pd.DataFrame) -> np.ndarray:
        """The label of ``frame``: integer codes into ``classes_`` (classification) or float64.

        Raises
        ------
        ValueError
            When the label column is missing, has NaNs, or holds a class not seen in train.
        """
        if self.label not in frame.columns:
            raise ValueError(f"task {self.name!r}: frame has no label column {self.label!r}")
        values = frame[self.label]
        n_missing = int(values.isna().sum())
        if n_missing:
            raise ValueError(
                f"label {self.label!r} has {n_missing} missing values (NaN) in {n_missing} rows "
                f"of {len(values)}; drop or fill those rows"
            )
        if self.classes_ is None:
            return values.to_numpy(dtype=np.float64)
        codes = np.asarray(pd.Index(self.classes_).get_indexer(values), dtype=np.int64)
        if (codes < 0).any():
            unseen = sorted(map(str, pd.unique(values[codes < 0])))
            raise ValueError(
                f"label {self.label!r} has values not seen in training: {unseen} "
                f"(known classes: {list(self.classes_)})"
            )
        return codes

    def decode(self, codes: Any) -> np.ndarray:
        """Label values from integer codes (classification); regression values pass through."""
        if self.classes_ is None:
            return np.asarray(codes, dtype=np.float64)
        return self.classes_[np.asarray(codes, dtype=np.int64)]

    def ids(self, frame: pd.DataFrame) -> pd.DataFrame | None:
        """The id columns of ``frame`` (those present), or None when the task has none."""
        cols = [c for c in self.columns_with_role("id") if c in frame.columns]
        return frame[cols] if cols else None

    @property
    def n_classes(self) -> int | None:
        """The number of classes (classification), else None."""
        return None if self.classes_ is None else len(self.classes_)

    # ---- folds ---------------------------------------------------------------------------

    def folds(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The cross-validation folds over ``train``, as positional ``(train_idx, valid_idx)``.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"x": range(6), "y": [0.5, 1.0, 2.0, 3.5, 4.0, 5.0]})
        >>> t = TaskData.create("r", "regression", {"train": df}, {"label": "y"}, k_fold=3)
        >>> [len(v) for _, v in t.folds()]
        [2, 2, 2]
        """
        X, y = self.X(self.train), self.y(self.train)
        out = []
        for i, split in enumerate(self.splitter.split(X, y)):
            try:
                train_idx, valid_idx = (np.asarray(part, dtype=np.int64) for part in split)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"splitter fold {i}: expected (train_idx, valid_idx)") from exc
            if len(train_idx) == 0 or len(valid_idx) == 0:
                raise ValueError(f"splitter fold {i} has an empty train or validation part")
            out.append((train_idx, valid_idx))
        if not out:
            raise ValueError(f"splitter {self.splitter!r} gave no folds")
        return out

    def __repr__(self) -> str:
        test = "None" if self.test is None else f"{len(self.test)} rows"
        by_role: dict[str, int] = {}
        for role in self.roles.values():
            by_role[role] = by_role.get(role, 0) + 1
        return (
            f"TaskData(name={self.name!r}, kind={self.kind!r}, label={self.label!r}, "
            f"train={len(self.train)} rows, test={test}, roles={by_role})"
        )


# ---- checks used by create ---------------------------------------------------------------


def _read_data(data: Mapping[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    if not isinstance(data, Mapping):
        raise TypeError(f"data must be a dict {{'train': ..., 'test': ...}}, got {type(data)}")
    unknown = sorted(set(data) - {"train", "test"})
    if unknown:
        raise ValueError(f"data has unknown keys {unknown}; expected 'train' and 'test'")
    if data.get("train") is None:
        raise ValueError("data needs a 'train' entry")
    train = read_frame(data["train"], "data['train']")
    if len(train) == 0:
        raise ValueError("data['train'] is empty (0 rows)")
    test = None if data.get("test") is None else read_frame(data["test"], "data['test']")
    for frame, what in ((train, "train"), (test, "test")):
        if frame is not None and frame.columns.has_duplicates:
            dupes = sorted(map(str, frame.columns[frame.columns.duplicated()].unique()))
            raise ValueError(f"data[{what!r}] has duplicate column names {dupes}")
    return _strings(train), None if test is None else _strings(test)


def _strings(frame: pd.DataFrame) -> pd.DataFrame:
    """``object`` columns holding only strings (and missing values) as pandas' ``str`` dtype,
    the dtype the compiled preprocessing (and its row kernel) works on."""
    converted = {}
    for label in frame.columns:
        column = frame[label]
        if column.dtype == object:
            values = column.dropna()
            if len(values) and all(isinstance(v, str) for v in values):
                converted[label] = column.astype("str")
    if not converted:
        return frame
    out = frame.copy(deep=False)
    for label, column in converted.items():
        out[label] = column
    return out


def _resolve_roles(train: pd.DataFrame, schema: Mapping[str, Any] | None) -> tuple[Any, dict]:
    if not isinstance(schema, Mapping) or "label" not in schema:
        raise ValueError("schema must be a dict with a 'label' entry, e.g. {'label': 'churn'}")
    unknown = sorted(set(schema) - set(_SCHEMA_KEYS))
    if unknown:
        raise ValueError(f"schema has unknown keys {unknown}; allowed: {list(_SCHEMA_KEYS)}")
    label = schema["label"]
    if label not in train.columns:
        raise ValueError(
            f"label column {label!r} is not in the train data (columns: {list(train.columns)})"
        )
    given: dict[Any, str] = {}
    for key in _SCHEMA_KEYS[1:]:
        if schema.get(key) is None:
            continue
        for col in _as_names(schema[key], key):
            if col not in train.columns:
                raise ValueError(f"schema[{key!r}] names unknown column {col!r}")
            if col == label:
                raise ValueError(f"schema[{key!r}] names the label column {label!r}")
            if col in given and given[col] != key:
                raise ValueError(f"column {col!r} is given two roles: {given[col]!r} and {key!r}")
            given[col] = key
    roles = {
        col: given.get(col) or infer_role(col, train[col]) for col in train.columns if col != label
    }
    return label, roles


def _convert_dates(frame: pd.DataFrame, roles: Mapping[Any, str], what: str) -> pd.DataFrame:
    """Parse datetime-role columns that are stored as strings (e.g. read from a csv)."""
    todo = [
        c
        for c, role in roles.items()
        if role == "datetime"
        and c in frame.columns
        and not pd.api.types.is_datetime64_any_dtype(frame[c].dtype)
    ]
    if not todo:
        return frame
    parsed = {}
    for col in todo:
        try:
            parsed[col] = pd.to_datetime(frame[col], format="ISO8601")
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{what}: column {col!r} has the datetime role but: {exc}") from exc
    out = frame.copy()
    for col, values in parsed.items():
        out[col] = values
    return out


def _check_label(train: pd.DataFrame, label: Any, kind: str) -> np.ndarray | None:
    values = train[label]
    n_missing = int(values.isna().sum())
    if n_missing:
        raise ValueError(
            f"label {label!r} has {n_missing} missing values (NaN) in {n_missing} of "
            f"{len(values)} train rows; drop or fill those rows"
        )
    distinct = values.nunique()
    if distinct < 2:
        raise ValueError(f"constant label: {label!r} has a single value {values.iloc[0]!r}")
    if kind == "regression":
        if not pd.api.types.is_numeric_dtype(values.dtype):
            raise ValueError(
                f"regression label {label!r} must be numeric, got dtype {values.dtype}"
            )
        return None
    if kind == "binary" and distinct != 2:
        raise ValueError(
            f"binary task: label {label!r} has {distinct} classes, expected 2 "
            f"(use 'multiclass' for more)"
        )
    return np.sort(np.asarray(pd.unique(values)))


def _check_test(
    test: pd.DataFrame, train: pd.DataFrame, label: Any, roles: Mapping[Any, str]
) -> pd.DataFrame:
    features = [c for c in train.columns if roles.get(c) in FEATURE_ROLES]
    missing = [c for c in features if c not in test.columns]
    extra = [c for c in test.columns if c not in train.columns]
    if missing or extra:
        raise ValueError(
            f"test columns differ from the train features: missing {missing}, extra {extra}"
        )
    return test


def _make_splitter(kind: str, k_fold: Any, seed: int) -> Any:
    if _is_splitter(k_fold):
        return k_fold
    if isinstance(k_fold, bool) or not isinstance(k_fold, (int, np.integer)) or k_fold < 2:
        raise ValueError(
            f"k_fold must be an int >= 2 or an object with split(X, y); got {k_fold!r}"
        )
    cls = KFold if kind == "regression" else StratifiedKFold
    return cls(n_splits=int(k_fold), shuffle=True, random_state=seed)
