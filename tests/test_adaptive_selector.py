"""The adaptive selector (``litsdf.options.selector = "adaptive"``): a bandit per (plan
fingerprint, size bucket) over the backends that run the plan, kept in a real sqlite file.

Convergence and the 2x bound are measured with real backends in a real subprocess where the
``sleepy`` plugin backend (``tests/plugin_backends/slow``: pandas after a 0.25 s pause, the
static selector's first choice) is registered; the policy's bound is also checked run by run
on the real store with given run times; two real processes write one store at once.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas
import pytest

import litsdf
from litsdf_compiler import adaptive, backends, engine, selector
from litsdf_compiler.adaptive.store import SAMPLES_KEPT, Store

ROOT = Path(__file__).resolve().parents[1]
SLOW_PLUGINS = ROOT / "tests" / "plugin_backends" / "slow"


@pytest.fixture(autouse=True)
def _own_store(tmp_path, monkeypatch):
    """Every test has its own store (``LITSDF_CACHE_DIR``) and restores the static mode."""
    monkeypatch.setenv("LITSDF_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("LITSDF_PROFILE", str(tmp_path / "profile.json"))
    selector.reset_settings()
    adaptive.reset()
    yield
    litsdf.options.selector = "static"
    adaptive.reset()
    selector.reset_settings()


def _frame(n: int, seed: int = 0) -> pandas.DataFrame:
    rng = np.random.default_rng(seed)
    return pandas.DataFrame({"k": rng.integers(0, 1000, n), "v": rng.random(n), "w": rng.random(n)})


def _program(pd, frame):
    return pd.DataFrame(frame).groupby("k")[["v", "w"]].sum()


def _subprocess(code: str, cache: Path, plugins: Path | None = SLOW_PLUGINS) -> dict:
    env = {k: v for k, v in os.environ.items() if k != backends.BACKEND_PATH}
    if plugins is not None:
        env[backends.BACKEND_PATH] = str(plugins)
    env["LITSDF_CACHE_DIR"] = str(cache)
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


# -- options and fingerprints --------------------------------------------------------------------


def test_the_option_defaults_to_static_and_checks_its_value():
    assert litsdf.options.selector == "static"
    with pytest.raises(ValueError, match=r"options.selector must be one of .*'adaptive'.*'x'"):
        litsdf.options.selector = "x"
    with litsdf.option_context(selector="adaptive"):
        assert adaptive.mode() == "adaptive"
    assert litsdf.options.selector == "static"
    # static mode: today's choice, and nothing written
    frame = _frame(1000)
    got = _program(litsdf, frame)
    got.to_pandas()
    assert got.explain(format="dict")["backend"].get("adaptive") is None
    assert not adaptive.store_path().exists()


def test_the_fingerprint_abstracts_the_data_but_not_the_schema_or_the_work(tmp_path):
    fp = adaptive.fingerprint
    a = _program(litsdf, _frame(100, seed=1))._plan
    b = _program(litsdf, _frame(5000, seed=2))._plan
    assert fp(a) == fp(b)  # other values, other size: one shape
    as_int32 = _frame(100).astype({"v": "float32"})
    assert fp(_program(litsdf, as_int32)._plan) != fp(a)  # another dtype
    renamed = _frame(100).rename(columns={"w": "x"})
    assert fp(litsdf.DataFrame(renamed).groupby("k")[["v", "x"]].sum()._plan) != fp(a)
    mean = litsdf.DataFrame(_frame(100)).groupby("k")[["v", "w"]].mean()._plan
    assert fp(mean) != fp(a)  # other work

    def kept(frame, value):
        df = litsdf.DataFrame(frame)
        return df[df["v"] > value]._plan

    assert fp(kept(_frame(10), 0.5)) == fp(kept(_frame(20, seed=3), 0.25))  # a parameter
    assert fp(kept(_frame(10), 0.5)) != fp(kept(_frame(10), 1))  # (an int: other kernels)
    # a file by its schema, not its path or version
    for name, seed in (("one.parquet", 1), ("two.parquet", 2)):
        _frame(50, seed).to_parquet(tmp_path / name)
    one = litsdf.read_parquet(tmp_path / "one.parquet").groupby("k")[["v"]].sum()._plan
    two = litsdf.read_parquet(tmp_path / "two.parquet").groupby("k")[["v"]].sum()._plan
    assert fp(one) == fp(two)
    _frame(50).astype({"v": "float32"}).to_parquet(tmp_path / "three.parquet")
    three = litsdf.read_parquet(tmp_path / "three.parquet").groupby("k")[["v"]].sum()._plan
    assert fp(three) != fp(one)


def test_the_fingerprint_is_the_same_in_another_process(tmp_path):
    code = """
    import json, numpy as np, pandas, litsdf
    from litsdf_compiler import adaptive
    rng = np.random.default_rng(0)
    frame = pandas.DataFrame({"k": rng.integers(0, 1000, 100), "v": rng.random(100),
                              "w": rng.random(100)})
    plan = litsdf.DataFrame(frame).groupby("k")[["v", "w"]].sum()._plan
    print(json.dumps(adaptive.fingerprint(plan)))
    """
    theirs = _subprocess(code, tmp_path, plugins=None)  # (another PYTHONHASHSEED: salted hash)
    assert theirs == adaptive.fingerprint(_program(litsdf, _frame(100))._plan)


# -- convergence and the 2x bound, real backends -------------------------------------------------

LEARN = """
import json, sys, time, numpy as np, pandas, litsdf
from litsdf_compiler import adaptive
litsdf.options.selector = "adaptive"
rng = np.random.default_rng(0)
n = 200_000
frame = pandas.DataFrame({"k": rng.integers(0, 1000, n), "v": rng.random(n), "w": rng.random(n)})
expected = frame.groupby("k")[["v", "w"]].sum()
runs = []
for _ in range(RUNS):
    got = litsdf.DataFrame(frame).groupby("k")[["v", "w"]].sum()
    pandas.testing.assert_frame_equal(got.to_pandas(), expected)
    b = got.explain(format="dict")["backend"]
    runs.append([b["backend"], b["seconds"], b["reason"]])
