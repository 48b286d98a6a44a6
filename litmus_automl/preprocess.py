"""Preprocessing as a litsdf pipeline: fitted state written into the plan as literals.

:meth:`Preprocessor.fit` computes the state with pandas on the training frame (medians,
the most frequent categories and their frequencies, text vocabularies), then generates a
pandas-API function that applies it with that state as *literal values* and compiles it with
:func:`litsdf.compile`. The plan is self-contained: it runs vectorized on frames during
training (``transform``) and as the generated row kernel of litsdf's ``rows`` backend for one
row at serving time (``transform_row``, no pandas object built), and it serializes to JSON.

Features, all float64, in a deterministic order (column order of the input, then the columns
the user function creates):

* numeric ``c``: ``num__c`` (missing or +-inf -> train median of the finite values),
  ``num__c#missing`` (0/1, only when the train column had missing or infinite values);
* categorical ``c``: ``cat__c=v`` one-hot for the ``max_categories`` most frequent values
  (missing / unknown -> all zeros), ``cat__c#freq`` (train frequency, 0 when unseen);
* text ``c``: cleaned as lower case with runs of ``[^a-z0-9]`` replaced by one space,
  ``txt__c#len`` (characters of the raw text), ``txt__c#tokens`` (tokens, 0 when empty) and
  ``txt__c__tok`` (0/1) for the ``vocabulary`` tokens in most train rows;
* datetime ``c``: ``dt__c#year``, ``#month``, ``#day_of_week``, ``#hour`` (missing -> -1).

Numeric inputs stored as integers are read as float64 (the pipeline's input schema says so):
a value may then be missing at serving (a dict, a list of dicts, a frame), and it is imputed
as in training. ``+-inf`` is no usable number for a model (scikit-learn refuses it): it is
treated as missing, in training and at serving alike.
"""

from __future__ import annotations

import json
import struct
import warnings
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import litsdf
from litsdf_compiler.ir.serde import read_document

__all__ = ["Preprocessor", "PreprocessFormatError", "ROLES"]

ROLES = ("numeric", "categorical", "text", "datetime")
"""The roles that make a column an input of the preprocessing pipeline."""

FORMAT = "litmus-preprocessor"
VERSION = 1
_CLEAN = "[^a-z0-9]+"
_DATE_PARTS = ("year", "month", "day_of_week", "hour")


class PreprocessFormatError(ValueError):
    """A preprocessor document that cannot be read (not one, another version, malformed)."""


@dataclass
class _Step:
    """The fitted state of one column: its role and the literals its features use."""

    column: Hashable
    role: str
    median: float = 0.0
    missing: bool = False
    categories: list[Any] = field(default_factory=list)
    frequencies: dict[Any, float] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def _infer_role(dtype: Any) -> str | None:
    """The role of a column the user function created: numeric, categorical or datetime."""
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        return "categorical"
    return None


def _plain(v: Any) -> Any:
    """A NumPy scalar as the Python scalar (a literal the plan and JSON can hold)."""
    return v.item() if isinstance(v, np.generic) else v


def _top(counts: pd.Series, k: int) -> list[Any]:
    """The ``k`` most frequent values, ties broken by the value's text (deterministic)."""
    items = sorted(counts.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
    return [_plain(v) for v, _ in items[:k]]


def _clean(s: pd.Series) -> pd.Series:
    """The text normalisation the plan applies (missing -> empty)."""
    return s.fillna("").str.lower().str.replace(_CLEAN, " ", regex=True).str.strip()


def _fit_step(
    column: Hashable, role: str, s: pd.Series, max_categories: int, vocabulary: int
) -> _Step:
    step = _Step(column, role)
    if role == "numeric":
        if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)):
            raise ValueError(f"column {column!r} has role 'numeric' but dtype {s.dtype}")
        values = s.astype("float64").replace([np.inf, -np.inf], np.nan)
        median = values.median()
        step.median = 0.0 if pd.isna(median) else float(median)
        step.missing = bool(values.isna().any())
        step.names = [f"num__{column}"] + ([f"num__{column}#missing"] if step.missing else [])
    elif role == "categorical":
        counts = s.value_counts(dropna=True)
        step.categories = _top(counts, max_categories)
        step.frequencies = {_plain(v): float(n) / max(len(s), 1) for v, n in counts.items()}
        step.names = [f"cat__{column}={v}" for v in step.categories] + [f"cat__{column}#freq"]
    elif role == "text":
        if not pd.api.types.is_string_dtype(s.dtype):
            raise ValueError(f"column {column!r} has role 'text' but dtype {s.dtype}")
        docs = _clean(s).str.split(" ").map(lambda toks: set(toks) - {""})
        counts = pd.Series([t for toks in docs for t in toks], dtype="str").value_counts()
        step.tokens = _top(counts, vocabulary)
        step.names = [f"txt__{column}#len", f"txt__{column}#tokens"]
        step.names += [f"txt__{column}__{t}" for t in step.tokens]
    elif role == "datetime":
        if not pd.api.types.is_datetime64_any_dtype(s.dtype):
            raise ValueError(f"column {column!r} has role 'datetime' but dtype {s.dtype}")
        step.names = [f"dt__{column}#{part}" for part in _DATE_PARTS]
    else:  # pragma: no cover - roles are filtered before
        raise ValueError(f"unknown role {role!r}")
    return step


