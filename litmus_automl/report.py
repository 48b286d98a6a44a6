"""Run directories and run reports: what a training run leaves behind, and one HTML page of it.

A run directory (written by ``litmus train config.yaml --run DIR`` and ``litmus recipe run``)::

    DIR/run.json      format, version, created time; per result (a task, or a recipe step): the
                      task, the objective, the leaderboard rows, fold scores where known, the
                      bundle's measured predict(dict) latency, the best candidate's
                      preprocessing plan (litsdf's explain text); the recipe and its outcome
    DIR/trials.json   per result and algorithm: every tuning trial (number, state, value,
                      parameters)
    DIR/bundle/       the exported bundle, when the run exported one
    DIR/report.html   written by :func:`write_report` (``litmus report DIR``)

The report is one self-contained file: tables, the plan as text, and plots drawn with
matplotlib's Agg canvas embedded as base64 PNG images; no external CSS, JavaScript or fonts.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "ReportError",
    "measure_latency",
    "result_entry",
    "save_run",
    "write_report",
    "RUN_FILE",
    "TRIALS_FILE",
    "REPORT_FILE",
]

FORMAT = "litmus-run"
VERSION = 1
RUN_FILE = "run.json"
TRIALS_FILE = "trials.json"
REPORT_FILE = "report.html"


_IN_MEMORY = "the in-memory inference model (the bundle's prediction path)"


class ReportError(ValueError):
    """A run directory that cannot be read or reported (names the file and what is wrong)."""


# measuring and saving ----------------------------------------------------------------------------
def measure_latency(
    model: Any, rows: Sequence[Mapping[str, Any]], calls: int = 400, warmup: int = 20
) -> dict[str, float]:
    """p50 / p99 / mean of ``model.predict(row)`` for one dict, in microseconds.

    Parameters
    ----------
    model : InferenceModel
        A loaded bundle (or a candidate's ``inference_model()``).
    rows : sequence of dict
        Rows to predict, cycled through (at least one).
    calls : int
        Timed calls, each timed alone.
    warmup : int
        Untimed calls first.

    Returns
    -------
    dict
        ``{"p50_us", "p99_us", "mean_us", "calls"}``.
    """
    if not rows:
        raise ValueError("measure_latency needs at least one row")
    for i in range(warmup):
        model.predict(rows[i % len(rows)])
    times = np.empty(calls)
    clock = time.perf_counter_ns
    for i in range(calls):
        row = rows[i % len(rows)]
        start = clock()
        model.predict(row)
        times[i] = clock() - start
    times /= 1e3
    return {
        "p50_us": float(np.percentile(times, 50)),
        "p99_us": float(np.percentile(times, 99)),
        "mean_us": float(times.mean()),
        "calls": float(calls),
    }


def _plain(value: Any) -> Any:
    """JSON-ready: NumPy scalars as Python ones, NaN/inf as None, containers recursively."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return repr(value)


def _trials(result: Any) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for name, study in result.studies.items():
        out[name] = [
            {
                "number": t.number,
                "state": t.state.name,
                "value": t.value,
                "params": t.params,
                "seconds": None if t.duration is None else t.duration.total_seconds(),
            }
            for t in study.trials
        ]
    return out


def _folds(result: Any) -> dict[str, dict[str, list[float]]]:
    """Per-fold validation scores of the tuned candidates (their best trial's)."""
    out: dict[str, dict[str, list[float]]] = {}
    for name, study in result.studies.items():
        done = [t for t in study.trials if t.value is not None]
        if not done:
            continue
        cv = study.best_trial.user_attrs.get("cv") or {}
        out[name] = {k: list(v) for k, v in cv.items() if not k.startswith("train:")}
    return out


def result_entry(
    name: str,
    result: Any,
    latency: Mapping[str, float] | None = None,
    bundle: str | Path | None = None,
    extra: Mapping[str, Any] | None = None,
    latency_of: str | None = None,
) -> dict[str, Any]:
    """One result of a run (a task, or a recipe step) as the data the report reads.

    Parameters
    ----------
    name : str
        Its title.
    result : Result
        What :func:`litmus_automl.train` returned.
    latency : dict, optional
        :func:`measure_latency` of the best candidate's bundle.
    bundle : path, optional
        Where its bundle was exported.
    extra : dict, optional
        More fields (a recipe step's outcome).
    latency_of : str, optional
        What ``latency`` timed (default: the bundle, else the in-memory inference model).
    """
    task = result.task
    best = result.best
    plan = best.preprocessor.pipeline.explain() if best.preprocessor is not None else ""
    board = result.leaderboard
    return {
        "name": name,
        "task": {
            "name": task.name,
            "kind": task.kind,
            "label": str(task.label),
            "train_rows": len(task.train),
            "test_rows": None if task.test is None else len(task.test),
            "features": [str(c) for c in task.features()],
        },
        "objective": result.objective,
        "greater_is_better": result.greater_is_better,
        "best": best.name,
        "leaderboard": _plain(board.to_dict(orient="records")),
        "folds": _plain(_folds(result)),
        "latency": None if latency is None else _plain(latency),
        "bundle": None if bundle is None else str(bundle),
        "latency_of": latency_of or (f"the bundle {bundle}" if bundle else _IN_MEMORY),
        "plan": plan,
        "trials": _plain(_trials(result)),
        **_plain(dict(extra or {})),
    }


def save_run(
    run_dir: str | Path,
    entries: Sequence[Mapping[str, Any]],
    title: str,
    recipe: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``run.json`` and ``trials.json`` into ``run_dir`` (created if needed).

    Parameters
    ----------
    run_dir : path
        The run directory.
    entries : sequence of dict
        :func:`result_entry` of each result.
    title : str
        The run's title.
    recipe : dict, optional
        The recipe, its steps' outcomes and the bar's outcome.

    Returns
    -------
    Path
        The run directory.
    """
    root = Path(run_dir)
    root.mkdir(parents=True, exist_ok=True)
    trials = {e["name"]: e.get("trials", {}) for e in entries}
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "title": title,
        "results": [{k: v for k, v in e.items() if k != "trials"} for e in entries],
        "recipe": None if recipe is None else _plain(recipe),
    }
    (root / RUN_FILE).write_text(json.dumps(doc, indent=1, allow_nan=False))
    (root / TRIALS_FILE).write_text(json.dumps(_plain(trials), allow_nan=False))
    return root


def _read_run(root: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    if not root.is_dir():
        raise ReportError(f"{root}: no such run directory")
    run_file = root / RUN_FILE
    if not run_file.is_file():
        raise ReportError(
            f"{root}: not a run directory (no {RUN_FILE}; `litmus train CONFIG --run DIR` and "
            "`litmus recipe run` write one)"
        )
    try:
        doc = json.loads(run_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ReportError(f"{run_file}: not valid JSON ({err})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ReportError(f"{run_file}: not a litmus run file (format {FORMAT!r} expected)")
    if doc.get("version") != VERSION:
        raise ReportError(
            f"{run_file}: version {doc.get('version')!r}; this litmus reads {VERSION}"
        )
    if not isinstance(doc.get("results"), list):
        raise ReportError(f"{run_file}: 'results' must be a list")
    trials: dict[str, Any] = {}
    trials_file = root / TRIALS_FILE
    if trials_file.is_file():
        try:
            trials = json.loads(trials_file.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ReportError(f"{trials_file}: not valid JSON ({err})") from None
    return doc, trials if isinstance(trials, dict) else {}


# plots -------------------------------------------------------------------------------------------
def _png(fig: Any) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    return Figure(figsize=(width, height))


def _metrics_of(board: list[dict[str, Any]]) -> list[str]:
    keys = [k for k in (board[0] if board else {}) if k.startswith("validation.")]
    return [k.removeprefix("validation.") for k in keys if not k.endswith("_std")]


def _fold_plot(entry: Mapping[str, Any]) -> str | None:
    board = entry.get("leaderboard") or []
    metrics = _metrics_of(board)[:3]
    if not board or not metrics:
        return None
    folds = entry.get("folds") or {}
    fig = _figure(4.2 * len(metrics), 0.5 + 0.45 * len(board))
    for i, name in enumerate(metrics):
        ax = fig.add_subplot(1, len(metrics), i + 1)
        labels = [str(r["candidate"]) for r in board]
        for y, row in enumerate(board):
            mean, std = row.get(f"validation.{name}"), row.get(f"validation.{name}_std")
            if mean is None:
                continue
            ax.errorbar([mean], [y], xerr=[std or 0.0], fmt="o", color="C0", capsize=4)
            points = (folds.get(row["candidate"]) or {}).get(name)
            if points:
                ax.plot(points, [y] * len(points), "|", color="C3", markersize=12)
        ax.set_yticks(range(len(board)), labels)
        ax.invert_yaxis()
        ax.set_xlabel(f"validation {name} (mean ± std; | = one fold)")
        ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def _tuning_plot(trials: Mapping[str, Any], greater: bool) -> str | None:
    curves = {name: ts for name, ts in trials.items() if len(ts) > 1}
    if not curves:
        return None
    fig = _figure(6.5, 3.4)
    ax = fig.add_subplot(1, 1, 1)
    for i, (name, ts) in enumerate(curves.items()):
        done = [(t["number"], t["value"]) for t in ts if t.get("value") is not None]
        if not done:
            continue
        xs, ys = zip(*done)
        best = np.maximum.accumulate(ys) if greater else np.minimum.accumulate(ys)
        ax.plot(xs, ys, "o", color=f"C{i}", alpha=0.6, label=f"{name} (trial)")
        ax.plot(xs, best, "-", color=f"C{i}", label=f"{name} (best so far)")
    ax.set_xlabel("trial")
    ax.set_ylabel("objective (fold mean)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _png(fig)


def _bar_plot(recipe: Mapping[str, Any]) -> str | None:
    outcomes = recipe.get("outcomes") or []
    values = [o.get("metric") for o in outcomes]
    if not outcomes or any(v is None for v in values):
        return None
    fig = _figure(6.0, 0.8 + 0.5 * len(outcomes))
    ax = fig.add_subplot(1, 1, 1)
    colors = ["C2" if o.get("met") else "C7" for o in outcomes]
    ax.barh(range(len(outcomes)), values, color=colors)
    ax.axvline(recipe["threshold"], color="C3", linestyle="--", label="bar")
    ax.set_yticks(range(len(outcomes)), [f"{o['step']}. {o['name']}" for o in outcomes])
    ax.invert_yaxis()
    ax.set_xlabel(f"test {recipe['metric']} (green: step met the whole bar)")
    ax.legend(fontsize=7)
    return _png(fig)


# HTML --------------------------------------------------------------------------------------------
_CSS = """
body{font-family:sans-serif;margin:1.5em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#f2f2f2} td.t{text-align:left}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:12px}
.met{color:#1a7f37;font-weight:bold} .not{color:#b42318;font-weight:bold}
h2{border-bottom:2px solid #ddd;padding-bottom:.2em}
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 1e4 else f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], cls: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="t">{_e(_fmt(v))}</td>' if isinstance(v, str) else f"<td>{_e(_fmt(v))}</td>"
            for v in row
        )
        body.append(f"<tr>{cells}</tr>")
    return (
        f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def _img(data: str | None, alt: str, missing: str) -> str:
    if data is None:
        return f"<p><i>{_e(missing)}</i></p>"
    return f'<p><img alt="{_e(alt)}" src="data:image/png;base64,{data}"></p>'


def _leaderboard(entry: Mapping[str, Any]) -> str:
    board = entry.get("leaderboard") or []
    if not board:
        return "<p><i>no candidates</i></p>"
    headers = [k for k in board[0] if k != "params"] + ["params"]
    rows = [[r.get(h) if h != "params" else _fmt(r.get(h)) for h in headers] for r in board]
    return _table(headers, rows, "leaderboard")


def _fold_table(entry: Mapping[str, Any]) -> str:
    board = entry.get("leaderboard") or []
    metrics = _metrics_of(board)
    rows = []
    for r in board:
        row: list[Any] = [str(r["candidate"])]
        for m in metrics:
            mean, std = r.get(f"validation.{m}"), r.get(f"validation.{m}_std")
            row.append("—" if mean is None else f"{mean:.4g} ± {(std or 0.0):.2g}")
        folds = (entry.get("folds") or {}).get(r["candidate"]) or {}
        row.append(", ".join(f"{v:.4g}" for v in folds.get(metrics[0], [])) if metrics else "")
        rows.append(row)
    heads = ["candidate"] + [f"validation {m}" for m in metrics]
    heads.append(f"{metrics[0]} per fold" if metrics else "per fold")
    return _table(heads, rows, "folds")


def _latency(entry: Mapping[str, Any]) -> str:
    lat = entry.get("latency")
    if not lat:
        return "<p><i>not measured</i></p>"
    where = entry.get("latency_of") or _IN_MEMORY
    rows = [[f"{lat['p50_us']:.1f}", f"{lat['p99_us']:.1f}", f"{lat['mean_us']:.1f}", lat["calls"]]]
    table = _table(["p50 µs", "p99 µs", "mean µs", "calls"], rows, "latency")
    return f"<p>predict(one dict) of {_e(where)}, each call timed alone:</p>{table}"


def _recipe_section(recipe: Mapping[str, Any]) -> str:
    parts = [f"<h2>Recipe: {_e(recipe.get('name', ''))}</h2>"]
    if recipe.get("description"):
        parts.append(f"<p>{_e(recipe['description'])}</p>")
    parts.append(f"<p><b>Bar</b>: {_e(recipe.get('bar', ''))}</p>")
    knobs = recipe.get("knobs") or {}
    if knobs:
        rows = [
            [k, _fmt(v.get("value")), v.get("allowed", ""), v.get("help", "")]
            for k, v in knobs.items()
        ]
        parts.append(_table(["knob", "value", "allowed", "what it does"], rows, "knobs"))
    outcomes = recipe.get("outcomes") or []
    rows = []
    for o in outcomes:
        met = "met" if o.get("met") else "not met"
        rows.append(
            [
                o["step"],
                o["name"],
                o["tries"],
                o.get("best", ""),
                o.get("metric"),
                o.get("p99_us"),
                met,
            ]
        )
    heads = ["step", "name", "tried", "best", f"test {recipe.get('metric', '')}", "p99 µs", "bar"]
    parts.append(_table(heads, rows, "steps"))
    parts.append(_img(_bar_plot(recipe), "test metric per step", "no step finished"))
    cls = "met" if recipe.get("met") else "not"
    parts.append(f'<p class="{cls}">{_e(recipe.get("message", ""))}</p>')
    for line in recipe.get("advice") or []:
        parts.append(f"<p>Next: {_e(line)}</p>")
    return "\n".join(parts)


def _entry_section(entry: Mapping[str, Any], trials: Mapping[str, Any]) -> str:
    task = entry.get("task") or {}
    summary = (
        f"task {task.get('name')!s} ({task.get('kind')}), label {task.get('label')}, "
        f"{task.get('train_rows')} train rows, {task.get('test_rows') or 0} test rows, "
        f"{len(task.get('features') or [])} features; objective {entry.get('objective')} "
        f"({'higher' if entry.get('greater_is_better') else 'lower'} is better); best "
        f"{entry.get('best')}"
    )
    tuning = _tuning_plot(trials, bool(entry.get("greater_is_better")))
    return "\n".join(
        [
            f"<h2>{_e(entry.get('name', ''))}</h2>",
            f"<p>{_e(summary)}</p>",
            "<h3>Leaderboard</h3>",
            _leaderboard(entry),
            "<h3>Fold metrics</h3>",
            _fold_table(entry),
            _img(_fold_plot(entry), "fold metrics", "no validation metrics"),
            "<h3>Tuning curves</h3>",
            _img(tuning, "tuning curves", "no tuning in this run (fixed parameters)"),
            "<h3>Bundle latency</h3>",
            _latency(entry),
            "<h3>Preprocessing plan (best candidate)</h3>",
            f"<details><summary>litsdf explain</summary><pre>{_e(entry.get('plan', ''))}</pre>"
            "</details>",
        ]
    )


def write_report(run_dir: str | Path, output: str | Path | None = None) -> Path:
    """Write the HTML report of a run directory.

    Parameters
    ----------
    run_dir : path
        A run directory (see the module docstring).
    output : path, optional
        The HTML file (default ``run_dir/report.html``).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ReportError
        When ``run_dir`` is not a run directory, its files cannot be read, or matplotlib is
        missing.
    """
    root = Path(run_dir)
    doc, trials = _read_run(root)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ReportError("report: needs matplotlib (pip install 'litsdf[automl]')") from None
    title = str(doc.get("title") or root.name)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p>litmus run, {_e(doc.get('created', ''))}</p>",
    ]
    if doc.get("recipe"):
        parts.append(_recipe_section(doc["recipe"]))
    for entry in doc["results"]:
        if not isinstance(entry, dict):
            raise ReportError(f"{root / RUN_FILE}: each result must be an object")
        parts.append(_entry_section(entry, trials.get(entry.get("name", ""), {}) or {}))
    parts.append("</body></html>")
    target = Path(output) if output is not None else root / REPORT_FILE
    try:
        target.write_text("\n".join(parts), encoding="utf-8")
    except OSError as err:
        raise ReportError(f"{target}: cannot write the report ({err.strerror})") from None
    return target
