"""``litmus`` command line: ``litmus train config.yaml``, ``litmus predict``, ``litmus serve``,
``litmus recipe``, ``litmus report``, ``litmus demo``.

A training config is the arguments of :func:`litmus_automl.train` as YAML::

    tasks:
      - name: cancer
        task: binary
        data: {train: train.csv, test: test.csv}
        schema: {label: target}
        k_fold: 5
    algorithm:
      - XGBoost
      - {name: XGBoost, hyperparams: {max_depth: 5}}
      - {name: XGBoost, search: {max_depth: {int: [3, 10]}, eta: {float: [0.01, 0.3], log: true}}}
    metrics:
      validation: [accuracy, roc_auc]
      test: [accuracy, {name: coverage_at_precision, params: {precision: 0.85}}]
    tune: {method: tpe, n_trials: 20, timeout_s: 600}
    resources: {train: {cpus: 2}}
    export: bundle/

Relative data paths are read relative to the config file. Errors name the key path. The
whole config is checked before anything trains: algorithm names, hyperparameters and search
ranges (also for each task's kind), metrics (also whether they apply to the task), the tuning,
unique task names, and the export target (it must not exist or be an empty directory, as the
bundle writer never overwrites; its parent must be creatable and writable; several tasks
export to ``export/<task name>``).

``litmus predict bundle/ rows.csv`` reads the file with the bundle's input schema (see
:mod:`litmus_automl.inputs`); bad input, a missing or bad bundle, or an unwritable output is
one line on stderr and exit code 2.

``litmus serve bundle/ [--host 127.0.0.1] [--port 8000] [--workers K]`` serves the bundle over
HTTP (see :mod:`litmus_automl.serve`) until SIGTERM, then exits with code 0.

``litmus recipe check recipe.yaml [--set k=v]`` validates a recipe; ``litmus recipe run
recipe.yaml --data train.csv [--test test.csv] [--out DIR] [--set k=v]`` walks its steps until
the bar is met (see :mod:`litmus_automl.recipe`). ``litmus report RUN_DIR`` writes the run's
HTML report (see :mod:`litmus_automl.report`); ``litmus train config.yaml --run DIR`` writes a
run directory.

Every error of every command is one line on stderr (``litmus: ...``) and a non-zero exit
code, never a traceback: see :func:`main`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from .serve import DEFAULT_MAX_BODY_BYTES

__all__ = ["CommandError", "ConfigError", "export_targets", "load_config", "main"]


class ConfigError(ValueError):
    """The training config is not what ``litmus train`` expects (names the key path)."""


def _algorithm(path: str, spec: Any) -> Any:
    from .algorithms.registry import configured, get

    if isinstance(spec, str):
        try:
            return get(spec)
        except ValueError as err:
            raise ConfigError(f"{path}: {err}") from err
    if not isinstance(spec, dict) or "name" not in spec:
        raise ConfigError(f"{path}: expected a name or {{name: ..., hyperparams/search: ...}}")
    unknown = sorted(set(spec) - {"name", "hyperparams", "search"})
    if unknown:
        raise ConfigError(f"{path}: unknown keys {unknown} (known: name, hyperparams, search)")
    try:
        algo = get(spec["name"])
    except ValueError as err:
        raise ConfigError(f"{path}.name: {err}") from err
    return configured(algo, spec, path, ConfigError)


def _metric(path: str, spec: Any) -> Any:
    from .metrics import Metric, metric

    try:
        if isinstance(spec, str):
            metric(spec)  # a known name (checked now, resolved by train)
            return spec
        if isinstance(spec, dict) and "name" in spec and set(spec) <= {"name", "params"}:
            return Metric(spec["name"], spec.get("params") or {})
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{path}: {err}") from err
    raise ConfigError(f"{path}: expected a metric name or {{name: ..., params: {{...}}}}")


def export_targets(export: str | Path, tasks: Sequence[Any]) -> list[Path]:
    """Where each task's bundle goes: ``export`` for one task, ``export/<name>`` for several."""
    root = Path(export)
    return [root] if len(tasks) == 1 else [root / t.name for t in tasks]


