"""``litmus serve BUNDLE``: a bundle served over HTTP (an ASGI app run by uvicorn).

Endpoints (JSON in, JSON out)::

    POST /predict         a row (an object) or rows (an array of objects) ->
                          {"predictions": [...]}, one per row, in order
    POST /predict_proba   the same -> {"probabilities": [[p0, p1, ...], ...], "classes": [...]}
    GET  /health          {"status": "ok"}
    GET  /metadata        task, input features and their types, metrics, versions, bundle hash

A row names every input feature of the bundle (extra fields are ignored). Each value is
checked against the bundle's input schema before anything runs: a number (or null, a missing
value) for a numeric input, a string (or null) for a text or categorical one, an ISO 8601
string (or null) for a datetime, true / false for a bool. Then the bundle's own row checks
run, as for ``InferenceModel.predict`` in process, whose answers these are, exactly (the JSON
of a float64 reads back as the same float64; a non-finite number is written as null).

Errors are JSON ``{"error": "...", "field": ..., "row": ...}`` (``field`` and ``row`` where
known; ``row`` is the index in the array): 400 for a body that is not JSON or not a row or an
array of rows, 413 for a body over the limit (``--max-body-bytes``), 422 for a missing field
or a value of the wrong type, 404 / 405 for another path or method, 500 for anything else
(the traceback goes to the server's log, never to the client). The server keeps serving.

The bundle is loaded with :func:`litmus_automl.load`, so with all its checks (hashes, skops
allow-list, no pickles; the signature when ``LITMUS_BUNDLE_KEY`` is set). Predictions run on
the event loop (one at a time per worker, no thread pool): ``--workers K`` runs K processes
on one socket. SIGTERM (or Ctrl+C) stops accepting connections, finishes the requests in
flight, and exits with code 0.
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .inputs import _is_number, _is_text

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "App",
    "RequestError",
    "ServeError",
    "input_schema",
    "load_app",
    "serve",
]

DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
"""The largest request body served by default (8 MiB; about 20,000 rows of 13 features)."""

_BUNDLE_ENV = "LITMUS_SERVE_BUNDLE"
_MAX_BODY_ENV = "LITMUS_SERVE_MAX_BODY_BYTES"
_DRAIN_FACTOR = 16  # an oversized body up to this many limits is read (and dropped) first
_log = logging.getLogger("litmus.serve")

Scope = Mapping[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class RequestError(Exception):
    """A request the server answers with a 4xx JSON error (naming the field / row).

    Parameters
    ----------
    status : int
        The HTTP status.
    message : str
        What is wrong and what was expected.
    field : str, optional
        The input field concerned.
    row : int, optional
        The index of the row in the request's array.
    """

    def __init__(
        self, status: int, message: str, field: str | None = None, row: int | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.field, self.row = status, message, field, row

    def payload(self) -> dict[str, Any]:
        """The JSON body of the answer."""
        out: dict[str, Any] = {"error": self.message}
        if self.field is not None:
            out["field"] = self.field
        if self.row is not None:
            out["row"] = self.row
        return out


class ServeError(RuntimeError):
    """The server could not start (a worker failed to; the log says why)."""


def input_schema(model: Any) -> dict[Hashable, Any]:
    """Input column -> dtype of a loaded bundle (every member's, for an ensemble).

    Parameters
    ----------
    model : InferenceModel
        A loaded bundle.

    Returns
    -------
    dict
    """
    parts = [m for m, _ in getattr(model, "members", ())] or [model]
    schema: dict[Hashable, Any] = {}
    for part in parts:
        for column, dtype in part.preprocessor.inputs.items():
            schema.setdefault(column, dtype)
    return schema


# the request schema ---------------------------------------------------------------------------
_WANT = {
    "number": "a number or null",
    "integer": "an integer",
    "text": "a string or null",
    "bool": "true or false",
    "datetime": "an ISO 8601 date string or null",
    "any": "a JSON value",
}


def _kind(dtype: Any) -> str:
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if _is_number(dtype):
        return "number" if pd.api.types.is_float_dtype(dtype) else "integer"
    if _is_text(dtype):
        return "text"
    return "any"


def _json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    return "an array" if isinstance(v, list) else "an object"


def _shown(v: Any) -> str:
    text = json.dumps(v)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class _Field:
    """One input feature as a request field: its JSON name, column key, kind and dtype."""

    name: str
    column: Hashable
    kind: str
    dtype: str

    def value(self, v: Any, row: int | None) -> Any:
        """``v`` as the bundle reads it, or a 422 naming the field and row."""
        k = self.kind
        if k == "number":
            ok = v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
        elif k == "integer":
            ok = isinstance(v, int) and not isinstance(v, bool)
        elif k == "text":
            ok = v is None or isinstance(v, str)
        elif k == "bool":
            ok = isinstance(v, bool)
        elif k == "datetime":
            return self._date(v, row)
        else:
            ok = True
        if not ok:
            raise self.error(f"expects {_WANT[k]}; got {_json_type(v)}: {_shown(v)}", row)
        return v

    def _date(self, v: Any, row: int | None) -> Any:
        if v is None:
            return None
        if not isinstance(v, str):
            raise self.error(f"expects {_WANT['datetime']}; got {_json_type(v)}: {_shown(v)}", row)
        try:
            stamp = pd.to_datetime(v, format="ISO8601")
        except (ValueError, OverflowError):
            raise self.error(f"expects {_WANT['datetime']}; got {_shown(v)}", row) from None
        if stamp.tzinfo is not None:
            raise self.error(f"expects a date without a time zone; got {_shown(v)}", row)
        return stamp

    def error(self, what: str, row: int | None) -> RequestError:
        """A 422 for this field."""
        where = "" if row is None else f"row {row}: "
        return RequestError(
            422, f"{where}field {self.name!r} ({self.dtype}) {what}", self.name, row
        )


# the app --------------------------------------------------------------------------------------
def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for dist in ("litsdf", "numpy", "pandas", "scikit-learn", "xgboost", "uvicorn"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _finite(v: Any) -> Any:
    """``v`` with every non-finite float as None (JSON has no NaN / Infinity)."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, list):
        return [_finite(x) for x in v]
    return v


def _dumps(obj: Mapping[str, Any]) -> bytes:
    try:
        text = json.dumps(obj, allow_nan=False, separators=(",", ":"))
    except ValueError:  # a NaN or infinity somewhere
        text = json.dumps({k: _finite(v) for k, v in obj.items()}, separators=(",", ":"))
    return text.encode()


class App:
    """The ASGI application serving one loaded bundle.

    Parameters
    ----------
    model : InferenceModel
        The bundle, as :func:`litmus_automl.load` gives it.
    max_body_bytes : int
        The largest request body accepted (a larger one is answered 413).
    bundle : path-like, optional
        Where the bundle was loaded from (shown by ``/metadata``).
    """

    def __init__(
        self,
        model: Any,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        bundle: str | os.PathLike[str] | None = None,
    ) -> None:
        if max_body_bytes < 1:
            raise ValueError(f"max_body_bytes must be positive; got {max_body_bytes}")
        self.model = model
        self.max_body_bytes = int(max_body_bytes)
        self.fields = tuple(
            _Field(str(c), c, _kind(d), str(d)) for c, d in input_schema(model).items()
        )
        self._as_is = all(f.name == f.column and f.kind != "datetime" for f in self.fields)
        self.metadata = self._metadata(bundle)
        self._routes: dict[str, tuple[str, Callable[[Any], Mapping[str, Any]] | None]] = {
            "/predict": ("POST", self._predict),
            "/predict_proba": ("POST", self._predict_proba),
            "/health": ("GET", None),
            "/metadata": ("GET", None),
        }
        self._gets = {
            "/health": _dumps({"status": "ok"}),
            "/metadata": _dumps(self.metadata),
        }

    def _metadata(self, bundle: str | os.PathLike[str] | None) -> dict[str, Any]:
        m = self.model
        manifest = m.manifest
        task = manifest.get("task", {})
        members = getattr(m, "members", ())
        return {
            "bundle": None if bundle is None else str(bundle),
            "bundle_sha256": manifest.get("manifest_sha256"),
            "created": manifest.get("created"),
            "task": {
                "kind": m.kind,
                "label": task.get("label"),
                "classes": m.classes,
                "threshold": m.threshold if m.kind == "classification" else None,
            },
            "model": {
                "format": m.model_format,
                "members": [{"format": p.model_format, "weight": w} for p, w in members] or None,
            },
            "features": [
                {"name": f.name, "dtype": f.dtype, "json": _WANT[f.kind]} for f in self.fields
            ],
            "model_features": manifest.get("feature_names"),
            "metrics": manifest.get("metrics", {}),
            "versions": {"bundle": manifest.get("versions"), "server": _versions()},
            "max_body_bytes": self.max_body_bytes,
        }

    # ASGI -----------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope (``http``, or ``lifespan``)."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            status, body = await self._answer(scope, receive)
        except RequestError as err:
            status, body = err.status, _dumps(err.payload())
        except _Disconnected:
            return
        except Exception as err:  # never a traceback to the client: it goes to the log
            _log.exception("litmus serve: %s %s failed", scope.get("method"), scope.get("path"))
            status = 500
            body = _dumps({"error": f"internal error ({type(err).__name__}); see the server log"})
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        if status == 405:
            allowed = self._routes[scope["path"]][0].encode()
            headers.append((b"allow", allowed))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _answer(self, scope: Scope, receive: Receive) -> tuple[int, bytes]:
        path = scope["path"]
        route = self._routes.get(path)
        if route is None:
            known = ", ".join(f"{m} {p}" for p, (m, _) in self._routes.items())
            raise RequestError(404, f"no endpoint {path!r}; the endpoints are {known}")
        method, handler = route
        given = scope["method"]
        if given != method and not (method == "GET" and given == "HEAD"):
            raise RequestError(405, f"{path} takes {method}, not {given}")
        if handler is None:
            return 200, self._gets[path]
        body = await self._body(scope, receive)
        return 200, _dumps(handler(self._rows(body)))

    async def _body(self, scope: Scope, receive: Receive) -> bytes:
        """The request body, or a 413 past the limit (the rest of the body is read and dropped
        when it is not much larger, so that the connection stays usable)."""
        limit = self.max_body_bytes
        declared = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    raise RequestError(400, "Content-Length is not a number") from None
        too_big = RequestError(
            413,
            f"the request body is over the limit of {limit} bytes (litmus serve "
            "--max-body-bytes); send fewer rows per request",
        )
        if declared is not None and declared > limit * _DRAIN_FACTOR:
            raise too_big
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= limit:
                chunks.append(chunk)
            elif size > limit * _DRAIN_FACTOR:
                raise too_big
            if not message.get("more_body", False):
                break
        if size > limit:
            raise too_big
        return b"".join(chunks)

    # rows -----------------------------------------------------------------------------------
    def _rows(self, body: bytes) -> tuple[list[dict[Any, Any]], bool]:
        """The checked rows of a request body and whether it was one object."""
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError) as err:
            raise RequestError(400, f"the body is not valid JSON: {err}") from None
        if isinstance(doc, dict):
            return [self._row(doc, None)], True
        if not isinstance(doc, list):
            got = _json_type(doc)
            raise RequestError(
                400, f"the body must be a row (an object) or an array of rows; got {got}"
            )
        if not doc:
            raise RequestError(400, "the body is an empty array: send at least one row")
        return [self._row(r, i) for i, r in enumerate(doc)], False

    def _row(self, doc: Any, row: int | None) -> dict[Any, Any]:
        if not isinstance(doc, dict):
            where = "the row" if row is None else f"row {row}"
            raise RequestError(
                400, f"{where} must be a JSON object; got {_json_type(doc)}", row=row
            )
        out: dict[Any, Any] | None = None if self._as_is else {}
        for f in self.fields:
            if f.name not in doc:
                where = "" if row is None else f"row {row}: "
                raise RequestError(
                    422,
                    f"{where}missing field {f.name!r} ({f.dtype}: {_WANT[f.kind]})",
                    f.name,
                    row,
                )
            value = f.value(doc[f.name], row)
            if out is not None:
                out[f.column] = value
        return doc if out is None else out

    def _run(self, fn: Callable[[Any], Any], rows: list[dict[Any, Any]], single: bool) -> Any:
        """``fn`` of the rows (of the one row), a 422 naming the row the bundle refuses."""
        from .model_io import BundleError

        try:
            return [fn(rows[0])] if single else fn(rows)
        except BundleError:
            raise
        except (TypeError, KeyError, ValueError, OverflowError) as err:
            bad = None if single else next((i for i, r in enumerate(rows) if _fails(fn, r)), None)
            where = "" if bad is None else f"row {bad}: "
            message = err.args[0] if isinstance(err, KeyError) and err.args else err
            raise RequestError(422, f"{where}{message}", row=bad) from None

    def _predict(self, request: tuple[list[dict[Any, Any]], bool]) -> Mapping[str, Any]:
        out = self._run(self.model.predict, *request)
        return {"predictions": out}

    def _predict_proba(self, request: tuple[list[dict[Any, Any]], bool]) -> Mapping[str, Any]:
        m = self.model
        if m.kind != "classification":
            raise RequestError(
                400, "this bundle is a regression model: it has no probabilities (use /predict)"
            )
        proba = np.asarray(self._run(m.predict_proba, *request), dtype=np.float64)
        classes = m.classes if m.classes else list(range(proba.shape[-1]))
        return {"probabilities": proba.reshape(-1, proba.shape[-1]).tolist(), "classes": classes}


