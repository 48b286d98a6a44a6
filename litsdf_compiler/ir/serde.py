"""Versioned JSON form of plans: a table of nodes (shared sub-plans stored once) and a root.

In-memory data (``Source``) is embedded as base64 Parquet, so a plan round-trips whole.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import math
import os
import sys
from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import no_default

from .base import NODE_TYPES, FrozenDict, FrozenList, Node
from .relations import DataRef, Measure
from .schema import dtype_from_json, dtype_to_json
from .trust import PlanFormatError, Trust, UntrustedPlanError, check_dtype_text, check_node
from .udf import PyFunc

__all__ = [
    "FORMAT",
    "VERSION",
    "to_json",
    "from_json",
    "read_document",
    "PlanFormatError",
    "UntrustedPlanError",
]

FORMAT = "litsdf-plan"
VERSION = 2
"""2: ``Aggregate`` holds explicit keys and measures (version 1 held pandas' call forms)."""

_OLD_VERSIONS = {
    1: "version 1 plans store groupby aggregations in a form this litsdf no longer reads; "
    "trace the program again and save its plan with this version"
}


def _is_dtype(value: Any) -> bool:
    return isinstance(value, (np.dtype, pd.api.extensions.ExtensionDtype))


class _Writer:
    def __init__(self) -> None:
        self.nodes: list[dict[str, Any]] = []
        self.ids: dict[int, int] = {}
        self.keep: list[Node] = []

    def node(self, n: Node) -> int:
        key = id(n)
        if key in self.ids:
            return self.ids[key]
        fields = {f: self.value(getattr(n, f)) for f in n.__match_args__}
        self.ids[key] = len(self.nodes)
        self.keep.append(n)
        self.nodes.append({"op": type(n).__name__, "fields": fields})
        return self.ids[key]

    def value(self, v: Any) -> Any:
        if isinstance(v, Node):
            return {"$node": self.node(v)}
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, FrozenList):
            return {"$list": [self.value(x) for x in v]}
        if isinstance(v, FrozenDict):
            return {"$dict": [[self.value(k), self.value(x)] for k, x in v]}
        if isinstance(v, Measure):
            return {"$measure": [self.value(x) for x in v]}
        if isinstance(v, tuple):
            return {"$tuple": [self.value(x) for x in v]}
        if v is no_default:
            return {"$no_default": True}
        if v is pd.NA:
            return {"$na": True}
        if v is pd.NaT:
            return {"$nat": True}
        if isinstance(v, np.generic):
            return {"$np": str(v.dtype), "value": self.value(v.item())}
        if isinstance(v, int):
            return v
        if isinstance(v, float):
            return v if math.isfinite(v) else {"$float": repr(v)}
        if isinstance(v, pd.Timestamp):
            return {"$timestamp": v.isoformat(), "unit": v.unit}
        if isinstance(v, pd.Timedelta):
            return {"$timedelta": int(v.value), "unit": v.unit}
        if _is_dtype(v):
            return {"$dtype": dtype_to_json(v)}
        if isinstance(v, PyFunc):
            return _pickle_function(v)
        if isinstance(v, DataRef):
            buf = io.BytesIO()
            try:
                v.data.to_parquet(buf)
            except Exception as err:  # pyarrow cannot store every frame
                raise TypeError(f"cannot serialize in-memory data of this plan: {err}") from err
            return {"$data": base64.b64encode(buf.getvalue()).decode(), "token": v.token}
        raise TypeError(f"cannot serialize a value of type {type(v).__name__} in a plan: {v!r}")


_NODE_FIELD_TYPES = {"Expr", "Relation", "Node"}


def _check_fields(cls: type[Node], fields: dict[str, Any], i: int) -> None:
    """Fields annotated as a single node must hold a node of that kind."""
    from .expressions import Expr
    from .relations import Relation

    kinds = {"Expr": Expr, "Relation": Relation, "Node": Node}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        ann = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
        if ann in kinds and f.name in fields and not isinstance(fields[f.name], kinds[ann]):
            raise PlanFormatError(
                f"bad fields for {cls.__name__} (node {i}): {f.name!r} must be a {ann} node, "
                f"got {fields[f.name]!r}"
            )


