"""A plan's fingerprint: a structural hash that is the same in every process.

The adaptive selector keys what it learns by the *shape* of the work: two runs of one program
on different data of the same schema are one key, so a bandit learns across processes and
across the data a script reads each day. The node hash of :mod:`litsdf_compiler.ir.base` can't
serve: Python salts ``hash()`` of strings per process, and a ``Source`` hashes its data's
token, a read its file's path and version. Here every node is written as canonical text
(shared sub-plans once, as in :mod:`litsdf_compiler.ir.serde`'s node table) with the data
identity abstracted:

* a ``Source`` (and any in-memory data, :class:`~litsdf_compiler.ir.relations.DataRef`) by
  its schema only: column labels and dtypes, the index's kind, dtype and names;
* a file read by its options and the schema it reads (``meta_of``), not its path or version;
* a literal by its type (a sequence's: element types and length), not its value: a script
  run every day with another date or threshold does the same work;
* fields that hold no work (``_non_child`` data such as a ``Source``'s lineage, and a
  ``Source``'s ``origin``) are left out; a Python function by its qualified name.

The text's SHA-256 (hex, 24 digits) is the fingerprint.
"""

from __future__ import annotations

import hashlib
import math
import weakref
from typing import Any

import numpy as np
import pandas as pd

from ..ir.base import FrozenDict, FrozenList, Node
from ..ir.expressions import Lit
from ..ir.relations import DataRef, ReadCsv, ReadParquet, Source
from ..ir.udf import PyFunc

__all__ = ["fingerprint", "data_schema"]

_MEMO: dict[int, tuple[weakref.ref[Node], str]] = {}
"""Fingerprints by node identity (the engine asks once per selection and once per explain)."""


def data_schema(data: Any) -> str:
    """The schema of an in-memory pandas object as canonical text (no values).

    Examples
    --------
    >>> import pandas as pd
    >>> data_schema(pd.DataFrame({"a": [1]}))
    "frame[('str', 'a'):int64]index=RangeIndex:int64:names=(None,)"
    """
    if isinstance(data, pd.DataFrame):
        cols = ",".join(f"{_scalar(c)}:{d}" for c, d in zip(data.columns, data.dtypes, strict=True))
        head = f"frame[{cols}]"
    elif isinstance(data, pd.Series):
        head = f"series[{_scalar(data.name)}:{data.dtype}]"
    else:
        return f"value:{type(data).__qualname__}"
    index = data.index
    names = tuple(_scalar(n) for n in index.names)
    return f"{head}index={type(index).__name__}:{index.dtype}:names=({','.join(names)},)"


def _scalar(v: Any) -> str:
    if isinstance(v, float):
        return f"('float', {v.hex() if math.isfinite(v) else repr(v)!r})"
    if isinstance(v, np.generic):
        return f"('{v.dtype}', {_scalar(v.item())})"
    return repr((type(v).__name__, v)) if isinstance(v, (str, int, bool)) else repr(v)


class _Writer:
    """Canonical text of a plan as a node table (each node once, children by number)."""

    def __init__(self) -> None:
        self.rows: list[str] = []
        self.ids: dict[int, int] = {}
        self.keep: list[Node] = []  # (ids stay unique while the walk runs)

    def node(self, n: Node) -> int:
        key = id(n)
        if key in self.ids:
            return self.ids[key]
        kind = type(n).__name__
        if isinstance(n, Source):
            text = f"Source({data_schema(n.data.data)})"
        elif isinstance(n, Lit):
            text = f"Lit({_literal_kind(n.value)})"
        elif isinstance(n, (ReadCsv, ReadParquet)):
            columns = f"columns={self.value(n.columns)};" if isinstance(n, ReadParquet) else ""
            narrow = f"narrow={n.narrow};" if isinstance(n, ReadCsv) else ""
            text = f"{kind}({columns}{narrow}options={self.value(n.options)};{_read_schema(n)})"
        else:
            skip = set(n._non_child)
            fields = ";".join(
                f"{f}={self.value(getattr(n, f))}" for f in n.__match_args__ if f not in skip
            )
            text = f"{kind}({fields})"
        self.ids[key] = len(self.rows)
        self.keep.append(n)
        self.rows.append(text)
        return self.ids[key]

    def value(self, v: Any) -> str:
        if isinstance(v, Node):
            return f"#{self.node(v)}"
        if isinstance(v, FrozenList):
            return "list[" + ",".join(self.value(x) for x in v) + "]"
        if isinstance(v, FrozenDict):
            return "dict[" + ",".join(f"{self.value(k)}:{self.value(x)}" for k, x in v) + "]"
        if isinstance(v, tuple):
            return f"{type(v).__name__}(" + ",".join(self.value(x) for x in v) + ")"
        if isinstance(v, DataRef):
            return f"data({data_schema(v.data)})"
        if isinstance(v, PyFunc):
            return f"pyfunc({v.name})"
        if isinstance(v, (np.dtype, pd.api.extensions.ExtensionDtype)):
            return f"dtype({v})"
        if v is None or isinstance(v, (str, int, bool, float, np.generic)):
            return _scalar(v)
        return f"{type(v).__qualname__}({v!r})"


def _literal_kind(v: Any) -> str:
    """A literal's type (a sequence's: its element types and length), not its value."""
    if isinstance(v, tuple):
        kinds = ",".join(sorted({type(x).__qualname__ for x in v}))
        return f"{type(v).__name__}[{kinds}]*{len(v)}"
    if isinstance(v, np.generic):
        return f"numpy.{v.dtype}"
    return type(v).__qualname__


def _read_schema(n: ReadCsv | ReadParquet) -> str:
    """The schema a file read produces (pandas on the file's head / parquet metadata)."""
    from ..meta import meta_of

    try:
        return "schema=" + data_schema(meta_of(n))
    except Exception as err:  # (a file that is gone: the run itself reports it)
        return f"schema=unknown({type(err).__name__})"


def fingerprint(plan: Node) -> str:
    """The structural hash of ``plan`` with its data identity abstracted (see the module).

    Parameters
    ----------
    plan : Node
        A logical plan (usually the optimized one).

    Returns
    -------
    str
        24 hexadecimal digits, equal in every process for plans of one shape and schema.
    """
    entry = _MEMO.get(id(plan))
    if entry is not None and entry[0]() is plan:
        return entry[1]
    writer = _Writer()
    root = writer.node(plan)
    text = "\n".join(writer.rows) + f"\nroot #{root}"
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    key = id(plan)
    _MEMO[key] = (weakref.ref(plan, lambda _: _MEMO.pop(key, None)), digest)
    return digest