def _serving_schema(example: pd.DataFrame, roles: Mapping[Hashable, str]) -> pd.DataFrame:
    """``example`` with its integer numeric inputs as float64, the dtype the numeric features
    are computed in, so that the compiled pipeline (its row kernel too) accepts a missing
    value for them and imputes it as in training."""
    casts = {
        c: "float64"
        for c in example.columns
        if roles.get(c) == "numeric" and _is_integer(example[c].dtype)
    }
    return example.astype(casts) if casts else example


def _is_integer(dtype: Any) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind in "iu"


def _widens(got: Any, want: Any) -> bool:
    """Whether a column of dtype ``got`` converts to ``want`` without loss of meaning: any
    integer or float to float64 (missing -> NaN), datetimes of another unit."""
    if want == np.dtype("float64"):
        return pd.api.types.is_numeric_dtype(got) and not pd.api.types.is_bool_dtype(got)
    both = pd.api.types.is_datetime64_any_dtype(got) and pd.api.types.is_datetime64_any_dtype(want)
    return both and getattr(got, "tz", None) == getattr(want, "tz", None)


def _features(df: Any, steps: list[_Step]) -> dict[str, Any]:
    """Every step's feature columns, name -> Series of ``df`` (pandas-API code, traced)."""
    out: dict[str, Any] = {}
    for step in steps:
        s = df[step.column]
        names = iter(step.names)
        if step.role == "numeric":
            values = s.astype("float64")
            finite = values.abs() < np.inf  # False for NaN and +-inf: both are missing
            out[next(names)] = values.where(finite, step.median)
            if step.missing:
                out[next(names)] = (~finite).astype("float64")
        elif step.role == "categorical":
            for value in step.categories:
                out[next(names)] = (s == value).astype("float64")
            out[next(names)] = s.map(step.frequencies).astype("float64").fillna(0.0)
        elif step.role == "text":
            raw = s.fillna("")
            clean = raw.str.lower().str.replace(_CLEAN, " ", regex=True).str.strip()
            out[next(names)] = raw.str.len() + 0.0
            out[next(names)] = (clean.str.count(" ") + 1.0) * (clean != "").astype("float64")
            padded = " " + clean + " "
            for token in step.tokens:
                out[next(names)] = padded.str.contains(f" {token} ", regex=False).astype("float64")
        else:
            for part in _DATE_PARTS:
                out[next(names)] = (getattr(s.dt, part) + 0.0).fillna(-1.0)
    return out


