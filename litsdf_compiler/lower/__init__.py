"""The physical plan: logical -> physical lowering, the physical nodes and the shared finalize.

Imports only :mod:`litsdf_compiler.ir`, :mod:`litsdf_compiler.meta` and
:mod:`litsdf_compiler.semantics`; every backend builds on it (see ``backends/base.py``).
"""

from __future__ import annotations

from .explain import render_physical
from .finalize import Rows, Table, finalize, table_from_pandas, to_pandas_array
from .lower import lower
from .nodes import (
    COLUMN,
    INDEX,
    JOIN_HOWS,
    Compute,
    Distinct,
    Field,
    Filter,
    Finalize,
    GroupAgg,
    HashJoin,
    Labels,
    Limit,
    OrderBy,
    PandasCall,
    Physical,
    Scan,
    Select,
    TopK,
    UnionAll,
    physical_nodes,
)

__all__ = [
    "COLUMN",
    "INDEX",
    "JOIN_HOWS",
    "Compute",
    "Distinct",
    "Field",
    "Filter",
    "Finalize",
    "GroupAgg",
    "HashJoin",
    "Labels",
    "Limit",
    "OrderBy",
    "PandasCall",
    "Physical",
    "Rows",
    "Scan",
    "Select",
    "Table",
    "TopK",
    "UnionAll",
    "finalize",
    "lower",
    "physical_nodes",
    "render_physical",
    "table_from_pandas",
    "to_pandas_array",
]
