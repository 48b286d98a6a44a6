"""The backend contract: ``available()``, ``supports(plan)`` and ``execute(plan)``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..ir.base import Node, walk
from ..ir.frames import as_frame
from ..ir.relations import Source
from ..lower import (
    Distinct,
    Finalize,
    GroupAgg,
    HashJoin,
    OrderBy,
    PandasCall,
    Physical,
    Rows,
    Scan,
    Table,
    TopK,
    UnionAll,
    finalize,
    lower,
    physical_nodes,
    table_from_pandas,
)
from ..semantics import REFERENCE
from .preference import Calibration, Preference, Setting, Settings

__all__ = [
    "Backend",
    "BackendDeclined",
    "Claim",
    "Verdict",
    "Preference",
    "Setting",
    "Settings",
    "Calibration",
]


class BackendDeclined(NotImplementedError):
    """The backend asked for cannot run this plan exactly as pandas would (the message says
    why): the one way a backend declines."""


class Verdict(NamedTuple):
    """A yes/no answer with the reason (always given when the answer is no)."""

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


class Backend:
    """One execution layout: ``visit_<Node>`` methods over the physical plan
    (:mod:`litsdf_compiler.lower`), each returning a :class:`~litsdf_compiler.lower.Table`.

    The base owns the driver: ``supports(plan)`` is *derived* (every physical node has a
    ``visit_<Node>`` and the optional ``check_<Node>(node)`` accepts it, so a backend cannot
    claim support for a node it cannot run) and ``execute(plan)`` is one memoized walk over
    the physical plan ending in the shared finalize, which builds pandas' exact object.
    """

    name: str = ""
    priority: int = 100
    """Lower runs first when several backends support a plan under ``backend="auto"``."""

    def available(self) -> Verdict:
        """Whether the backend's libraries and hardware are present here."""
        return Verdict(True)

    def supports(self, plan: Node) -> Verdict:
        """Whether this backend runs ``plan`` exactly as pandas would: derived from its
        methods, over the plan's physical form (:func:`~litsdf_compiler.lower.lower`): every
        physical node has a ``visit_<Node>`` and the optional ``check_<Node>(node)``
        accepts it (the root :class:`~litsdf_compiler.lower.Finalize` is the driver's own).

        A plan with no physical form because pandas rejects its metadata (pandas raises when
        it runs) is accepted: :meth:`execute` raises pandas' own error, as pandas does.
        """
        try:
            root = lower(plan)  # type: ignore[arg-type]
        except Exception:  # (pandas' error: ``execute`` raises it)
            return Verdict(True)
        return self.supports_physical(root)

    def supports_physical(self, root: Physical) -> Verdict:
        """:meth:`supports` of a lowered plan ``root``."""
        for n in physical_nodes(root):
            if isinstance(n, Finalize):
                continue
            kind = type(n).__name__
            if getattr(self, f"visit_{kind}", None) is None:
                what = f" ({type(n.node).__name__})" if isinstance(n, PandasCall) else ""
                return Verdict(False, f"{self.name} has no lowering for {kind}{what}")
            check = getattr(self, f"check_{kind}", None)
            if check is not None:
                verdict: Verdict = check(n)
                if not verdict:
                    return verdict
        return Verdict(True)

    def supports_logical(self, plan: Node) -> Verdict:
        """The derivation over the *logical* plan (``visit_<LogicalNode>`` and
        ``check_<LogicalNode>`` methods), for a backend that runs the logical plan itself
        (``pandas``, the reference)."""
        for n in walk(plan):
            kind = type(n).__name__
            if getattr(self, f"visit_{kind}", None) is None:
                return Verdict(False, f"{self.name} has no lowering for {kind}")
            check = getattr(self, f"check_{kind}", None)
            if check is not None:
                verdict: Verdict = check(n)
                if not verdict:
                    return verdict
        return Verdict(True)

    def claim(self, node: Physical) -> Claim | None:
        """Hook for a backend that runs a whole chain at once (rows compiles the plan into one
        function, numba fuses Compute/Filter/Select chains into one loop): a :class:`Claim`
        to run ``node`` *and the nodes under it down to the claim's inputs*, which the driver
        then does not visit (their ``visit_``/``check_`` methods still declare support).
        ``None`` (the default): ``node`` is visited on its own."""
        return None

    def execute(self, plan: Node) -> Any:
        """Run ``plan``: lower it, walk the physical plan once (each node's value computed
        once: ``visit_<Node>(node, *input_values)`` or a :meth:`claim`), and build pandas'
        exact result with the shared :func:`~litsdf_compiler.lower.finalize`. A plan pandas
        rejects (it has no physical form) raises pandas' own error, by its reference kernels."""
        try:
            root = lower(plan)  # type: ignore[arg-type]
        except Exception:
            return REFERENCE.run(plan)  # (raises what pandas raises)
        return self.run_physical(root)

    def run_physical(self, root: Physical) -> Any:
        """The value of the physical plan ``root`` (a pandas object for a Finalize)."""
        memo: dict[int, Any] = {}
        return self._value(root, memo)

    def _value(self, n: Physical, memo: dict[int, Any]) -> Any:
        hit = memo.get(id(n), memo)
        if hit is not memo:
            return hit
        if isinstance(n, Finalize):
            out = finalize(n, self._value(n.input, memo))
        else:
            claimed = self.claim(n)
            if claimed is not None:
                out = claimed.run(*[self._value(c, memo) for c in claimed.inputs])
            else:
                visit = getattr(self, f"visit_{type(n).__name__}", None)
                if visit is None:
                    raise BackendDeclined(f"{self.name} has no lowering for {type(n).__name__}")
                out = visit(n, *[self._value(c, memo) for c in n.inputs])
        memo[id(n)] = out
        return out

    # shared implementations a backend may use --------------------------------------------------
    def pandas_call(self, n: PandasCall, *operands: Any) -> Table:
        """The island ``n`` run by pandas' reference kernel on its operands' pandas values
        (a backend opts in with ``visit_PandasCall = Backend.pandas_call``)."""
        node = n.node
        result = REFERENCE.kernel(node)(node, *[as_frame(o) for o in operands])
        return table_from_pandas(result, n.schema)

    def order_by(self, n: OrderBy, t: Table) -> Table:
        """The rows of ``t`` in ``n``'s order, by pandas' sort of the key arrays, of
        ``n.kind`` (the shared implementation: ``visit_OrderBy = Backend.order_by``)."""
        import pandas as pd

        names = [k for k, _ in n.keys]
        frame = pd.DataFrame({k: t.columns[k] for k in dict.fromkeys(names)}, copy=False)
        order = frame.sort_values(
            by=names,
            ascending=[a for _, a in n.keys],
            kind=n.kind,
            na_position=n.na_position,
        ).index.to_numpy(dtype=np.intp)
        out = t.take(order)
        return Table(out.columns, out.rows.reset()) if n.ignore_index else out

    def group_agg(self, n: GroupAgg, t: Table) -> Table:
        """The groups of ``n`` computed by pandas' groupby over the table's arrays (the shared
        implementation: ``visit_GroupAgg = Backend.group_agg``; a native one replaces it)."""
        import pandas as pd

        used = dict.fromkeys([*n.keys, *(m[1] for m in n.measures if m[1] is not None)])
        frame = pd.DataFrame({k: t.columns[k] for k in used}, copy=False)
        gb = frame.groupby(list(n.keys), sort=n.sort, dropna=n.dropna)
        values = {}
        index = None
        for out, column, func, args in n.measures:
            result = gb.size() if column is None else getattr(gb[column], func)(**dict(args))
            values[out] = result._values
            index = result.index
        assert index is not None
        names = [f.name for f in n.schema]
        keys = names[: len(n.keys)]
        cols = {name: index.get_level_values(i)._values for i, name in enumerate(keys)}
        cols.update(values)
        return Table({name: cols[name] for name in names}, Rows(None, len(index)))

    def hash_join(self, n: HashJoin, left: Table, right: Table) -> Table:
        """The join ``n`` by ``pandas.merge`` over the tables' arrays (the shared
        implementation: ``visit_HashJoin = Backend.hash_join``)."""
        from .relations import hash_join

        return hash_join(n, left, right)

    def union_all(self, n: UnionAll, *parts: Table) -> Table:
        """The rows of ``parts`` stacked by ``pandas.concat`` (the shared implementation:
        ``visit_UnionAll = Backend.union_all``)."""
        from .relations import union_all

        return union_all(n, *parts)

    def distinct(self, n: Distinct, t: Table) -> Table:
        """The rows of ``t`` without duplicates, by pandas' ``duplicated`` over the key arrays
        (the shared implementation: ``visit_Distinct = Backend.distinct``)."""
        from .relations import distinct

        return distinct(n, t)

    def top_k(self, n: TopK, t: Table) -> Table:
        """The first ``n.n`` rows of ``t`` by pandas' ``nlargest`` / ``nsmallest`` over the key
        arrays (the shared implementation: ``visit_TopK = Backend.top_k``)."""
        from .relations import top_k

        return top_k(n, t)

    def scan_table(self, n: Scan) -> Table:
        """The table of the leaf ``n`` reads (a Source's frame; a file read by pandas)."""
        source = n.source
        frame = source.data.data if isinstance(source, Source) else REFERENCE.kernel(source)(source)
        return table_from_pandas(frame, n.schema)

    # selection: how the selector asks a backend (it names none itself) ----------------------
    settings: tuple[Setting, ...] = ()
    """The backend's tunables (defaults and validation); the values in force are passed to
    :meth:`preference` and set with ``litsdf.options.backend_settings(name)``."""

    def preference(self, plan: Node, rows: int | None, settings: Settings) -> Preference | None:
        """Whether this backend wants to run ``plan`` on an input of ``rows`` rows (``None``:
        unknown before reading) under ``backend="auto"``, and why.

        Backends that state a preference are tried first, by rank (then priority); the others
        follow in priority order. The default states none.
        """
        return None

    def calibrate(
        self, quick: bool = False, report: Callable[[str], Any] = print
    ) -> Calibration | None:
        """Measure this backend's settings on this machine (``litsdf calibrate``); ``None``
        when it has nothing to measure (the default). ``report`` receives one line of text per
        measurement; ``quick`` measures fewer, smaller inputs."""
        return None

    def program(self, plan: Node, inputs: Sequence[Source]) -> Callable[..., Any] | None:
        """A compiled form of ``plan`` for repeated runs on inputs of the same schema, or
        ``None`` (the default: the caller substitutes the data and calls :meth:`execute`).

        Called with one DataFrame per placeholder of ``inputs`` (in that order, each with the
        placeholder's columns and dtypes), it returns what :meth:`execute` would for ``plan``
        with those frames as its Sources. Only asked for a plan :meth:`supports`.
        """
        return None


class Claim(NamedTuple):
    """What :meth:`Backend.claim` returns: the nodes whose values ``run`` takes (evaluated by
    the driver, memoized) and ``run(*values) -> Table``."""

    inputs: tuple[Physical, ...]
    run: Callable[..., Any]
