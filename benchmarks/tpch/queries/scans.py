"""q1, q3, q5, q6, q9: pricing summary, shipping priority, local supplier volume, revenue
forecast, product type profit (TPC-H adapted to the pandas a data scientist writes).

Each query has three versions: ``_qN_pandas(pd, inputs)`` (pandas or litsdf), ``_qN_polars``
and ``_qN_duckdb``; :data:`QUERIES` holds the records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from benchmarks.tpch.queries._io import Query, day, read, scan, sql, sql_scalar


def _q1_pandas(pd: Any, inputs: Mapping[str, Any]) -> Any:
    """Pricing summary: filter by date, derived columns, group by two keys, sort."""
    li = read(pd, inputs, "lineitem")
    li = li[li["l_shipdate"] <= day(1998, 9, 2)]
    li["disc_price"] = li["l_extendedprice"] * (1 - li["l_discount"])
    li["charge"] = li["disc_price"] * (1 + li["l_tax"])
    out = li.groupby(["l_returnflag", "l_linestatus"], as_index=False).agg(
        sum_qty=("l_quantity", "sum"),
        sum_base_price=("l_extendedprice", "sum"),
        sum_disc_price=("disc_price", "sum"),
        sum_charge=("charge", "sum"),
        avg_qty=("l_quantity", "mean"),
        avg_price=("l_extendedprice", "mean"),
        avg_disc=("l_discount", "mean"),
        count_order=("l_orderkey", "size"),
    )
    return out.sort_values(["l_returnflag", "l_linestatus"]).reset_index(drop=True)


def _q1_polars(pl: Any, inputs: Mapping[str, Any]) -> Any:
    """q1 in Polars."""
    disc_price = pl.col("l_extendedprice") * (1 - pl.col("l_discount"))
    return (
        scan(pl, inputs, "lineitem")
        .filter(pl.col("l_shipdate") <= day(1998, 9, 2))
        .group_by("l_returnflag", "l_linestatus")
        .agg(
            sum_qty=pl.col("l_quantity").sum(),
            sum_base_price=pl.col("l_extendedprice").sum(),
            sum_disc_price=disc_price.sum(),
            sum_charge=(disc_price * (1 + pl.col("l_tax"))).sum(),
            avg_qty=pl.col("l_quantity").mean(),
            avg_price=pl.col("l_extendedprice").mean(),
            avg_disc=pl.col("l_discount").mean(),
            count_order=pl.len(),
        )
        .sort("l_returnflag", "l_linestatus")
        .collect()
    )


def _q1_duckdb(con: Any, inputs: Mapping[str, Any]) -> Any:
    """q1 in DuckDB SQL."""
    return sql(
        con,
        inputs,
        """
        SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty,
               sum(l_extendedprice) AS sum_base_price,
               sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
               sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
               avg(l_quantity) AS avg_qty, avg(l_extendedprice) AS avg_price,
               avg(l_discount) AS avg_disc, count(*) AS count_order
        FROM {lineitem} WHERE l_shipdate <= TIMESTAMP '1998-09-02'
        GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus
        """,
    )


def _q3_pandas(pd: Any, inputs: Mapping[str, Any]) -> Any:
    """Shipping priority: 3 filtered tables joined, group by three keys, top 10 by revenue."""
    customer, orders = read(pd, inputs, "customer"), read(pd, inputs, "orders")
    lineitem = read(pd, inputs, "lineitem")
    date = day(1995, 3, 15)
    customer = customer[customer["c_mktsegment"] == "BUILDING"]
    orders = orders[orders["o_orderdate"] < date]
    lineitem = lineitem[lineitem["l_shipdate"] > date]
    j = customer.merge(orders, left_on="c_custkey", right_on="o_custkey")
    j = j.merge(lineitem, left_on="o_orderkey", right_on="l_orderkey")
    j["revenue"] = j["l_extendedprice"] * (1 - j["l_discount"])
    keys = ["l_orderkey", "o_orderdate", "o_shippriority"]
    out = j.groupby(keys, as_index=False)["revenue"].sum()
    out = out.sort_values(["revenue", "o_orderdate"], ascending=[False, True])
    return out.head(10).reset_index(drop=True)


def _q3_polars(pl: Any, inputs: Mapping[str, Any]) -> Any:
    """q3 in Polars."""
    date = day(1995, 3, 15)
    customer = scan(pl, inputs, "customer").filter(pl.col("c_mktsegment") == "BUILDING")
    orders = scan(pl, inputs, "orders").filter(pl.col("o_orderdate") < date)
    lineitem = scan(pl, inputs, "lineitem").filter(pl.col("l_shipdate") > date)
    return (
        customer.join(orders, left_on="c_custkey", right_on="o_custkey")
        .join(lineitem, left_on="o_orderkey", right_on="l_orderkey")
        .group_by("o_orderkey", "o_orderdate", "o_shippriority")
        .agg(revenue=(pl.col("l_extendedprice") * (1 - pl.col("l_discount"))).sum())
        .rename({"o_orderkey": "l_orderkey"})
        .sort(["revenue", "o_orderdate"], descending=[True, False])
        .head(10)
        .collect()
    )


def _q3_duckdb(con: Any, inputs: Mapping[str, Any]) -> Any:
    """q3 in DuckDB SQL."""
    return sql(
        con,
        inputs,
        """
        SELECT l_orderkey, o_orderdate, o_shippriority,
               sum(l_extendedprice * (1 - l_discount)) AS revenue
        FROM {customer}, {orders}, {lineitem}
        WHERE c_mktsegment = 'BUILDING' AND c_custkey = o_custkey AND l_orderkey = o_orderkey
          AND o_orderdate < TIMESTAMP '1995-03-15' AND l_shipdate > TIMESTAMP '1995-03-15'
        GROUP BY l_orderkey, o_orderdate, o_shippriority
        ORDER BY revenue DESC, o_orderdate LIMIT 10
        """,
    )


def _q5_pandas(pd: Any, inputs: Mapping[str, Any]) -> Any:
    """Local supplier volume: 6 tables joined (one join on two keys), group by nation."""
    region, nation = read(pd, inputs, "region"), read(pd, inputs, "nation")
    customer, orders = read(pd, inputs, "customer"), read(pd, inputs, "orders")
    lineitem, supplier = read(pd, inputs, "lineitem"), read(pd, inputs, "supplier")
    region = region[region["r_name"] == "ASIA"]
    orders = orders[
        (orders["o_orderdate"] >= day(1994, 1, 1)) & (orders["o_orderdate"] < day(1995, 1, 1))
    ]
    j = region.merge(nation, left_on="r_regionkey", right_on="n_regionkey")
    j = j.merge(customer, left_on="n_nationkey", right_on="c_nationkey")
    j = j.merge(orders, left_on="c_custkey", right_on="o_custkey")
    j = j.merge(lineitem, left_on="o_orderkey", right_on="l_orderkey")
    j = j.merge(
        supplier, left_on=["l_suppkey", "n_nationkey"], right_on=["s_suppkey", "s_nationkey"]
    )
    j["revenue"] = j["l_extendedprice"] * (1 - j["l_discount"])
    out = j.groupby("n_name", as_index=False)["revenue"].sum()
    return out.sort_values("revenue", ascending=False).reset_index(drop=True)


def _q5_polars(pl: Any, inputs: Mapping[str, Any]) -> Any:
    """q5 in Polars."""
    orders = scan(pl, inputs, "orders").filter(
        pl.col("o_orderdate").is_between(day(1994, 1, 1), day(1995, 1, 1), closed="left")
    )
    return (
        scan(pl, inputs, "region")
        .filter(pl.col("r_name") == "ASIA")
        .join(scan(pl, inputs, "nation"), left_on="r_regionkey", right_on="n_regionkey")
        .join(scan(pl, inputs, "customer"), left_on="n_nationkey", right_on="c_nationkey")
        .join(orders, left_on="c_custkey", right_on="o_custkey")
        .join(scan(pl, inputs, "lineitem"), left_on="o_orderkey", right_on="l_orderkey")
        .join(
            scan(pl, inputs, "supplier"),
            left_on=["l_suppkey", "n_nationkey"],
            right_on=["s_suppkey", "s_nationkey"],
        )
        .group_by("n_name")
        .agg(revenue=(pl.col("l_extendedprice") * (1 - pl.col("l_discount"))).sum())
        .sort("revenue", descending=True)
        .collect()
    )


def _q5_duckdb(con: Any, inputs: Mapping[str, Any]) -> Any:
    """q5 in DuckDB SQL."""
    return sql(
        con,
        inputs,
        """
        SELECT n_name, sum(l_extendedprice * (1 - l_discount)) AS revenue
        FROM {customer}, {orders}, {lineitem}, {supplier}, {nation}, {region}
        WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey AND l_suppkey = s_suppkey
          AND c_nationkey = s_nationkey AND s_nationkey = n_nationkey
          AND n_regionkey = r_regionkey AND r_name = 'ASIA'
          AND o_orderdate >= TIMESTAMP '1994-01-01' AND o_orderdate < TIMESTAMP '1995-01-01'
        GROUP BY n_name ORDER BY revenue DESC
        """,
    )


def _q6_pandas(pd: Any, inputs: Mapping[str, Any]) -> Any:
    """Forecasting revenue change: a date range, ``between`` and a bound, one sum."""
    li = read(pd, inputs, "lineitem")
    li = li[
        (li["l_shipdate"] >= day(1994, 1, 1))
        & (li["l_shipdate"] < day(1995, 1, 1))
        & li["l_discount"].between(0.05, 0.07)
        & (li["l_quantity"] < 24)
    ]
    return (li["l_extendedprice"] * li["l_discount"]).sum()


def _q6_polars(pl: Any, inputs: Mapping[str, Any]) -> Any:
    """q6 in Polars."""
    return (
        scan(pl, inputs, "lineitem")
        .filter(
            pl.col("l_shipdate").is_between(day(1994, 1, 1), day(1995, 1, 1), closed="left"),
            pl.col("l_discount").is_between(0.05, 0.07),
            pl.col("l_quantity") < 24,
        )
        .select((pl.col("l_extendedprice") * pl.col("l_discount")).sum())
        .collect()
        .item()
    )


def _q6_duckdb(con: Any, inputs: Mapping[str, Any]) -> Any:
    """q6 in DuckDB SQL."""
    return sql_scalar(
        con,
        inputs,
        """
        SELECT sum(l_extendedprice * l_discount) FROM {lineitem}
        WHERE l_shipdate >= TIMESTAMP '1994-01-01' AND l_shipdate < TIMESTAMP '1995-01-01'
          AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24
        """,
    )


def _q9_pandas(pd: Any, inputs: Mapping[str, Any]) -> Any:
    """Product type profit: ``str.contains``, 6 tables joined, ``dt.year``, group by two."""
    part, partsupp = read(pd, inputs, "part"), read(pd, inputs, "partsupp")
    lineitem, supplier = read(pd, inputs, "lineitem"), read(pd, inputs, "supplier")
    orders, nation = read(pd, inputs, "orders"), read(pd, inputs, "nation")
    part = part[part["p_name"].str.contains("green")]
    j = part.merge(partsupp, left_on="p_partkey", right_on="ps_partkey")
    j = j.merge(lineitem, left_on=["ps_suppkey", "ps_partkey"], right_on=["l_suppkey", "l_partkey"])
    j = j.merge(supplier, left_on="l_suppkey", right_on="s_suppkey")
    j = j.merge(orders, left_on="l_orderkey", right_on="o_orderkey")
    j = j.merge(nation, left_on="s_nationkey", right_on="n_nationkey")
    j["o_year"] = j["o_orderdate"].dt.year
    revenue = j["l_extendedprice"] * (1 - j["l_discount"])
    j["amount"] = revenue - j["ps_supplycost"] * j["l_quantity"]
    out = j.groupby(["n_name", "o_year"], as_index=False)["amount"].sum()
    out = out.rename(columns={"n_name": "nation", "amount": "sum_profit"})
    return out.sort_values(["nation", "o_year"], ascending=[True, False]).reset_index(drop=True)


def _q9_polars(pl: Any, inputs: Mapping[str, Any]) -> Any:
    """q9 in Polars."""
    amount = pl.col("l_extendedprice") * (1 - pl.col("l_discount")) - pl.col(
        "ps_supplycost"
    ) * pl.col("l_quantity")
    return (
        scan(pl, inputs, "part")
        .filter(pl.col("p_name").str.contains("green", literal=True))
        .join(scan(pl, inputs, "partsupp"), left_on="p_partkey", right_on="ps_partkey")
        .join(
            scan(pl, inputs, "lineitem"),
            left_on=["ps_suppkey", "p_partkey"],
            right_on=["l_suppkey", "l_partkey"],
        )
        .join(scan(pl, inputs, "supplier"), left_on="ps_suppkey", right_on="s_suppkey")
        .join(scan(pl, inputs, "orders"), left_on="l_orderkey", right_on="o_orderkey")
        .join(scan(pl, inputs, "nation"), left_on="s_nationkey", right_on="n_nationkey")
        .group_by(pl.col("n_name").alias("nation"), pl.col("o_orderdate").dt.year().alias("o_year"))
        .agg(sum_profit=amount.sum())
        .sort(["nation", "o_year"], descending=[False, True])
        .collect()
    )


def _q9_duckdb(con: Any, inputs: Mapping[str, Any]) -> Any:
    """q9 in DuckDB SQL."""
    return sql(
        con,
        inputs,
        """
        SELECT n_name AS nation, extract(year FROM o_orderdate) AS o_year,
               sum(l_extendedprice * (1 - l_discount) - ps_supplycost * l_quantity)
                 AS sum_profit
        FROM {part}, {supplier}, {lineitem}, {partsupp}, {orders}, {nation}
        WHERE s_suppkey = l_suppkey AND ps_suppkey = l_suppkey AND ps_partkey = l_partkey
          AND p_partkey = l_partkey AND o_orderkey = l_orderkey AND s_nationkey = n_nationkey
          AND p_name LIKE '%green%'
        GROUP BY nation, o_year ORDER BY nation, o_year DESC
        """,
    )


QUERIES = (
    Query(
        "q1",
        "lineitem: date filter, two derived columns, group by 2 keys (4 sums, 3 means, size)",
        ("lineitem",),
        _q1_pandas,
        _q1_polars,
        _q1_duckdb,
    ),
    Query(
        "q3",
        "customer-orders-lineitem: 3 filters, 2 joins, group by 3 keys, sort 2 keys + head(10)",
        ("customer", "orders", "lineitem"),
        _q3_pandas,
        _q3_polars,
        _q3_duckdb,
    ),
    Query(
        "q5",
        "6 tables, 5 joins (one on 2 keys), date range, group by nation, sort",
        ("region", "nation", "customer", "orders", "lineitem", "supplier"),
        _q5_pandas,
        _q5_polars,
        _q5_duckdb,
    ),
    Query(
        "q6",
        "lineitem: date range, between, bound; one sum (a scalar)",
        ("lineitem",),
        _q6_pandas,
        _q6_polars,
        _q6_duckdb,
    ),
    Query(
        "q9",
        "str.contains on part, 6 tables, 5 joins (one on 2 keys), dt.year, group by 2 keys",
        ("part", "partsupp", "lineitem", "supplier", "orders", "nation"),
        _q9_pandas,
        _q9_polars,
        _q9_duckdb,
    ),
)