def _check_export(target: Path) -> None:
    """Refuse, before training, an export the bundle writer would refuse after it: a target
    that exists and is not an empty directory (a bundle is never overwritten), or one whose
    parent cannot be created or written (the bundle is written there, then moved in place)."""
    if target.exists() and not target.is_dir():
        raise ConfigError(f"export: {target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()):
        raise ConfigError(
            f"export: {target} exists and is not empty; litmus does not overwrite a bundle "
            "(remove it or choose another export path)"
        )
    ancestor = target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ConfigError(f"export: cannot create {target}: {ancestor} is not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ConfigError(f"export: cannot create {target}: {ancestor} is not writable")


def load_config(path: str | Path) -> dict[str, Any]:
    """The :func:`litmus_automl.train` keyword arguments (plus ``export``) from a YAML file."""
    import yaml

    from .task import TaskData
    from .train import check_setup
    from .tuning import Tune

    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping with 'tasks' and 'algorithm'")
    known = {"tasks", "algorithm", "metrics", "tune", "resources", "export", "ensemble"}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown keys {unknown} (known: {sorted(known)})")
    if not doc.get("tasks"):
        raise ConfigError(f"{path}: 'tasks' must list at least one task")
    base = path.parent
    tasks = []
    for i, t in enumerate(doc["tasks"]):
        where = f"tasks[{i}]"
        if not isinstance(t, dict):
            raise ConfigError(f"{where}: expected a mapping")
        data = {
            k: str(base / v) if isinstance(v, str) and not Path(v).is_absolute() else v
            for k, v in (t.get("data") or {}).items()
        }
        try:
            tasks.append(
                TaskData.create(
                    name=t.get("name", f"task{i}"),
                    task=t.get("task", ""),
                    data=data,
                    schema=t.get("schema"),
                    k_fold=t.get("k_fold", 5),
                )
            )
        except (ValueError, TypeError, FileNotFoundError) as err:
            raise ConfigError(f"{where}: {err}") from err
    names = [t.name for t in tasks]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"tasks: names must be unique; repeated: {repeated}")
    algos = doc.get("algorithm", ["XGBoost"])
    algos = algos if isinstance(algos, list) else [algos]
    out: dict[str, Any] = {
        "data": tasks,
        "algorithm": [_algorithm(f"algorithm[{i}]", a) for i, a in enumerate(algos)],
    }
    if doc.get("metrics") is not None:
        metrics = doc["metrics"]
        if not isinstance(metrics, dict):
            raise ConfigError("metrics: expected {train: [...], validation: [...], test: [...]}")
        unknown = sorted(set(metrics) - {"train", "validation", "test"})
        if unknown:
            raise ConfigError(f"metrics: unknown splits {unknown} (known: train, validation, test)")
        for split, ms in metrics.items():
            if ms is not None and not isinstance(ms, list):
                raise ConfigError(f"metrics.{split}: expected a list of metrics")
        out["metrics"] = {
            split: [_metric(f"metrics.{split}[{j}]", m) for j, m in enumerate(ms or [])]
            for split, ms in metrics.items()
        }
    if doc.get("tune") is not None:
        try:
            out["tune"] = Tune(**doc["tune"])
        except (TypeError, ValueError) as err:
            raise ConfigError(f"tune: {err}") from err
    if doc.get("resources") is not None:
        resources = doc["resources"]
        if not isinstance(resources, dict) or not isinstance(resources.get("train", {}), dict):
            raise ConfigError("resources: expected {train: {cpus: ..., gpus: ..., ...}}")
        out["resources"] = resources
    if doc.get("ensemble") is not None:
        if not isinstance(doc["ensemble"], bool):
            raise ConfigError(f"ensemble: expected true or false, got {doc['ensemble']!r}")
        out["ensemble"] = doc["ensemble"]
    if doc.get("export") is not None:
        if not isinstance(doc["export"], str):
            raise ConfigError(f"export: expected a directory path, got {doc['export']!r}")
        out["export"] = str(base / doc["export"])
        for target in export_targets(out["export"], tasks):
            _check_export(target)
    try:
        check_setup(tasks, out["algorithm"], out.get("metrics"), out.get("tune"))
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{path}: {err}") from err
    return out


def _train(args: argparse.Namespace) -> int:
    from .train import train

    config = load_config(args.config)
    export = config.pop("export", None)
    result = train(**config, progress=True)
    results = result if isinstance(result, dict) else {config["data"][0].name: result}
    targets: list[Path | None] = [None] * len(results)
    if export:
        targets = list(export_targets(export, config["data"]))
    runs = export_targets(args.run, config["data"]) if args.run else [None] * len(results)
    for (name, r), target, run in zip(results.items(), targets, runs, strict=True):
        print(f"== {name}: leaderboard ==")
        print(r.leaderboard.drop(columns=["params"]).to_string())
        if target is not None:
            print(f"exported {r.best.name} to {r.best.export(target)}")
        if run is not None:
            print(f"run directory: {_save_train_run(run, name, r, target)}")
    return 0


def _save_train_run(run: Path, name: str, result: Any, bundle: Path | None) -> Path:
    from .bundle import load
    from .report import measure_latency, result_entry, save_run

    task = result.task
    rows = task.X(task.test if task.test is not None else task.train).head(50)
    model = result.best.inference_model() if bundle is None else load(bundle, allow_pickle=True)
    latency = measure_latency(model, rows.to_dict(orient="records"))
    entry = result_entry(f"task {name}", result, latency, bundle)
    return save_run(run, [entry], f"litmus train: {name}")


def _recipe(args: argparse.Namespace) -> int:
    from .recipe import load_recipe, parse_sets, run_recipe

    recipe = load_recipe(args.recipe, parse_sets(args.set or []))
    if args.action == "check":
        print(f"{args.recipe}: ok; {recipe.describe()}")
        return 0
    run = run_recipe(recipe, args.data, args.test, args.out, echo=lambda s: print(s, flush=True))
    return 0 if run.met else 3


def _report(args: argparse.Namespace) -> int:
    from .report import write_report

    print(f"wrote {write_report(args.run_dir, args.output)}")
    return 0


class CommandError(ValueError):
    """A ``litmus`` command that cannot do what it was asked (printed as one line)."""


def _predict(args: argparse.Namespace) -> int:
    import pandas as pd

    from .bundle import load
    from .inputs import read_input
    from .serve import input_schema

    model = load(args.bundle)
    if args.proba and model.kind != "classification":
        raise CommandError(f"--proba: {args.bundle} is a regression bundle (no probabilities)")
    output = Path(args.output) if args.output else None
    if output is not None and not output.parent.is_dir():
        raise CommandError(f"--output {output}: no such directory {output.parent}")
    frame = read_input(args.input, input_schema(model))
    try:
        out = model.predict_proba(frame) if args.proba else model.predict(frame)
    except (TypeError, ValueError, KeyError) as err:
        raise CommandError(f"{args.input}: cannot predict: {err}") from err
    classes = model.classes if args.proba and model.classes else None
    result = pd.DataFrame(out, columns=classes) if args.proba else pd.DataFrame({"prediction": out})
    if output is None:
        result.to_csv(sys.stdout, index=False)
        return 0
    try:
        result.to_csv(output, index=False)
    except OSError as err:
        raise CommandError(f"--output {output}: cannot write it ({err.strerror})") from None
    print(f"wrote {len(result)} predictions to {output}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    try:
        from .serve import serve
    except ImportError as err:  # uvicorn is in the automl extra
        raise CommandError(
            f"serve: needs uvicorn ({err}); install it with pip install 'litsdf[automl]'"
        ) from None

    def announce(line: str) -> None:
        print(line, flush=True)

    serve(
        args.bundle,
        host=args.host,
        port=args.port,
        workers=args.workers,
        max_body_bytes=args.max_body_bytes,
        shutdown_timeout=args.shutdown_timeout,
        log_level=args.log_level,
        access_log=args.access_log,
        announce=announce,
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    import tempfile

    import numpy as np
    from sklearn.datasets import load_breast_cancer

    from . import TaskData, Tune, load, train

    frame = load_breast_cancer(as_frame=True).frame
    rng = np.random.default_rng(0)
    test_mask = rng.random(len(frame)) < 0.25
    task = TaskData.create(
        name="breast_cancer",
        task=("binary", "classification"),
        data={"train": frame[~test_mask], "test": frame[test_mask]},
        schema={"label": "target"},
        k_fold=5,
    )
    print(f"litmus demo: breast_cancer ({(~test_mask).sum()} train / {test_mask.sum()} test rows)")
    result = train(
        [task],
        algorithm=["XGBoost", "LogisticRegression"],
        metrics={
            "train": ["accuracy"],
            "validation": ["accuracy", "roc_auc"],
            "test": ["accuracy", "roc_auc"],
        },
        tune=Tune(method="tpe", n_trials=args.trials, seed=0),
        progress=True,
    )
    print("\n== leaderboard ==")
    print(result.leaderboard.drop(columns=["params"]).to_string())
    with tempfile.TemporaryDirectory() as tmp:
        where = result.best.export(Path(tmp) / "bundle")
        print(
            f"\nexported {result.best.name} to a bundle: {sorted(p.name for p in where.iterdir())}"
        )
        model = load(where)
        row = frame[test_mask].drop(columns="target").iloc[0].to_dict()
        label = model.predict(row)
        times = []
        for _ in range(7):
            start = time.perf_counter()
            for _ in range(100):
                model.predict(row)
            times.append((time.perf_counter() - start) / 100)
        print(
            f"bundle.predict(one row as a dict) -> {label!r} in {np.median(times) * 1e6:.0f} us "
            "median (preprocessing on the rows backend + the model)"
        )
        same = np.array_equal(
            model.predict(frame[test_mask]), result.best.predict(frame[test_mask])
        )
        print(f"bundle predictions identical to the in-memory model on the test set: {same}")
    print(json.dumps({"best": result.best.name, **result.best.scores.get("test", {})}))
    return 0


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``litmus: <command>: <what>``)."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("litmus").strip()
        where = f"{command}: " if command else ""
        raise CommandError(f"{where}{message} (see `{self.prog} --help`)")


def _count(low: int, what: str) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return parse


def _port(text: str) -> int:
    value = _count(0, "a port number 0..65535")(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0..65535, got {value}")
    return int(value)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected seconds (a number >= 0), got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="litmus", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("train", help="train from a YAML config (see `litmus train --help`)")
    tr.add_argument("config")
    tr.add_argument("--run", help="write a run directory here (run.json, trials.json)")
    pr = sub.add_parser("predict", help="predict a CSV/parquet file with an exported bundle")
    pr.add_argument("bundle")
    pr.add_argument("input")
    pr.add_argument("--output", "-o", help="write predictions to this CSV (default: stdout)")
    pr.add_argument("--proba", action="store_true", help="class probabilities")
    se = sub.add_parser(
        "serve", help="serve a bundle over HTTP: POST /predict, /predict_proba; GET /metadata"
    )
    se.add_argument("bundle")
    se.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    se.add_argument("--port", type=_port, default=8000, help="port (8000; 0: a free one)")
    se.add_argument(
        "--workers", type=_count(1, "a number of processes >= 1"), default=1, help="processes"
    )
    se.add_argument(
        "--max-body-bytes",
        type=_count(1, "a number of bytes >= 1"),
        default=DEFAULT_MAX_BODY_BYTES,
        help=f"largest request body ({DEFAULT_MAX_BODY_BYTES}); larger ones get 413",
    )
    se.add_argument(
        "--shutdown-timeout",
        type=_seconds,
        default=30.0,
        help="seconds to finish requests in flight after SIGTERM (30)",
    )
    se.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="server log level (info)",
    )
    se.add_argument("--access-log", action="store_true", help="log every request")
    rc = sub.add_parser("recipe", help="check or run a recipe (see `litmus recipe --help`)")
    rsub = rc.add_subparsers(dest="action", required=True)
    for action in ("check", "run"):
        what = "validate a recipe" if action == "check" else "run a recipe until its bar is met"
        ra = rsub.add_parser(action, help=what)
        ra.add_argument("recipe")
        ra.add_argument(
            "--set", action="append", metavar="KNOB=VALUE", help="change a knob (repeatable)"
        )
        if action == "run":
            ra.add_argument("--data", required=True, help="training data (.csv / .parquet)")
            ra.add_argument("--test", help="test data the bar is judged on (else split off)")
            ra.add_argument("--out", help="run directory: bundle/, report.html (new or empty)")
    rp = sub.add_parser("report", help="write the HTML report of a run directory")
    rp.add_argument("run_dir")
    rp.add_argument("--output", "-o", help="the HTML file (default RUN_DIR/report.html)")
    demo = sub.add_parser("demo", help="train, rank, export and serve on a bundled dataset")
    demo.add_argument("--trials", type=_count(1, "a number of trials >= 1"), default=8)
    return parser


_COMMANDS = {
    "train": _train,
    "predict": _predict,
    "serve": _serve,
    "recipe": _recipe,
    "report": _report,
    "demo": _demo,
}


def _one_line(err: BaseException) -> str:
    """The error as one line: its message with line breaks folded into spaces."""
    text = " ".join(part.strip() for part in str(err).splitlines() if part.strip())
    return text or type(err).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``litmus`` command.

    Every error is one line on stderr, ``litmus: <what>``, and a non-zero exit code: 2 for a
    bad argument, config, recipe, run directory, bundle or input (and a file that cannot be
    read or written), 3 when a recipe ran but no step met its bar, 1 for
    an unexpected error (named by its type; ``LITMUS_TRACEBACK=1`` shows the traceback), 130
    when interrupted.
    """
    try:
        args = _parser().parse_args(argv)
        from .bundle import BundleError
        from .inputs import InputError
        from .recipe import RecipeError
        from .report import ReportError
        from .serve import ServeError

        try:
            return _COMMANDS[args.command](args)
        except (BundleError, InputError, ServeError, RecipeError, ReportError) as err:
            raise CommandError(_one_line(err)) from err
    except (ConfigError, CommandError) as err:
        print(f"litmus: {_one_line(err)}", file=sys.stderr)
        return 2
    except OSError as err:
        where = f"{err.filename}: " if err.filename else ""
        print(f"litmus: {where}{err.strerror or _one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("litmus: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if os.environ.get("LITMUS_TRACEBACK"):
            raise
        print(f"litmus: unexpected {type(err).__name__}: {_one_line(err)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