arms = b["adaptive"]["arms"]
print(json.dumps({"runs": runs, "arms": arms}))
"""


@pytest.fixture(scope="module")
def learned(tmp_path_factory):
    """Two processes on one store: 30 runs, then 8 more (learning across runs)."""
    cache = tmp_path_factory.mktemp("learned")
    first = _subprocess(LEARN.replace("RUNS", "30"), cache)
    second = _subprocess(LEARN.replace("RUNS", "8"), cache)
    return first, second


def _warmup_runs(arms) -> int:
    return adaptive.WARMUP_TRIES * len(arms)


def test_it_converges_to_the_fastest_backend(learned):
    first, second = learned
    names = [a["backend"] for a in first["arms"]]
    assert "sleepy" in names and "pandas" in names and len(names) >= 2
    assert first["runs"][0][0] == "sleepy"  # the static preference is the first arm
    means = {a["backend"]: a["mean_seconds"] for a in second["arms"]}
    fastest = min(means, key=means.__getitem__)
    assert fastest != "sleepy" and means["sleepy"] > 3 * means[fastest]

    def near_fastest(name: str) -> bool:  # (two fast arms within noise of each other)
        return name == fastest or means[name] <= 1.5 * means[fastest]

    tail = Counter(name for name, _, _ in first["runs"][-10:])
    assert "sleepy" not in tail and near_fastest(tail.most_common(1)[0][0])
    # the next process starts from what the first learned: no warm-up, no sleepy
    assert all(r[2].startswith("adaptive") and "warm-up" not in r[2] for r in second["runs"])
    assert near_fastest(Counter(r[0] for r in second["runs"]).most_common(1)[0][0])
    assert "sleepy" not in {r[0] for r in second["runs"]}


def test_a_clearly_slower_backend_is_not_picked_after_warm_up(learned):
    first, second = learned
    warm_up = _warmup_runs(first["arms"])
    after = first["runs"][warm_up:] + second["runs"]
    assert len(after) >= 30
    assert sum(name == "sleepy" for name, _, _ in after) == 0
    assert sum(name == "sleepy" for name, _, _ in first["runs"][:warm_up]) == 2
    # exploration is bounded: the runs after warm-up that explored are within the budget
    explored = [r for r in after if "exploring" in r[2] or "re-checking" in r[2]]
    total = len(first["runs"]) + len(second["runs"])
    assert len(explored) <= adaptive.EXPLORE_FREE + adaptive.EXPLORE_SHARE * total


def _driven(rng, times: dict[str, float], runs: int, rows: int = 200_000):
    """``runs`` choices of the real policy over the registered backends named in ``times``,
    each run's time drawn around ``times[backend]`` (log-normal, 10%) and recorded in the
    real store: the policy run by run, without waiting for real work."""
    plan = _program(litsdf, _frame(10))._plan
    arms = [(b, w) for b, w in selector.ranked(plan, rows) if b.name in times]
    picks = []
    for _ in range(runs):
        choice = adaptive.choose(plan, rows, arms)
        seconds = times[choice.backend] * math.exp(rng.normal(0.0, 0.1))
        adaptive.record(choice, seconds)
        picks.append((choice.backend, seconds, choice.explored))
    return picks


def test_the_policy_keeps_the_wait_within_twice_the_best():
    names = [b.name for b in litsdf.backends() if b.name in ("pandas", "numba", "arrow")]
    if len(names) < 3:
        pytest.skip(f"needs the pandas, numba and arrow backends; have {names}")
    rng = np.random.default_rng(7)
    # numba the best; arrow 1.15x (explored, bounded); pandas 4x (never after warm-up)
    times = {"numba": 0.010, "arrow": 0.0115, "pandas": 0.040}
    picks = _driven(rng, times, 400)
    warm_up = adaptive.WARMUP_TRIES * len(times)
    after = picks[warm_up:]
    # pandas: only re-checks once its time out is over, each after twice the wait before
    rechecks = [i for i, (name, _, _) in enumerate(picks) if name == "pandas"][2:]
    assert all(picks[i][2] for i in rechecks) and 1 <= len(rechecks) <= 3
    gaps = np.diff([warm_up, *rechecks])
    assert gaps[0] >= adaptive.BACKOFF and all(b >= 2 * a - 2 for a, b in itertools.pairwise(gaps))
    explored = sum(e for _, _, e in after)
    assert 0 < explored <= adaptive.EXPLORE_FREE + adaptive.EXPLORE_SHARE * len(picks)
    assert sum(name == "arrow" for name, _, e in after if e) == explored - len(rechecks)
    assert all(name == "numba" for name, _, e in after if not e)
    waited = sum(s for _, s, _ in after)
    assert waited <= 1.1 * times["numba"] * len(after) * math.exp(0.1)


def test_a_backend_found_over_twice_as_slow_is_out_for_a_long_while():
    names = [b.name for b in litsdf.backends() if b.name in ("pandas", "numba")]
    if len(names) < 2:
        pytest.skip(f"needs the pandas and numba backends; have {names}")
    rng = np.random.default_rng(3)
    picks = _driven(rng, {"numba": 0.010, "pandas": 0.011}, 12)
    assert {name for name, _, _ in picks} == {"numba", "pandas"}
    # now pandas turns 3x slower: once measured so, it is out for BACKOFF runs
    plan = _program(litsdf, _frame(10))._plan
    arms = [(b, w) for b, w in selector.ranked(plan, 200_000) if b.name in ("numba", "pandas")]
    pandas_arm = next(a for a in arms if a[0].name == "pandas")
    choice = adaptive.choose(plan, 200_000, [pandas_arm])  # (forced: the only arm offered)
    adaptive.record(choice, 0.1)
    adaptive.record(choice, 0.1)
    view = {v.backend: v for v in adaptive.choose(plan, 200_000, arms).arms}
    assert view["pandas"].state.startswith("out until run ")
    assert int(view["pandas"].state.rsplit(" ", 1)[1]) >= 14 + adaptive.BACKOFF
    later = _driven(rng, {"numba": 0.010, "pandas": 0.011}, adaptive.BACKOFF - 5)
    assert {name for name, _, _ in later} == {"numba"}


# -- the store: corruption, an unwritable folder, concurrent processes ---------------------------


def _run_adaptive(n: int = 2000):
    frame = _frame(n)
    with litsdf.option_context(selector="adaptive"):
        got = _program(litsdf, frame)
        pandas.testing.assert_frame_equal(got.to_pandas(), _program(pandas, frame))
        return got.explain(format="dict")["backend"]


def _bad_store(path: Path, kind: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "garbage":
        path.write_bytes(os.urandom(3000))
    elif kind == "truncated":
        store = Store(path)
        for i in range(200):
            store.record("p" * 40, "b", f"backend{i}", 0.01, cold=False, explored=False)
        store.close()
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "other schema":
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE arms (x INTEGER)")
    elif kind == "other version":
        Store(path).close()
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA user_version = 99")


@pytest.mark.parametrize("kind", ["garbage", "truncated", "other schema", "other version"])
def test_a_corrupt_store_is_recreated_with_a_warning(kind):
    path = adaptive.store_path()
    _bad_store(path, kind)
    with pytest.warns(RuntimeWarning, match=re.escape(str(path))) as caught:
        ran = _run_adaptive()
    assert any("recreated" in str(w.message) for w in caught)
    assert list(path.parent.glob(f"{path.name}.corrupt-*"))
    # the new file is a store that learned the run
    assert sum(a["runs"] + a["cold_runs"] for a in ran["adaptive"]["arms"]) == 1
    adaptive.reset()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = _run_adaptive()
    assert sum(a["runs"] + a["cold_runs"] for a in again["adaptive"]["arms"]) == 2


def test_an_unwritable_folder_warns_once_and_learns_in_memory(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("LITSDF_CACHE_DIR", str(blocker / "cache"))
    with pytest.warns(RuntimeWarning, match=re.escape(str(blocker / "cache"))) as caught:
        _run_adaptive()
        ran = _run_adaptive()
    assert len([w for w in caught if "in memory" in str(w.message)]) == 1
    assert ran["adaptive"]["store"] == ":memory:"
    assert sum(a["runs"] + a["cold_runs"] for a in ran["adaptive"]["arms"]) == 2


CONCURRENT = """
import json, os, sys, time
from pathlib import Path
from litsdf_compiler.adaptive.store import Store
path, me, runs = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
store = Store(path)
(path.parent / f"ready-{me}").touch()
while not (path.parent / "go").exists():
    time.sleep(0.001)
