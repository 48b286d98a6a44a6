"""Row code for Python UDFs: ``Series.map(func)`` / ``Series.apply(func)`` per element and
``DataFrame.apply(func, axis=1)`` per row, each an inline call of the function.

``df.apply(func, axis=1)`` gives ``func`` each row as a Series whose dtype is the frame's
columns interleaved to one common dtype (``find_common_type``, as ``DataFrame.values``):

==================  ================================  =========================================
columns             row dtype                         ``row[k]`` (iteration gives)
==================  ================================  =========================================
all int64           int64                             ``np.int64`` (``int``)
int64 and float64   float64 (ints become floats)      ``np.float64`` (``float``)
all bool            bool                              ``np.bool_`` (``bool``)
all str             str (pandas' extension row)       ``str`` or ``nan``
all datetime64      datetime64[the finest unit]       ``Timestamp`` / ``NaT`` in that unit
any other mix       object                            the stored values: ``int``, ``float``,
                                                      ``bool``, ``str`` / ``nan``, ``Timestamp``
==================  ================================  =========================================

The generated code builds a light row object (``_runtime._Row``) holding those values, named by
the row's index label (``0`` in ``transform_row``: the one-row frame pandas is compared with);
every use it does not answer itself goes to the real pandas Series of the row. The results are
inferred to a column as pandas does (the same inference as ``Series.map``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pandas.core.dtypes.cast import find_common_type

from .values import BOOL, F64, I64, STR, Decline, Val

__all__ = ["UdfGen"]

_WHAT = "df.apply(func, axis=1)"


class UdfGen:
    """``gen_MapFunc`` / ``gen_RowApply``; mixed into the plan generator with ``ExprGen``."""

    frame_mode: bool
    stage: int
    row_names: set[str]
    """Row-name parameters the frame function takes: ``IX`` (the index labels as iterating
    the index gives them) and ``IXE`` (as ``index[i]`` gives them: pandas' extension rows)."""

    def static(self, e: Any, what: str) -> Val:
        raise NotImplementedError

    def tmp(self, code: str) -> str:
        raise NotImplementedError

    def const(self, obj: Any) -> str:
        raise NotImplementedError

    def as_float(self, v: Val) -> str:
        raise NotImplementedError

    def gen_MapFunc(self, e: Any) -> Val:
        v = self.static(e.input, f".{e.method}(func)")
        if v.kind not in ("i", "f", "b", "s", "M") or v.is_lit:
            raise Decline(f"rows: .{e.method}(func) of {v.dtype}")
        fn = self.const(e.func.bound())
        arg = f"(NAN if {v.code} is None else {v.code})" if v.kind == "s" else v.code
        missing = {"f": f"{v.code} != {v.code}", "s": f"{v.code} is None", "M": f"{v.code} is NaT"}
        if e.na_action == "ignore" and v.kind in missing:
            miss = "NaT" if v.kind == "M" else "NAN"  # the value pandas leaves in place
            code = f"{miss} if {missing[v.kind]} else {fn}({arg})"
        elif e.na_action in (None, "ignore"):
            code = f"{fn}({arg})"
        else:
            raise Decline(f"rows: na_action={e.na_action!r}")
        if e.method == "apply":
            code = f"_scalar1({code}, {e.func.name!r})"
        if not self.frame_mode:
            code = f"_infer1({code})"
        return Val(self.tmp(code), "O", None, stage=self.stage)

    def gen_RowApply(self, e: Any) -> Val:
        from ._runtime import _RowSpec

        labels = tuple(e.labels)
        if len(labels) != len(e.inputs) or len(set(labels)) != len(labels):
            raise Decline(f"rows: {_WHAT} over labels {list(labels)!r}")
        if any(isinstance(k, tuple) for k in labels):
            raise Decline(f"rows: {_WHAT} over tuple (MultiIndex) labels")
        vals = [self.static(x, _WHAT) for x in e.inputs]
        for v in vals:
            ok = v.dtype in (I64, F64, BOOL, STR) or (v.kind == "M" and not v.is_lit)
            if v.kind not in ("i", "f", "b", "s", "M") or v.missing or not ok:
                raise Decline(f"rows: {_WHAT} over a column of {v.dtype}")
        dtype = find_common_type([v.dtype for v in vals])
        codes = [self._row_value(v, dtype) for v in vals]
        if not self.frame_mode:
            name = "0"  # the one-row frame's RangeIndex label
        elif dtype == STR:  # pandas' extension-array rows: named by index[i]
            if self.stage:
                raise Decline(f"rows: {_WHAT} over str columns after a filter")
            name = "IXE"
        else:
            name = "IX"
        if self.frame_mode:
            self.row_names.add(name)
        spec = self.const(_RowSpec(labels, dtype))
        fn = self.const(e.func.bound())
        code = f"{fn}(_Row({spec}, ({''.join(c + ', ' for c in codes)}), {name}))"
        if not self.frame_mode:
            code = f"_row1({code}, {e.func.name!r})"
        return Val(self.tmp(code), "O", None, stage=self.stage, row_apply=e.func.name)

    def _row_value(self, v: Val, dtype: Any) -> str:
        """The code of ``v`` as the Python value pandas' row of ``dtype`` holds."""
        code = v.code
        if dtype in (I64, BOOL):
            return code
        if dtype == F64:
            return self.as_float(v)
        if dtype == STR or dtype == np.dtype(object):
            if v.kind == "s":
                return f"(NAN if {code} is None else {code})"
            if v.kind == "M":
                unit = np.datetime_data(v.dtype)[0]
                return code if self.frame_mode else f"_as_unit({code}, {unit!r})"
            return code
        if isinstance(dtype, np.dtype) and dtype.kind == "M":
            unit = np.datetime_data(dtype)[0]
            if self.frame_mode and np.datetime_data(v.dtype)[0] == unit:
                return code
            return f"_as_unit({code}, {unit!r})"
        raise Decline(f"rows: {_WHAT} over columns interleaved to {dtype}")