def _unique(names: Iterable[str]) -> list[str]:
    """``names`` with repeats renamed ``name~2``, ``name~3`` (a value may look like a name)."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        k = seen.get(n, 0) + 1
        seen[n] = k
        out.append(n if k == 1 else f"{n}~{k}")
    return out


class Preprocessor:
    """A fitted preprocessing pipeline: the user's function, then the default features.

    Build one with :meth:`fit`; store it with :meth:`to_json` / :meth:`from_json`.

    Attributes
    ----------
    pipeline : litsdf.Pipeline
        The compiled plan (fitted state as literals).
    inputs : dict
        Input column -> dtype the pipeline reads.
    feature_names : list of str
        The output columns, in order.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [30.0, None, 50.0], "plan": ["a", "b", "a"]})
    >>> pre = Preprocessor.fit(df, {"age": "numeric", "plan": "categorical"})
    >>> pre.feature_names
    ['num__age', 'num__age#missing', 'cat__plan=a', 'cat__plan=b', 'cat__plan#freq']
    >>> pre.transform_row({"age": None, "plan": "zzz"}).tolist()
    [40.0, 1.0, 0.0, 0.0, 0.0]
    """

    def __init__(self, pipeline: litsdf.Pipeline, feature_names: list[str]) -> None:
        self.pipeline = pipeline
        self.feature_names = list(feature_names)
        schema = pipeline.schema_in
        assert isinstance(schema, dict)
        self.inputs: dict[Hashable, Any] = schema
        self._width = len(self.feature_names)
        self.row_kernel = _warm_rows(pipeline)
        self._floats: Callable[[Mapping[Hashable, Any]], tuple[float, ...] | None] | None = None
        if self.row_kernel.get("ok"):
            self._floats = pipeline.row_program().transform_row_floats
        self._pack = struct.Struct(f"{self._width}d").pack
        out = list(pipeline.schema_out)
        if out != self.feature_names:
            raise PreprocessFormatError(
                f"the pipeline's outputs {out[:5]}... do not match the feature names"
            )

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        roles: Mapping[Hashable, str],
        user_fn: Callable[[Any], Any] | None = None,
        max_categories: int = 20,
        vocabulary: int = 100,
    ) -> Preprocessor:
        """Fit on ``frame`` and compile the pipeline with the state as literals.

        Parameters
        ----------
        frame : pandas.DataFrame
            Training data (extra columns are ignored).
        roles : dict
            Column -> ``"numeric"``, ``"categorical"``, ``"text"`` or ``"datetime"``; columns
            with other roles (``"label"``, ``"ignore"``, ...) are not inputs.
        user_fn : callable, optional
            ``user_fn(df) -> df`` in the pandas API, applied first (traced into the same
            pipeline). Columns it creates take their role from ``roles`` when named there,
            else from their dtype (numeric -> numeric, string -> categorical, datetime ->
            datetime).
        max_categories : int
            One-hot columns per categorical column (the most frequent values).
        vocabulary : int
            Token features per text column (the tokens in most rows).

        Returns
        -------
        Preprocessor
        """
        inputs = [c for c, r in roles.items() if r in ROLES and c in frame.columns]
        if not inputs:
            raise ValueError(f"no input columns: roles {dict(roles)} name none of {ROLES}")
        example = _serving_schema(frame[inputs], roles)
        data = example
        if user_fn is not None:
            data = litsdf.compile(user_fn, example=example)(example)
            if not isinstance(data, pd.DataFrame):
                raise TypeError(f"user_fn must return a DataFrame; got {type(data).__name__}")
        steps: list[_Step] = []
        for column in data.columns:
            if column in inputs or column in roles:
                role: str | None = roles.get(column)
            else:
                role = _infer_role(data[column].dtype)
            if role in ROLES:
                assert role is not None
                steps.append(_fit_step(column, role, data[column], max_categories, vocabulary))
        names = _unique(n for step in steps for n in step.names)
        for step, start in zip(steps, np.cumsum([0] + [len(s.names) for s in steps])):
            step.names = names[start : start + len(step.names)]

        def preprocess(df: Any) -> Any:
            if user_fn is not None:
                df = user_fn(df)
            return df.assign(**_features(df, steps))[names]

        pre = cls(litsdf.compile(preprocess, example=example), names)
        if not pre.row_kernel.get("ok"):
            warnings.warn(
                "litsdf's rows backend declined this preprocessing, so transform_row will "
                f"raise: {pre.row_kernel.get('reason')}",
                stacklevel=2,
            )
        return pre

    # transform --------------------------------------------------------------------------------
    def conform(self, frame: Any) -> Any:
        """``frame`` (pandas or litsdf) with its input columns converted to the dtypes the
        pipeline reads where nothing is lost (integers to float64, another datetime unit);
        other columns and mismatches are left for the pipeline to report. A new frame: the
        one given is not changed."""
        dtypes = frame.dtypes
        casts = {
            c: want
            for c, want in self.inputs.items()
            if c in dtypes.index and dtypes[c] != want and _widens(dtypes[c], want)
        }
        return frame.astype(casts) if casts else frame

    def transform(self, frame: Any) -> np.ndarray:
        """Features of every row of ``frame`` (pandas or litsdf), as a float64 2-D array.

        Input columns are first converted as :meth:`conform` does.
        """
        out = self.pipeline(self.conform(frame))
        if isinstance(out, litsdf.DataFrame):
            out = out.to_pandas()
        # C order, as transform_rows: a model's matrix products then sum in the same order
        return np.ascontiguousarray(out.to_numpy(dtype=np.float64, na_value=np.nan))

    def transform_row(self, row: Mapping[Hashable, Any]) -> np.ndarray:
        """Features of one row (a dict of input column -> value), a float64 1-D array.

        Runs the generated row kernel; no pandas object is built. A missing input field
        raises litsdf's error naming it; extra fields are ignored.
        """
        floats = self._floats
        if floats is None:  # (some feature not float64: the kernel's dict)
            out = self.pipeline.transform_row(row)
            if out is None:
                raise _dropped()
            return np.fromiter(out.values(), dtype=np.float64, count=self._width)
        values = floats(row)
        if values is None:
            raise _dropped()
        # the floats' bytes as they are (bit-identical, NaN too); a writable array of its own
        return np.frombuffer(bytearray(self._pack(*values)), dtype=np.float64)

    def transform_rows(self, rows: Iterable[Mapping[Hashable, Any]]) -> np.ndarray:
        """Features of each row of ``rows``, a float64 2-D array (one line per row; a row the
        user function filters out has none)."""
        floats = self._floats
        if floats is None:
            out = self.pipeline.transform_rows(rows)
            flat = np.fromiter(
                (v for r in out for v in r.values()),
                dtype=np.float64,
                count=len(out) * self._width,
            )
            return flat.reshape(len(out), self._width)
        pack = self._pack
        packed = [pack(*values) for values in map(floats, rows) if values is not None]
        flat = np.frombuffer(bytearray(b"".join(packed)), dtype=np.float64)
        return flat.reshape(len(packed), self._width)

    # serde ------------------------------------------------------------------------------------
    def to_json(self) -> str:
        """The preprocessor as versioned JSON (the pipeline's plan and the feature names)."""
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "feature_names": self.feature_names,
            "pipeline": json.loads(self.pipeline.to_json()),
        }
        return json.dumps(doc)

    @classmethod
    def from_json(cls, text: str, allow_pickle: bool = False) -> Preprocessor:
        """Rebuild a preprocessor written by :meth:`to_json`.

        Parameters
        ----------
        text : str
            The JSON document.
        allow_pickle : bool
            Needed when the user function holds Python functions (UDFs, cloudpickled).

        Raises
        ------
        PreprocessFormatError
            Not a preprocessor document, another version, or a plan that cannot be read.
        """
        doc = read_document(text, FORMAT, VERSION, "preprocessor", PreprocessFormatError)
        try:
            pipeline = litsdf.Pipeline.from_json(
                json.dumps(doc["pipeline"]), allow_pickle=allow_pickle
            )
            names = [str(n) for n in doc["feature_names"]]
        except (KeyError, TypeError) as err:
            raise PreprocessFormatError(f"bad preprocessor document: missing {err}") from err
        except ValueError as err:  # PlanFormatError and friends
            raise PreprocessFormatError(f"preprocessor plan: {err}") from err
        return cls(pipeline, names)

    def __repr__(self) -> str:
        return f"<Preprocessor {len(self.inputs)} inputs -> {self._width} features>"


def _dropped() -> ValueError:
    return ValueError("the preprocessing's user function filtered this row out: no features")


def _warm_rows(pipeline: litsdf.Pipeline) -> dict[str, Any]:
    """Compile the row kernel now (not on the first served row); its availability.

    The generated code may compare literals with ``is`` (a ``SyntaxWarning`` when Python
    compiles it, harmless): it is silenced here, once.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        info: dict[str, Any] = pipeline.explain(format="dict")["rows_kernel"]
    return info