for i in range(runs):
    store.record("plan", "bucket", "shared", 0.5, cold=i % 2 == 0, explored=False)
    store.record("plan", "bucket", me, 0.25, cold=False, explored=i % 3 == 0)
print(json.dumps("done"))
"""


def test_two_processes_updating_one_store_lose_no_update(tmp_path):
    path = tmp_path / "cache" / "selector.sqlite"
    Store(path).close()
    runs = 150
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT, str(path), me, str(runs)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for me in ("one", "two")
    ]
    deadline = time.monotonic() + 120
    for me in ("one", "two"):
        while not (path.parent / f"ready-{me}").exists():
            dead = [p for p in procs if p.poll() is not None]
            assert not dead and time.monotonic() < deadline, dead and dead[0].communicate()[1]
            time.sleep(0.01)
    (path.parent / "go").touch()  # (both write at once from here)
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
    arms = Store(path).arms("plan", "bucket")
    shared = arms["shared"]
    assert (shared.runs, shared.cold_runs) == (runs, runs)
    assert shared.sum_log == pytest.approx(runs * math.log(0.5))
    assert shared.cold_sum_log == pytest.approx(runs * math.log(0.5))
    for me in ("one", "two"):
        assert arms[me].runs == runs and arms[me].explored == len(range(0, runs, 3))
        assert arms[me].sum_log2 == pytest.approx(runs * math.log(0.25) ** 2)
    assert len(shared.recent) == SAMPLES_KEPT // 2  # (the latest 32 samples: half warm)


# -- explain ---------------------------------------------------------------------------------


def test_explain_shows_the_arms_statistics():
    frame = _frame(3000)
    litsdf.options.selector = "adaptive"
    before = _program(litsdf, frame)
    text = before.explain(stage="backend")  # (not run: would run on the static first)
    assert "would run on:" in text and "adaptive warm-up: no run yet" in text
    for _ in range(6):
        got = _program(litsdf, frame)
        got.to_pandas()
    part = got.explain(format="dict")["backend"]
    arms = part["adaptive"]["arms"]
    # the arms are the backends that run the plan; those that decline it are listed apart
    names = {a["backend"] for a in arms}
    assert "pandas" in names and not names & {name for name, _ in part["declined"]}
    assert names | {name for name, _ in part["declined"]} == {b.name for b in litsdf.backends()}
    assert sum(a["runs"] + a["cold_runs"] for a in arms) == 6
    assert [a["state"] for a in arms].count("chosen") == 1
    assert next(a for a in arms if a["state"] == "chosen")["backend"] == part["backend"]
    text = got.explain(stage="backend")
    assert f"store {adaptive.store_path()}" in text
    for a in arms:
        line = next(line for line in text.splitlines() if line.strip().startswith(a["backend"]))
        assert f"runs {a['runs']:>4}" in line and a["state"] in line
        if a["runs"]:
            assert "mean" in line and "median" in line and " ms" in line
    # the decision engine.execute returns carries the choice
    _, decision = engine.execute(_program(litsdf, frame)._plan)
    assert decision.adaptive is not None and decision.adaptive.backend == decision.backend