def _fails(fn: Callable[[Any], Any], row: Mapping[Any, Any]) -> bool:
    try:
        fn(row)
    except Exception:
        return True
    return False


class _Disconnected(Exception):
    """The client went away before its body was read."""


# loading and running ---------------------------------------------------------------------------
def load_app(bundle: str | os.PathLike[str], max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> App:
    """Load ``bundle`` with :func:`litmus_automl.load` (all its checks) and wrap it in an App.

    Parameters
    ----------
    bundle : path-like
        The bundle directory.
    max_body_bytes : int
        The largest request body accepted.

    Returns
    -------
    App

    Raises
    ------
    BundleError
        As :func:`litmus_automl.load`.
    """
    from .bundle import load

    return App(load(bundle), max_body_bytes, bundle)


def worker_app() -> App:
    """The app of one worker process of ``--workers K`` (uvicorn calls it in each process;
    the bundle and the body limit come from the environment the parent set)."""
    return load_app(os.environ[_BUNDLE_ENV], int(os.environ[_MAX_BODY_ENV]))


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it a keep-alive answer waits ~40 ms for the client's delayed ACK (Nagle)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise OSError(err.errno, f"cannot listen on {host}:{port}: {err.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(
    bundle: str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    shutdown_timeout: float = 30.0,
    log_level: str = "info",
    access_log: bool = False,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve ``bundle`` over HTTP until SIGTERM or SIGINT, then finish the requests in flight.

    Parameters
    ----------
    bundle : path-like
        The bundle directory; loaded (and checked) before the socket is opened.
    host, port : str, int
        Where to listen (port 0: a free port, announced).
    workers : int
        Worker processes sharing the socket (each loads the bundle).
    max_body_bytes : int
        The largest request body accepted.
    shutdown_timeout : float
        Seconds to wait for requests in flight after SIGTERM before cancelling them.
    log_level : str
        uvicorn's log level.
    access_log : bool
        Log every request (off by default: it costs time per request).
    announce : callable, optional
        Called with one line (the address, the bundle) once the socket listens.

    Raises
    ------
    BundleError
        The bundle does not load.
    OSError
        The address cannot be listened on.
    ServeError
        The server or a worker did not start.
    ImportError
        uvicorn is not installed.
    """
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    if workers < 1:
        raise ValueError(f"workers must be at least 1; got {workers}")
    app = load_app(bundle, max_body_bytes)  # the checks, once, before anything listens
    options: dict[str, Any] = {
        "log_level": log_level,
        "access_log": access_log,
        "timeout_graceful_shutdown": shutdown_timeout,
        "lifespan": "on",
    }
    if workers == 1:
        config = uvicorn.Config(app, host=host, port=port, **options)
    else:
        os.environ[_BUNDLE_ENV] = str(Path(bundle).resolve())
        os.environ[_MAX_BODY_ENV] = str(max_body_bytes)
        config = uvicorn.Config(
            f"{__name__}:worker_app", factory=True, workers=workers, host=host, port=port, **options
        )
    sock = _bind(host, port)
    where = sock.getsockname()
    if announce is not None:
        m = app.model
        announce(
            f"litmus serve: {bundle} ({m.kind}, {m.model_format}, {len(app.fields)} inputs) on "
            f"http://{host}:{where[1]} with {workers} worker(s)"
        )
    # uvicorn re-raises the signal that stopped it once it has shut down gracefully; a handler
    # of ours then makes that a normal return (exit code 0) instead of death by the signal
    previous = {s: signal.signal(s, _stopped) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        if workers == 1:
            server = uvicorn.Server(config)
            server.run(sockets=[sock])
            failed = not server.started
        else:
            supervisor = Multiprocess(config, sockets=[sock])
            supervisor.run()
            failed = any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes)
        if failed:
            raise ServeError(f"serve: the server for {bundle} did not start (see the log above)")
    finally:
        sock.close()
        for s, handler in previous.items():
            signal.signal(s, handler)


def _stopped(signum: int, frame: Any) -> None:
    """The signal came after the graceful shutdown: nothing more to do."""
