"""Plans loaded from JSON run no code and touch no file without the caller's opt-in.

Each attack is real JSON text: a plan written by ``to_json`` and edited as an attacker would
(the method, function, argument or path a node names). The validator must refuse it before the
node is built (building computes metadata, which runs pandas on empty inputs), with an error
naming the node; the allow-lists must still accept every plan the front end builds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas
import pytest

import litsdf
from litmus_automl.preprocess import PreprocessFormatError, Preprocessor
from litsdf_compiler import engine
from litsdf_compiler.ir import relations as rel
from litsdf_compiler.ir import trust
from litsdf_compiler.ir.base import NODE_TYPES, walk
from litsdf_compiler.ir.expressions import REDUCTIONS, Cast, Reduce, Ufunc
from litsdf_compiler.ir.frames import as_frame
from litsdf_compiler.ir.serde import PlanFormatError, UntrustedPlanError, from_json, to_json
from litsdf_compiler.meta import meta_of

from .conftest import assert_same


def frame(pd: Any) -> Any:
    """A small frame of every kind of column, as ``pd`` (pandas or litsdf) holds it."""
    data = pandas.DataFrame(
        {
            "a": [1.5, np.nan, -2.0, 4.0, 0.0, 7.25],
            "n": np.array([1, 2, 3, 4, 6, 8], dtype="int64"),
            "k": pandas.array(["x", "y", "x", None, "y", "x"], dtype="str"),
            "s": pandas.array([" Ab ", "cD", None, "ef-1", "12", "Gh"], dtype="str"),
            "t": pandas.to_datetime(
                [
                    "2024-01-31 00:00",
                    "2024-02-29 10:30",
                    None,
                    "2024-03-01 00:00",
                    "2024-12-31 23:59",
                    "2023-06-15 12:00",
                ]
            ),
            "b": [True, False, True, True, False, True],
        }
    )
    return pd.DataFrame(data)


def _doc(obj: Any) -> dict[str, Any]:
    return json.loads(to_json(obj if isinstance(obj, rel.Node) else obj._plan))


def _find(doc: dict[str, Any], op: str) -> tuple[int, dict[str, Any]]:
    """Index and fields of the (first) node of kind ``op`` in a plan document."""
    for i, spec in enumerate(doc["nodes"]):
        if spec["op"] == op:
            return i, spec["fields"]
    raise AssertionError(f"no {op} node in {[s['op'] for s in doc['nodes']]}")


def _pairs(**kwargs: Any) -> dict[str, Any]:
    """A node's ``kwargs`` field as ``to_json`` writes it: a tuple of (name, value) pairs."""
    return {"$tuple": [{"$tuple": [k, v]} for k, v in kwargs.items()]}


def _payload(marker: Path) -> str:
    return f"@pd.io.common.os.system('touch {marker}')"


def test_the_eval_payload_runs_commands_in_pandas_itself(tmp_path: Path) -> None:
    """The attack is real: pandas' ``eval`` with ``engine="python"`` runs the command, even
    on an empty frame (so building the node's metadata would already run it)."""
    marker = tmp_path / "pwned"
    pd = pandas  # noqa: F841 - ``@pd`` in the payload names this local
    pandas.DataFrame({"a": []}).eval(_payload(marker), engine="python")
    assert marker.exists()


