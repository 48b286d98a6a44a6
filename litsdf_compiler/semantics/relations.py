"""pandas kernels for relational nodes: each replays the pandas call the node records."""

from __future__ import annotations

from typing import Any

import pandas as pd
from pandas.api.extensions import no_default

from ..files import naming_file, verify
from ..ir import relations as rel
from ..ir.aggregate import call_pandas
from ..ir.base import thaw
from ..ir.trust import (
    AGG_FUNCS,
    FRAME_REDUCE_FUNCS,
    GROUP_METHODS,
    UntrustedPlanError,
    check_dispatch,
)

__all__ = ["RelationKernels"]


def _check_aggregations(n: rel.Aggregate) -> None:
    """The groupby method or aggregation names of ``n`` are ones litsdf traces."""
    allowed = GROUP_METHODS if n.form == "method" else AGG_FUNCS
    for name in (*n.functions, *(m.function for m in n.measures)):
        if name not in allowed:
            raise UntrustedPlanError(
                f"Aggregate: {name!r} is not an allowed aggregation; allowed: "
                f"{', '.join(sorted(allowed))}"
            )


def _opt(value: tuple[Any, ...] | None) -> list[Any] | None:
    return None if value is None else list(value)


class RelationKernels:
    """``visit_<Relation>(node, *input_frames)``; ``self.ev(expr, frame, memo)`` evaluates."""

    def ev(self, expr: Any, frame: pd.DataFrame, memo: dict[Any, Any] | None = None) -> Any:
        raise NotImplementedError  # provided by the executor

    def visit_Source(self, n: rel.Source) -> Any:
        return n.data.data

    def visit_ReadCsv(self, n: rel.ReadCsv) -> Any:
        verify(n.path, n.version, "read_csv")
        out = pd.read_csv(n.path, **thaw(dict(n.options)))
        verify(n.path, n.version, "read_csv")  # (not rewritten while it was read)
        return out

    def visit_ReadParquet(self, n: rel.ReadParquet) -> Any:
        verify(n.path, n.version, "read_parquet")
        try:
            out = pd.read_parquet(n.path, columns=_opt(n.columns), **thaw(dict(n.options)))
        except (OSError, ValueError) as err:  # (a corrupt file: pyarrow's error names no file)
            raise naming_file(err, n.path, "read_parquet") from err
        verify(n.path, n.version, "read_parquet")
        return out

    def visit_Project(self, n: rel.Project, df: pd.DataFrame) -> Any:
        from ..ir.expressions import Col

        if all(isinstance(e, Col) and e.name == label for label, e in n.expressions):
            return df[[label for label, _ in n.expressions]]
        memo: dict[Any, Any] = {}
        out = df[[]]
        for label, e in n.expressions:
            out[label] = self.ev(e, df, memo)
        return out

    def visit_WithColumns(self, n: rel.WithColumns, df: pd.DataFrame) -> Any:
        memo: dict[Any, Any] = {}
        out = df.copy(deep=False)
        for label, e in n.expressions:
            out[label] = self.ev(e, df, memo)
        return out

    def visit_Filter(self, n: rel.Filter, df: pd.DataFrame) -> Any:
        return df[self.ev(n.condition, df)]

    def visit_Drop(self, n: rel.Drop, df: pd.DataFrame) -> Any:
        return df.drop(columns=list(n.columns))

    def visit_Rename(self, n: rel.Rename, df: pd.DataFrame) -> Any:
        return df.rename(columns=dict(n.mapping))

    def visit_Head(self, n: rel.Head, df: pd.DataFrame) -> Any:
        return df.head(n.n)

    def visit_Tail(self, n: rel.Tail, df: pd.DataFrame) -> Any:
        return df.tail(n.n)

    def visit_Slice(self, n: rel.Slice, df: pd.DataFrame) -> Any:
        return df.iloc[n.start : n.stop : n.step]

    def visit_Sort(self, n: rel.Sort, df: pd.DataFrame) -> Any:
        asc = list(n.ascending) if isinstance(n.ascending, tuple) else n.ascending
        return df.sort_values(
            by=list(n.by),
            ascending=asc,
            kind=n.kind,
            na_position=n.na_position,
            ignore_index=n.ignore_index,
        )

    def visit_SortIndex(self, n: rel.SortIndex, df: pd.DataFrame) -> Any:
        return df.sort_index(
            ascending=n.ascending,
            kind=n.kind,
            na_position=n.na_position,
            ignore_index=n.ignore_index,
        )

    def visit_TopK(self, n: rel.TopK, df: pd.DataFrame) -> Any:
        method = df.nlargest if n.largest else df.nsmallest
        return method(n.n, list(n.columns), keep=n.keep)

    def visit_Aggregate(self, n: rel.Aggregate, df: pd.DataFrame) -> Any:
        _check_aggregations(n)
        return call_pandas(n, df)

    def visit_FrameReduce(self, n: rel.FrameReduce, df: pd.DataFrame) -> Any:
        if n.func not in FRAME_REDUCE_FUNCS:
            check_dispatch(n, "func", FRAME_REDUCE_FUNCS)
        return getattr(df, n.func)(**thaw(dict(n.kwargs)))

    def visit_ScalarResult(self, n: rel.ScalarResult, df: pd.DataFrame) -> Any:
        return self.ev(n.expr, df)

    def visit_SeriesMethod(self, n: rel.SeriesMethod, df: pd.DataFrame) -> Any:
        if n.method not in rel.SERIES_METHODS:
            check_dispatch(n, "method", rel.SERIES_METHODS)
        return getattr(self.ev(n.value, df), n.method)(**thaw(dict(n.kwargs)))

    def visit_Join(self, n: rel.Join, left: pd.DataFrame, right: pd.DataFrame) -> Any:
        return pd.merge(
            left,
            right,
            how=n.how,
            on=_opt(n.on),
            left_on=_opt(n.left_on),
            right_on=_opt(n.right_on),
            left_index=n.left_index,
            right_index=n.right_index,
            suffixes=n.suffixes,
            sort=n.sort,
            indicator=n.indicator,
            validate=n.validate,
        )

    def visit_IndexJoin(self, n: rel.IndexJoin, left: pd.DataFrame, right: pd.DataFrame) -> Any:
        on = None if n.on is None else (n.on[0] if len(n.on) == 1 else list(n.on))
        given = {"lsuffix": n.lsuffix, "rsuffix": n.rsuffix, "suffixes": thaw(n.suffixes)}
        kwargs = {k: v for k, v in given.items() if v is not no_default}
        return left.join(right, on=on, how=n.how, sort=n.sort, validate=n.validate, **kwargs)

    def visit_Concat(self, n: rel.Concat, *frames: pd.DataFrame) -> Any:
        kwargs = {} if n.sort is no_default else {"sort": n.sort}
        parts: list[Any] = list(frames)
        series = n.axis == 0 and all(list(f.columns) == [rel.SERIES] for f in frames)
        if series:  # Series stack with other dtype rules than one-column frames (bool+float)
            parts = [f[rel.SERIES] for f in frames]
        out = pd.concat(parts, axis=n.axis, join=n.join, ignore_index=n.ignore_index, **kwargs)
        return out.to_frame(rel.SERIES) if series else out

    def visit_SetIndex(self, n: rel.SetIndex, df: pd.DataFrame) -> Any:
        return df.set_index(list(n.keys), drop=n.drop, append=n.append)

    def visit_ResetIndex(self, n: rel.ResetIndex, df: pd.DataFrame) -> Any:
        names = None if n.names is None else list(n.names)
        return df.reset_index(drop=n.drop, names=names)

    def visit_DropDuplicates(self, n: rel.DropDuplicates, df: pd.DataFrame) -> Any:
        return df.drop_duplicates(subset=_opt(n.subset), keep=n.keep, ignore_index=n.ignore_index)

    def visit_DropNa(self, n: rel.DropNa, df: pd.DataFrame) -> Any:
        return df.dropna(
            how=n.how, thresh=n.thresh, subset=_opt(n.subset), ignore_index=n.ignore_index
        )

    def visit_FrameElementwise(self, n: rel.FrameElementwise, df: pd.DataFrame) -> Any:
        if n.method not in rel.FRAME_ELEMENTWISE:
            check_dispatch(n, "method", rel.FRAME_ELEMENTWISE)
        kwargs = thaw(dict(n.kwargs))
        if kwargs.get("inplace"):  # in-place forms keep dtypes (pandas raises, not upcasts)
            df = df.copy(deep=False)  # copy-on-write: the input is never modified
            getattr(df, n.method)(**kwargs)
            return df
        return getattr(df, n.method)(**kwargs)

    def visit_Describe(self, n: rel.Describe, df: pd.DataFrame) -> Any:
        return df.describe(
            percentiles=_opt(n.percentiles), include=thaw(n.include), exclude=thaw(n.exclude)
        )