def _pickle_function(f: PyFunc) -> dict[str, Any]:
    try:
        import cloudpickle
    except ImportError as err:  # pragma: no cover - cloudpickle ships with dask
        raise TypeError(
            f"storing the Python function {f.name} in a plan needs cloudpickle "
            "(pip install cloudpickle)"
        ) from err
    return {
        "$pyfunc": base64.b64encode(cloudpickle.dumps(f)).decode(),
        "name": f.name,
        "python": "{}.{}".format(*sys.version_info[:2]),
    }


class _Reader:
    def __init__(
        self, nodes: list[dict[str, Any]], allow_pickle: bool = False, trust: Trust | None = None
    ) -> None:
        self.allow_pickle = allow_pickle
        self.trust = trust if trust is not None else Trust()
        self.raw = nodes
        self.built: dict[int, Node] = {}
        self.building: set[int] = set()

    def node(self, i: Any) -> Node:
        if i not in self.built:
            if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(self.raw):
                raise PlanFormatError(
                    f"reference to node {i!r}, but the plan has {len(self.raw)} nodes"
                )
            if i in self.building:
                raise PlanFormatError(f"node {i} refers to itself (a cycle): plans are trees")
            spec = self.raw[i]
            if (
                not isinstance(spec, dict)
                or "op" not in spec
                or not isinstance(spec.get("fields", {}), dict)
            ):
                raise PlanFormatError(f"node {i} must be an object with 'op' and 'fields'")
            cls = NODE_TYPES.get(spec["op"])
            if cls is None:
                raise PlanFormatError(f"unknown plan node {spec['op']!r} (node {i})")
            self.building.add(i)
            fields = {k: self.value(v) for k, v in spec.get("fields", {}).items()}
            self.building.discard(i)
            _check_fields(cls, fields, i)
            check_node(cls, fields, i, self.trust)  # before building: building may run pandas
            try:
                self.built[i] = cls(**fields)
            except TypeError as err:
                raise PlanFormatError(f"bad fields for {spec['op']} (node {i}): {err}") from err
        return self.built[i]

    def value(self, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        if "$node" in v:
            return self.node(v["$node"])
        if "$list" in v:
            return FrozenList(self.value(x) for x in v["$list"])
        if "$dict" in v:
            return FrozenDict((self.value(k), self.value(x)) for k, x in v["$dict"])
        if "$tuple" in v:
            return tuple(self.value(x) for x in v["$tuple"])
        if "$measure" in v:
            items = v["$measure"]
            if not isinstance(items, list) or len(items) != len(Measure._fields):
                raise PlanFormatError(
                    f"a measure must be a list of {len(Measure._fields)} values "
                    f"({', '.join(Measure._fields)}), got {items!r}"
                )
            return Measure(*(self.value(x) for x in items))
        if "$no_default" in v:
            return no_default
        if "$na" in v:
            return pd.NA
        if "$nat" in v:
            return pd.NaT
        if "$np" in v:
            return np.dtype(v["$np"]).type(self.value(v["value"]))
        if "$float" in v:
            return float(v["$float"])
        if "$timestamp" in v:
            return pd.Timestamp(v["$timestamp"]).as_unit(v["unit"])
        if "$timedelta" in v:
            return pd.Timedelta(v["$timedelta"], unit="ns").as_unit(v["unit"])
        if "$dtype" in v:
            problem = check_dtype_text(v["$dtype"]) if isinstance(v["$dtype"], str) else None
            if problem is not None:
                raise UntrustedPlanError(f"refused dtype in the plan: {problem}")
            return dtype_from_json(v["$dtype"])
        if "$pyfunc" in v:
            return self.function(v)
        if "$data" in v:
            data = pd.read_parquet(io.BytesIO(base64.b64decode(v["$data"])))
            return DataRef(data, v["token"])
        raise PlanFormatError(f"unknown tagged value {sorted(v)}")

    def function(self, v: dict[str, Any]) -> PyFunc:
        name, python = v.get("name", "?"), v.get("python", "?")
        if not self.allow_pickle:
            raise PlanFormatError(
                f"the plan holds a pickled Python function ({name}); unpickling runs code, so "
                "load it only from a source you trust, with allow_pickle=True"
            )
        here = "{}.{}".format(*sys.version_info[:2])
        if python != here:
            raise PlanFormatError(
                f"the Python function {name} was pickled by Python {python}; this is {here}"
            )
        import pickle

        try:
            f = pickle.loads(base64.b64decode(v["$pyfunc"]))
        except Exception as err:
            raise PlanFormatError(f"cannot unpickle the Python function {name}: {err}") from err
        if not isinstance(f, PyFunc):
            raise PlanFormatError(f"the pickled value for {name} is not a plan function")
        return f


def to_json(plan: Node, indent: int | None = None) -> str:
    """The plan as versioned JSON text.

    Examples
    --------
    >>> from litsdf_compiler.ir import Col, Lit, BinaryOp
    >>> e = BinaryOp("add", Col("a"), Lit(1))
    >>> from_json(to_json(e)) == e
    True
    """
    w = _Writer()
    root = w.node(plan)
    doc = {"format": FORMAT, "version": VERSION, "nodes": w.nodes, "root": root}
    return json.dumps(doc, indent=indent)


def read_document(
    text: str, fmt: str, version: int, what: str, error: type[ValueError] = PlanFormatError
) -> dict[str, Any]:
    """Parse ``text`` as a JSON object declaring ``"format": fmt`` and ``"version": version``.

    Raises
    ------
    ValueError
        ``error`` (default :class:`PlanFormatError`) naming ``what`` when the text is not
        JSON, not an object of that format, or another version.
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise error(f"{what}: not JSON ({err})") from err
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        raise error(f"not a {what} (missing format {fmt!r})")
    if doc.get("version") != version:
        raise error(
            f"{what} format version {doc.get('version')!r} is not supported (expected {version})"
        )
    return doc


def _older_version(text: str, err: PlanFormatError) -> None:
    """Raise a clearer :class:`PlanFormatError` than ``err`` when ``text`` is a plan of an
    older format version (what changed, what to do)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return
    version = doc.get("version") if isinstance(doc, dict) else None
    if isinstance(doc, dict) and doc.get("format") == FORMAT and version in _OLD_VERSIONS:
        raise PlanFormatError(
            f"litsdf plan format version {version} is not supported (expected {VERSION}): "
            f"{_OLD_VERSIONS[version]}"
        ) from err


def from_json(
    text: str,
    allow_pickle: bool = False,
    allow_io: bool = False,
    allow_paths: Collection[str | os.PathLike[str]] = (),
) -> Node:
    """Rebuild a plan written by :func:`to_json`.

    The plan is data only: every node is checked against its policy in
    :mod:`~litsdf_compiler.ir.trust` before it is built (methods and functions from
    allow-lists, arguments that are data, no file read unless allowed).

    Parameters
    ----------
    text : str
        The JSON text.
    allow_pickle : bool
        Load the Python functions (``map(func)``, ``apply``) the plan stores pickled;
        unpickling runs code, so trust the source first.
    allow_io : bool
        Let the plan's readers (``read_csv``, ``read_parquet``) read any path or URL.
    allow_paths : collection of str or os.PathLike
        Without ``allow_io``, the local files the plan's readers may read (compared as
        resolved real paths).

    Returns
    -------
    Node
        The plan's root.

    Raises
    ------
    PlanFormatError
        The text is not a plan this version can read.
    UntrustedPlanError
        (a ``PlanFormatError``) A node holds a method, function, argument or file read
        that is not allowed; the message names the node index, its kind and the field.
    """
    trust = Trust.of(allow_io, allow_paths)
    try:
        doc = read_document(text, FORMAT, VERSION, "litsdf plan")
    except PlanFormatError as err:
        _older_version(text, err)
        raise
    if not isinstance(doc.get("nodes"), list) or "root" not in doc:
        raise PlanFormatError("a litsdf plan needs a 'nodes' list and a 'root' node index")
    return _Reader(doc["nodes"], allow_pickle, trust).node(doc["root"])