@pytest.mark.parametrize("op", ["FrameElementwise", "FrameReduce"])
def test_eval_with_python_engine_is_refused_before_anything_runs(op: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    obj = frame(litsdf)[["a", "n"]]
    obj = obj.fillna(0) if op == "FrameElementwise" else obj.sum()
    doc = _doc(obj)
    i, fields = _find(doc, op)
    fields["method" if op == "FrameElementwise" else "func"] = "eval"
    fields["kwargs"] = _pairs(expr=_payload(marker), engine="python")
    text = json.dumps(doc)
    with pytest.raises(UntrustedPlanError, match=rf"node {i} \({op}\).*'eval' is not allowed"):
        from_json(text)
    with pytest.raises(UntrustedPlanError, match="eval"):
        from_json(text, allow_pickle=True, allow_io=True)  # no opt-in allows code
    assert not marker.exists()


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("query", {"expr": "@pd.io.common.os.system('true') == 0", "engine": "python"}),
        ("to_csv", {"path_or_buf": "OUT"}),
        ("to_pickle", {"path": "OUT"}),
        ("pipe", {}),
    ],
)
def test_frame_methods_outside_the_allow_list_are_refused(
    method: str, kwargs: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "written"
    doc = _doc(frame(litsdf)[["a"]].round(1))
    i, fields = _find(doc, "FrameElementwise")
    fields["method"] = method
    fields["kwargs"] = _pairs(**{k: str(out) if v == "OUT" else v for k, v in kwargs.items()})
    with pytest.raises(UntrustedPlanError, match=rf"node {i} \(FrameElementwise\), field 'method'"):
        from_json(json.dumps(doc))
    assert not out.exists()


def test_numpy_functions_other_than_ufuncs_are_refused(tmp_path: Path) -> None:
    doc = _doc(np.sqrt(frame(litsdf)["n"]))
    i, fields = _find(doc, "Ufunc")
    fields["name"] = "savetxt"
    with pytest.raises(UntrustedPlanError, match=rf"node {i} \(Ufunc\).*'savetxt' is not a NumPy"):
        from_json(json.dumps(doc))
    fields["name"] = "divmod"  # a ufunc, but with two outputs: the front end never traces it
    with pytest.raises(UntrustedPlanError, match="'divmod'"):
        from_json(json.dumps(doc))
    fields["name"] = "log1p"  # another real ufunc is data
    assert [n.name for n in walk(from_json(json.dumps(doc))) if isinstance(n, Ufunc)] == ["log1p"]


def test_reduce_func_must_be_a_reduction(tmp_path: Path) -> None:
    out = tmp_path / "written.pkl"
    s = frame(litsdf)["a"]
    doc = _doc(rel.ScalarResult(s._rel, Reduce("sum", s._expr)))
    i, fields = _find(doc, "Reduce")
    fields["func"] = "to_pickle"
    fields["kwargs"] = _pairs(path=str(out))
    with pytest.raises(UntrustedPlanError, match=rf"node {i} \(Reduce\), field 'func'"):
        from_json(json.dumps(doc))
    fields["func"] = "sum"  # an allowed reduction with a keyword it does not take
    with pytest.raises(UntrustedPlanError, match="keyword 'path' is not allowed for 'sum'"):
        from_json(json.dumps(doc))
    assert not out.exists()


@pytest.mark.parametrize(
    ("build", "op", "field", "bad"),
    [
        (lambda d: d["a"].sort_values(), "SeriesMethod", "method", "to_csv"),
        (lambda d: d["a"].value_counts(), "SeriesMethod", "method", "apply"),
        (lambda d: d["s"].str.zfill(4), "StrMethod", "method", "encode"),
        (lambda d: d["s"].str.lower(), "StrCase", "how", "__class__"),
        (lambda d: d["s"].str.strip(), "StrStrip", "side", "__init__"),
        (lambda d: d["t"].dt.floor("D"), "DtMethod", "method", "to_pydatetime"),
        (lambda d: d["t"].dt.year, "DtField", "field", "freq"),
        (lambda d: d["a"] + d["n"], "BinaryOp", "op", "matmul"),
        (lambda d: -d["a"], "UnaryOp", "op", "__import__"),
    ],
)
def test_method_names_outside_the_allow_lists_are_refused(
    build: Callable[[Any], Any], op: str, field: str, bad: str
) -> None:
    doc = _doc(build(frame(litsdf)))
    i, fields = _find(doc, op)
    fields[field] = bad
    with pytest.raises(UntrustedPlanError, match=rf"node {i} \({op}\), field '{field}'.*{bad}"):
        from_json(json.dumps(doc))


@pytest.mark.parametrize(
    ("build", "field", "index", "bad"),
    [
        (lambda g: g.sum(), "functions", 0, "pipe"),
        (lambda g: g.sum(), "measures", 1, "pipe"),
        (lambda g: g.agg(m=("a", "sum")), "measures", 0, "eval"),
        (lambda g: g.agg({"a": ["sum", "max"]}), "measures", 1, "to_csv"),
        (lambda g: g.agg(["sum", "mean"]), "functions", 0, "apply"),
        (lambda g: g.agg(["sum", "mean"]), "measures", 3, "apply"),
        (lambda g: g.agg("sum"), "functions", 0, "transform"),
    ],
)
def test_aggregate_functions_outside_the_allow_list_are_refused(
    build: Callable[[Any], Any], field: str, index: int, bad: str
) -> None:
    """Every function name of an Aggregate (its call's and each measure's) is checked."""
    doc = _doc(build(frame(litsdf)[["k", "a", "n"]].groupby("k")))
    i, fields = _find(doc, "Aggregate")
    item = fields[field]["$tuple"][index]
    if field == "measures":
        item["$measure"][2] = bad
    else:
        fields[field]["$tuple"][index] = bad
    with pytest.raises(
        UntrustedPlanError, match=rf"node {i} \(Aggregate\), field '{field}'.*{bad!r}"
    ):
        from_json(json.dumps(doc))


def test_aggregate_measures_must_be_measures() -> None:
    doc = _doc(frame(litsdf)[["k", "a"]].groupby("k").sum())
    i, fields = _find(doc, "Aggregate")
    fields["measures"] = {"$tuple": [{"$tuple": ["a", "a", "sum", {"$tuple": []}]}]}
    with pytest.raises(UntrustedPlanError, match=rf"node {i} .*'measures'.*is not a measure"):
        from_json(json.dumps(doc))
    fields["measures"] = {"$tuple": [{"$measure": ["a", "a"]}]}
    with pytest.raises(PlanFormatError, match="a measure must be a list of 4 values"):
        from_json(json.dumps(doc))


@pytest.mark.parametrize(
    ("op", "build", "kwargs", "match"),
    [
        ("FrameElementwise", lambda d: d[["a"]].fillna(0), {"engine": "python"}, "'engine'"),
        ("FrameElementwise", lambda d: d[["a"]].fillna(0), {"value": [1, 2]}, "JSON array"),
        ("FrameElementwise", lambda d: d[["a"]].fillna(0), {"value": {"$node": 0}}, "node"),
        ("FrameReduce", lambda d: d[["a"]].mean(), {"out": None}, "'out'"),
        ("SeriesMethod", lambda d: d["a"].sort_values(), {"key": "abs"}, "'key'"),
        ("StrMethod", lambda d: d["s"].str.pad(5), {"buf": "x"}, "'buf'"),
        ("DtMethod", lambda d: d["t"].dt.floor("D"), {"engine": "numba"}, "'engine'"),
    ],
)
def test_forbidden_keyword_names_and_non_data_values_are_refused(
    op: str, build: Callable[[Any], Any], kwargs: dict[str, Any], match: str
) -> None:
    doc = _doc(build(frame(litsdf)))
    i, fields = _find(doc, op)
    fields["kwargs"] = _pairs(**kwargs)
    with pytest.raises(UntrustedPlanError, match=rf"node {i} \({op}\), field 'kwargs'.*{match}"):
        from_json(json.dumps(doc))


@pytest.mark.parametrize("field", ["arguments", "measures"])
def test_groupby_engine_keyword_is_refused(field: str) -> None:
    doc = _doc(frame(litsdf)[["k", "a"]].groupby("k").sum())
    i, fields = _find(doc, "Aggregate")
    if field == "arguments":
        fields["arguments"] = _pairs(engine="numba")
    else:
        fields["measures"]["$tuple"][0]["$measure"][3] = _pairs(engine="numba")
    with pytest.raises(
        UntrustedPlanError, match=rf"node {i} \(Aggregate\), field '{field}'.*'engine'"
    ):
        from_json(json.dumps(doc))


def test_in_memory_data_is_only_a_source(tmp_path: Path) -> None:
    """A ``$data`` value (a whole frame) is data for a Source, not a method argument."""
    doc = _doc(frame(litsdf)[["a"]].fillna(0))
    _, source = _find(doc, "Source")
    i, fields = _find(doc, "FrameElementwise")
    fields["kwargs"] = _pairs(value=source["data"])
    with pytest.raises(UntrustedPlanError, match=rf"node {i} .*DataRef where only data"):
        from_json(json.dumps(doc))


def test_time_zone_file_paths_are_refused() -> None:
    """``dateutil/<path>`` time zones make pandas read that file."""
    doc = _doc(frame(litsdf)["t"].dt.tz_localize("UTC"))
    i, fields = _find(doc, "DtMethod")
    fields["args"] = {"$tuple": ["dateutil//etc/passwd"]}
    with pytest.raises(UntrustedPlanError, match=rf"node {i} \(DtMethod\).*time-zone file"):
        from_json(json.dumps(doc))
    doc = _doc(frame(litsdf)["n"].astype("float32"))
    _, fields = _find(doc, "Cast")
    fields["dtype"] = {"$dtype": "datetime64[ns, dateutil//etc/passwd]"}
    with pytest.raises(UntrustedPlanError, match="time-zone file"):
        from_json(json.dumps(doc))
    fields["dtype"] = {"$dtype": "datetime64[ns, dateutil/Europe/Paris]"}  # a zone name is data
    casts = [n for n in walk(from_json(json.dumps(doc))) if isinstance(n, Cast)]
    assert "Europe/Paris" in str(casts[0].dtype)


# readers -------------------------------------------------------------------------------------


def _csv_plan(tmp_path: Path) -> tuple[dict[str, Any], Path]:
    path = tmp_path / "data.csv"
    pandas.DataFrame({"a": [1, 2, 3]}).to_csv(path, index=False)
    return _doc(litsdf.read_csv(path)), path


def test_read_csv_of_any_file_is_refused_by_default(tmp_path: Path) -> None:
    doc, path = _csv_plan(tmp_path)
    i, fields = _find(doc, "ReadCsv")
    with pytest.raises(UntrustedPlanError, match=rf"node {i} \(ReadCsv\).*allow_io=True"):
        from_json(json.dumps(doc))  # even the file the plan was written with
    fields["path"] = "/etc/passwd"
    text = json.dumps(doc)
    with pytest.raises(UntrustedPlanError, match=r"'/etc/passwd' needs allow_io=True"):
        from_json(text)
    with pytest.raises(UntrustedPlanError, match=r"allow_paths names .*data\.csv"):
        from_json(text, allow_paths=[path])  # a different file is named
    assert from_json(text, allow_io=True).path == "/etc/passwd"  # type: ignore[attr-defined]
    assert from_json(text, allow_paths=["/etc/passwd"]).path == "/etc/passwd"  # type: ignore[attr-defined]


def test_a_reader_version_must_be_a_file_identity(tmp_path: Path) -> None:
    doc, path = _csv_plan(tmp_path)
    i, fields = _find(doc, "ReadCsv")
    fields["version"] = {"$tuple": ["/etc/shadow", 1]}
    with pytest.raises(UntrustedPlanError, match=rf"node {i} \(ReadCsv\).*version"):
        from_json(json.dumps(doc), allow_paths=[path])


def test_allowed_paths_compare_real_paths_and_the_plan_reads(tmp_path: Path) -> None:
    doc, path = _csv_plan(tmp_path)
    text = json.dumps(doc)
    link = tmp_path / "link.csv"
    link.symlink_to(path)
    for named in ([path], [str(path)], [link], [tmp_path / "." / "data.csv"]):
        plan = from_json(text, allow_paths=named)
        got, _ = engine.execute(plan, "pandas")
        assert_same(as_frame(got), pandas.read_csv(path))
    with pytest.raises(TypeError, match="a collection of paths"):
        from_json(text, allow_paths=str(path))  # type: ignore[arg-type]


def test_urls_need_allow_io(tmp_path: Path) -> None:
    doc, _ = _csv_plan(tmp_path)
    _, fields = _find(doc, "ReadCsv")
    fields["path"] = "https://example.com/data.csv"
    text = json.dumps(doc)
    with pytest.raises(UntrustedPlanError, match="reading URLs needs allow_io=True"):
        from_json(text, allow_paths=["https://example.com/data.csv"])
    assert from_json(text, allow_io=True).path == fields["path"]  # type: ignore[attr-defined]


def test_read_parquet_is_a_reader_too(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    frame(pandas).to_parquet(path)
    text = to_json(litsdf.read_parquet(path, columns=["a", "n"])._plan)
    with pytest.raises(UntrustedPlanError, match=r"\(ReadParquet\), field 'path'"):
        from_json(text)
    plan = from_json(text, allow_paths=[path])
    got, _ = engine.execute(plan, "pandas")
    assert_same(as_frame(got), pandas.read_parquet(path, columns=["a", "n"]))


# other doors -----------------------------------------------------------------------------------


def test_pickled_functions_still_need_allow_pickle() -> None:
    text = to_json(frame(litsdf)["n"].map(lambda v: v + 1)._plan)
    with pytest.raises(PlanFormatError, match="allow_pickle=True"):
        from_json(text, allow_io=True)
    assert from_json(text, allow_pickle=True) is not None


def test_pipeline_from_json_validates_and_passes_the_opt_ins(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    pipe = litsdf.compile(lambda df: df[["a", "n"]].fillna(0), example=frame(pandas))
    doc = json.loads(pipe.to_json())
    i, fields = _find(doc["plan"], "FrameElementwise")
    fields["method"] = "eval"
    fields["kwargs"] = _pairs(expr=_payload(marker), engine="python")
    with pytest.raises(UntrustedPlanError, match=rf"node {i} \(FrameElementwise\)"):
        litsdf.Pipeline.from_json(json.dumps(doc))
    assert not marker.exists()

    path = tmp_path / "more.csv"
    frame(pandas)[["a", "n"]].to_csv(path, index=False)
    reading = litsdf.compile(
        lambda df: litsdf.concat([df[["a", "n"]], litsdf.read_csv(path)], ignore_index=True),
        example=frame(pandas),
    )
    text = reading.to_json()
    with pytest.raises(UntrustedPlanError, match=r"\(ReadCsv\)"):
        litsdf.Pipeline.from_json(text)
    for again in (
        litsdf.Pipeline.from_json(text, allow_paths=[path]),
        litsdf.Pipeline.from_json(text, allow_io=True),
    ):
        expected = pandas.concat(
            [frame(pandas)[["a", "n"]], pandas.read_csv(path)], ignore_index=True
        )
        assert_same(again(frame(pandas)), expected)


def test_preprocessor_from_json_refuses_a_crafted_plan(tmp_path: Path) -> None:
    """The bundle path: ``litmus.load`` reads ``preprocess.json`` with this."""
    marker = tmp_path / "pwned"
    pre = Preprocessor.fit(frame(pandas).assign(y=[0, 1, 0, 1, 0, 1]), {"a": "numeric"})
    doc = json.loads(pre.to_json())
    plan = doc["pipeline"]["plan"]
    source, _ = _find(plan, "Source")
    plan["nodes"].append(
        {
            "op": "FrameReduce",
            "fields": {
                "input": {"$node": source},
                "func": "eval",
                "kwargs": _pairs(expr=_payload(marker), engine="python"),
            },
        }
    )
    plan["root"] = len(plan["nodes"]) - 1
    with pytest.raises(PreprocessFormatError, match=rf"node {plan['root']} \(FrameReduce\)"):
        Preprocessor.from_json(json.dumps(doc))
    assert not marker.exists()
    assert Preprocessor.from_json(pre.to_json()).feature_names == pre.feature_names


def test_kernels_refuse_names_outside_the_allow_lists_for_in_process_plans(
    tmp_path: Path,
) -> None:
    """Defence in depth: a plan built in-process (not from JSON) can't dispatch ``eval``."""
    marker = tmp_path / "pwned"
    source = frame(litsdf)[["a", "n"]]._plan
    kwargs = (("expr", _payload(marker)), ("engine", "python"))
    for plan in (
        rel.FrameElementwise(source, "eval", kwargs),
        rel.FrameReduce(source, "eval", kwargs),
    ):
        with pytest.raises(UntrustedPlanError, match="'eval' is not allowed"):
            meta_of(plan)
        with pytest.raises(UntrustedPlanError, match="'eval' is not allowed"):
            engine.execute(plan, "pandas", optimize=False)
    s = frame(litsdf)["a"]
    with pytest.raises(UntrustedPlanError, match="'savetxt'"):
        engine.execute(
            rel.ScalarResult(s._rel, Reduce("sum", Ufunc("savetxt", (s._expr,)))), "pandas"
        )
    with pytest.raises(UntrustedPlanError, match="'to_csv'"):
        engine.execute(rel.Aggregate(source, ("a",), (), "agg", ("to_csv",)), "pandas")
    assert not marker.exists()


# the policy table ------------------------------------------------------------------------------


def test_every_node_kind_declares_a_policy_for_exactly_its_fields() -> None:
    assert len(NODE_TYPES) >= 60
    for name, cls in NODE_TYPES.items():
        assert cls in trust.POLICIES, f"{name} has no trust policy"
        fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        assert set(trust.POLICIES[cls]) == fields, name


def test_method_tables_cover_the_front_end_sets() -> None:
    assert set(trust.FRAME_ELEMENTWISE_KWARGS) == set(rel.FRAME_ELEMENTWISE)
    assert set(trust.SERIES_METHOD_KWARGS) == set(rel.SERIES_METHODS)
    assert set(REDUCTIONS) | {"value_counts"} <= set(trust._REDUCE_KWARGS_BY_FUNC)


def _parameters(func: Any) -> set[str]:
    return set(inspect.signature(func).parameters) - {"self"}


@pytest.mark.parametrize(
    ("owner", "table"),
    [
        (pandas.DataFrame, trust.FRAME_ELEMENTWISE_KWARGS),
        (pandas.Series, trust.SERIES_METHOD_KWARGS),
    ],
)
def test_allowed_keywords_are_real_pandas_parameters(owner: Any, table: Any) -> None:
    """The allow-lists name what pandas takes (none is invented), and none is an engine,
    a callable or a file argument."""
    for method, names in table.items():
        assert names <= _parameters(getattr(owner, method)), method
        assert not names & {"engine", "engine_kwargs", "key", "func", "path", "buf"}, method
    gb = pandas.core.groupby.DataFrameGroupBy
    every = set().union(*(_parameters(getattr(gb, m)) for m in trust.GROUP_METHODS))
    assert every >= trust.GROUP_KWARGS and "engine" in every - trust.GROUP_KWARGS
    for f in trust.AGG_FUNCS:
        assert callable(getattr(gb, f)), f


# the allow-lists accept what the front end builds ------------------------------------------------


def _reduce(func: str, **kwargs: Any) -> Callable[[Any], Any]:
    def build(pd: Any) -> Any:
        s = frame(pd)["a" if func not in ("any", "all") else "b"]
        return rel.ScalarResult(s._rel, Reduce(func, s._expr, tuple(kwargs.items())))

    return build


def _inplace(pd: Any) -> Any:
    s = frame(pd)["a"]
    s.fillna(0.0, inplace=True)
    s.clip(-1.0, 5.0, inplace=True)
    return s


def _frame_inplace(pd: Any) -> Any:
    d = frame(pd)[["a", "n"]]
    d.fillna(0.0, inplace=True)
    d.replace(0.0, 0.5, inplace=True)
    return d


FRONT_END: dict[str, Callable[[Any], Any]] = {
    "strings": lambda pd: (
        lambda d: d.assign(
            lo=d["s"].str.lower(),
            ti=d["s"].str.title(),
            st=d["s"].str.strip(),
            ls=d["s"].str.lstrip(" "),
            rs=d["s"].str.rstrip(),
            n=d["s"].str.len(),
            c=d["s"].str.contains("b", case=False, regex=False),
            sw=d["s"].str.startswith(("A", " ")),
            ew=d["s"].str.endswith("1"),
            rp=d["s"].str.replace("-", "_", regex=False),
            sl=d["s"].str.slice(0, 2),
            sp=d["s"].str.split("-").str.get(0),
            cat=d["s"].str.cat(d["k"], sep="|", na_rep="?"),
            z=d["s"].str.zfill(5),
            pad=d["s"].str.pad(6, side="both", fillchar="*"),
            f=d["s"].str.find("b"),
            cnt=d["s"].str.count("[a-z]"),
            dig=d["s"].str.isdigit(),
            m=d["s"].str.match(r"\s*[A-Z]"),
            pre=d["s"].str.removeprefix(" "),
            rep=d["s"].str.slice_replace(0, 1, "#"),
            nf=d["s"].str.normalize("NFKC"),
        )
    )(frame(pd)),
    "datetimes": lambda pd: (
        lambda d: d.assign(
            y=d["t"].dt.year,
            dow=d["t"].dt.day_of_week,
            q=d["t"].dt.quarter,
            ms=d["t"].dt.is_month_start,
            nz=d["t"].dt.normalize(),
            fl=d["t"].dt.floor("h"),
            fmt=d["t"].dt.strftime("%Y-%m"),
            dn=d["t"].dt.day_name(),
            tz=d["t"].dt.tz_localize("UTC").dt.tz_convert("Europe/Paris"),
            un=d["t"].dt.as_unit("s"),
            days=(d["t"] - pd.Timestamp("2024-01-01")).dt.days,
            secs=(d["t"] - pd.Timestamp("2024-01-01")).dt.total_seconds(),
        )
    )(frame(pd)),
    "groupby_methods": lambda pd: pd.concat(
        [
            getattr(frame(pd)[["k", "a", "n"]].groupby("k"), m)()
            for m in ("sum", "mean", "count", "min", "max", "std", "var", "median", "nunique")
            + ("first", "last", "prod", "sem")
        ],
        axis=1,
    ),
    "groupby_kwargs": lambda pd: (
        frame(pd)[["k", "a", "n"]].groupby("k", dropna=False).sum(numeric_only=True, min_count=1)
    ),
    "groupby_std_ddof": lambda pd: frame(pd)[["k", "a"]].groupby(["k"]).std(ddof=0),
    "groupby_any_all_size": lambda pd: pd.concat(
        [
            frame(pd)[["k", "b"]].groupby("k").any(),
            frame(pd)[["k", "b"]].groupby("k").all(),
        ],
        axis=1,
    ),
    "groupby_size": lambda pd: frame(pd).groupby(["k", "b"], sort=False).size(),
    "groupby_named": lambda pd: (
        frame(pd)
        .groupby("k", as_index=False)
        .agg(tot=("a", "sum"), hi=("n", "idxmax"), sk=("a", "skew"), q=("a", "quantile"))
    ),
    "groupby_dict": lambda pd: frame(pd).groupby("k").agg({"a": ["sum", "max"], "n": "mean"}),
    "groupby_funcs": lambda pd: frame(pd)[["k", "a"]].groupby("k").agg(["min", "max", "kurt"]),
    "groupby_series": lambda pd: frame(pd).groupby("k")["a"].agg(lo="min", hi="max"),
    "groupby_selection": lambda pd: frame(pd).groupby("k")[["a", "n"]].mean(),
    "merge": lambda pd: pd.merge(
        frame(pd)[["k", "a"]],
        frame(pd)[["k", "n"]].drop_duplicates("k"),
        on="k",
        how="outer",
        suffixes=("_l", "_r"),
        indicator=True,
    ),
    "merge_on_sides": lambda pd: frame(pd)[["k", "a"]].merge(
        frame(pd)[["k", "n"]].rename(columns={"k": "kk"}), left_on="k", right_on="kk"
    ),
    "join": lambda pd: frame(pd)[["a"]].join(frame(pd)[["n"]], how="inner"),
    "concat": lambda pd: pd.concat([frame(pd)[["a"]], frame(pd)[["n"]]], axis=1),
    "frame_reductions": lambda pd: pd.concat(
        [
            frame(pd)[["a", "n"]].sum(),
            frame(pd)[["a", "n"]].mean(numeric_only=True),
            frame(pd)[["a", "n"]].std(ddof=0),
            frame(pd)[["a", "n"]].nunique(),
        ]
    ),
    "frame_any": lambda pd: frame(pd)[["b"]].any(),
    "frame_value_counts": lambda pd: frame(pd)[["k", "b"]].value_counts(normalize=True),
    "frame_elementwise": lambda pd: (
        frame(pd)[["a", "n"]].fillna(0).clip(-1, 5).round(1).abs().astype({"a": "float32"})
    ),
    "frame_isna": lambda pd: frame(pd).isna().join(frame(pd).notna(), suffixes=("", "_n")),
    "frame_replace": lambda pd: frame(pd)[["k", "s"]].replace({"x": "X"}).replace("y", "Y"),
    "frame_inplace": _frame_inplace,
    "series_where_mask": lambda pd: (
        lambda d: d.assign(
            w=d["a"].where(d["b"], -1.0),
            m=d["a"].mask(d["a"] > 2),
            c=d["a"].clip(0, 3),
            f=d["a"].fillna(d["n"]),
            r=d["a"].round(1),
            i=d["k"].isin(["x"]),
            bt=d["n"].between(2, 6, inclusive="left"),
            mp=d["k"].map({"x": 1, "y": 2}),
        )
    )(frame(pd)),
    "series_inplace": _inplace,
    "replace_forms": lambda pd: (
        lambda d: d.assign(
            a=d["a"].replace(0.0, 9.0),
            k=d["k"].replace({"x": "z"}),
            s=d["s"].replace(["cD", "12"], "?").replace(r"^\s+", "", regex=True),
        )
    )(frame(pd)),
    "astype": lambda pd: (
        lambda d: d.assign(
            c=d["k"].astype("category"),
            i=d["n"].astype("Int64"),
            f=d["n"].astype(np.float32),
            s=d["n"].astype(str),
        )
    )(frame(pd)),
    "value_counts": lambda pd: frame(pd)["k"].value_counts(dropna=False, ascending=True),
    "value_counts_bins": lambda pd: frame(pd)["n"].value_counts(bins=3, sort=False),
    "describe": lambda pd: frame(pd)[["a", "n"]].describe(percentiles=[0.1, 0.9]),
    "describe_all": lambda pd: frame(pd)[["a", "k"]].describe(include="all"),
    "series_describe": lambda pd: frame(pd)["a"].describe(),
    "series_methods": lambda pd: (
        frame(pd)["a"]
        .sort_values(ascending=False, na_position="first")
        .sort_index()
        .drop_duplicates(keep="last")
        .dropna()
        .nlargest(3)
    ),
    "series_reset": lambda pd: frame(pd)["a"].nsmallest(2).reset_index(name="v"),
    "series_to_frame": lambda pd: frame(pd)["a"].to_frame("x"),
    "ufuncs": lambda pd: (
        lambda d: d.assign(
            r=np.sqrt(d["n"]), l=np.log1p(d["n"]), h=np.hypot(d["a"], d["n"]), e=np.exp(d["a"])
        )
    )(frame(pd)),
    "operators": lambda pd: (
        lambda d: d.assign(
            x=(d["a"] + d["n"]) * 2 - d["n"] / 3 + d["n"] // 2 + d["n"] % 3 + d["n"] ** 2,
            y=(d["a"] > 1) & ~d["b"] | (d["n"] == 2) ^ (d["n"] != 3),
            z=-d["a"] + abs(d["a"]),
        )
    )(frame(pd)),
    "relational": lambda pd: (
        frame(pd)
        .query("n > 1 and b")
        .drop(columns=["s"])
        .rename(columns={"a": "A"})
        .sort_values(["k", "n"], ascending=[True, False])
        .set_index("k")
        .reset_index()
        .dropna(subset=["A"])
        .drop_duplicates(subset=["k"])
        .head(4)
        .tail(3)
        .iloc[0:2]
    ),
    "nlargest_frame": lambda pd: frame(pd).nlargest(3, ["n", "a"], keep="all"),
    "sort_index": lambda pd: frame(pd).sort_index(ascending=False),
}
REDUCE_CASES = {
    **{f"reduce_{f}": _reduce(f) for f in sorted(REDUCTIONS - {"size", "quantile"})},
    "reduce_sum_kwargs": _reduce("sum", skipna=False, min_count=1),
    "reduce_std_ddof": _reduce("std", ddof=0),
    "reduce_quantile": _reduce("quantile", q=0.25, interpolation="nearest"),
}


@pytest.mark.parametrize("key", sorted(FRONT_END))
def test_front_end_plans_pass_the_validator(key: str) -> None:
    with litsdf.option_context(fallback="raise"):
        obj = FRONT_END[key](litsdf)
    plan = obj._plan
    again = from_json(to_json(plan))
    assert again == plan
    got, _ = engine.execute(again, "pandas")
    expected = FRONT_END[key](pandas)
    actual = obj.to_pandas() if hasattr(obj, "to_pandas") else got
    assert_same(as_frame(got), as_frame(engine.execute(plan, "pandas")[0]))
    assert_same(actual, expected)


@pytest.mark.parametrize("key", sorted(REDUCE_CASES))
def test_traced_reductions_pass_the_validator(key: str) -> None:
    plan = REDUCE_CASES[key](litsdf)
    again = from_json(to_json(plan))
    assert again == plan
    got, _ = engine.execute(again, "pandas")
    expected, _ = engine.execute(REDUCE_CASES[key](litsdf), "pandas")
    assert_same(got, expected)


def test_a_crafted_bundle_does_not_run_commands_in_litmus_load(tmp_path: Path) -> None:
    """The issue's attack end to end: ``preprocess.json`` of a bundle edited to hold an
    ``eval`` node, its sha256 entries recomputed (as an attacker can), loaded with
    ``allow_pickle=False``."""
    xgboost = pytest.importorskip("xgboost")
    from litmus_automl import bundle

    marker = tmp_path / "pwned"
    data = frame(pandas).assign(y=[0, 1, 0, 1, 0, 1])
    pre = Preprocessor.fit(data, {"a": "numeric", "n": "numeric"})
    model = xgboost.XGBClassifier(n_estimators=2, max_depth=2).fit(pre.transform(data), data["y"])
    root = bundle.export(
        tmp_path / "bundle",
        pre,
        model,
        "xgboost",
        kind="classification",
        classes=[0, 1],
        threshold=None,
        metrics={},
        label="y",
    )
    assert bundle.load(root).predict(data.iloc[0].to_dict()) in (0, 1)  # a sound bundle loads
    manifest = json.loads((root / "manifest.json").read_text())
    (name,) = [f for f in manifest["hashes"] if f.endswith("preprocess.json")]
    doc = json.loads((root / name).read_text())
    plan = doc["pipeline"]["plan"]
    source, _ = _find(plan, "Source")
    plan["nodes"].append(
        {
            "op": "FrameElementwise",
            "fields": {
                "input": {"$node": source},
                "method": "eval",
                "kwargs": _pairs(expr=_payload(marker), engine="python"),
            },
        }
    )
    plan["root"] = len(plan["nodes"]) - 1
    (root / name).write_text(json.dumps(doc))
    manifest["hashes"][name] = hashlib.sha256((root / name).read_bytes()).hexdigest()
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    manifest["manifest_sha256"] = hashlib.sha256(
        json.dumps(body, sort_keys=True).encode()
    ).hexdigest()
    (root / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=r"\(FrameElementwise\), field 'method'.*'eval'"):
        bundle.load(root)
    assert not marker.exists()
