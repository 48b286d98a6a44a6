"""q10, q12, q13, q14, q18, q19: returned items, shipping modes, customer distribution,
promotion effect, large-volume customers, discounted revenue (TPC-H adapted to the pandas a
data scientist writes).

Each query has three versions: ``_qN_pandas(pd, inputs)`` (pandas or litsdf), ``_qN_polars``
and ``_qN_duckdb``; :data:`QUERIES` holds the records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from benchmarks.tpch.queries._io import Query, day, read, scan, sql, sql_scalar

_Q10_KEYS = ["c_custkey", "c_name", "c_acctbal", "c_phone", "n_name", "c_address", "c_comment"]


def _q10_pandas(pd: Any, inputs: Mapping[str, Any]) -> Any:
    """Returned items: 4 tables, group by 7 keys, ``nlargest(20)``."""
    customer, orders = read(pd, inputs, "customer"), read(pd, inputs, "orders")
    lineitem, nation = read(pd, inputs, "lineitem"), read(pd, inputs, "nation")
    orders = orders[
        (orders["o_orderdate"] >= day(1993, 10, 1)) & (orders["o_orderdate"] < day(1994, 1, 1))
    ]
    lineitem = lineitem[lineitem["l_returnflag"] == "R"]
    j = customer.merge(orders, left_on="c_custkey", right_on="o_custkey")
    j = j.merge(lineitem, left_on="o_orderkey", right_on="l_orderkey")
    j = j.merge(nation, left_on="c_nationkey", right_on="n_nationkey")
    j["revenue"] = j["l_extendedprice"] * (1 - j["l_discount"])
    out = j.groupby(_Q10_KEYS, as_index=False)["revenue"].sum()
    return out.nlargest(20, "revenue").reset_index(drop=True)


def _q10_polars(pl: Any, inputs: Mapping[str, Any]) -> Any:
    """q10 in Polars."""
    orders = scan(pl, inputs, "orders").filter(
        pl.col("o_orderdate").is_between(day(1993, 10, 1), day(1994, 1, 1), closed="left")
    )
    lineitem = scan(pl, inputs, "lineitem").filter(pl.col("l_returnflag") == "R")
    return (
        scan(pl, inputs, "customer")
        .join(orders, left_on="c_custkey", right_on="o_custkey")
        .join(lineitem, left_on="o_orderkey", right_on="l_orderkey")
        .join(scan(pl, inputs, "nation"), left_on="c_nationkey", right_on="n_nationkey")
        .group_by(_Q10_KEYS)
        .agg(revenue=(pl.col("l_extendedprice") * (1 - pl.col("l_discount"))).sum())
        .sort("revenue", descending=True)
        .head(20)
        .collect()
    )


def _q10_duckdb(con: Any, inputs: Mapping[str, Any]) -> Any:
    """q10 in DuckDB SQL."""
    keys = ", ".join(_Q10_KEYS)
    return sql(
        con,
        inputs,
        f"""
        SELECT {keys}, sum(l_extendedprice * (1 - l_discount)) AS revenue
        FROM {{customer}}, {{orders}}, {{lineitem}}, {{nation}}
        WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey
          AND o_orderdate >= TIMESTAMP '1993-10-01' AND o_orderdate < TIMESTAMP '1994-01-01'
          AND l_returnflag = 'R' AND c_nationkey = n_nationkey
        GROUP BY {keys} ORDER BY revenue DESC LIMIT 20
        """,
    )


def _q12_pandas(pd: Any, inputs: Mapping[str, Any]) -> Any:
    """Shipping modes: ``isin``, column-to-column comparisons, a join, boolean counts."""
    orders, li = read(pd, inputs, "orders"), read(pd, inputs, "lineitem")
    li = li[
        li["l_shipmode"].isin(["MAIL", "SHIP"])
        & (li["l_commitdate"] < li["l_receiptdate"])
        & (li["l_shipdate"] < li["l_commitdate"])
        & (li["l_receiptdate"] >= day(1994, 1, 1))
        & (li["l_receiptdate"] < day(1995, 1, 1))
    ]
    j = orders.merge(li, left_on="o_orderkey", right_on="l_orderkey")
    high = j["o_orderpriority"].isin(["1-URGENT", "2-HIGH"])
    # one assign: a second ``j[...] = `` would pair ``high`` (of the frame before the first
    # assignment) with a new frame, which litsdf does not trace (it needs index alignment)
    j = j.assign(high_line_count=high.astype("int64"), low_line_count=(~high).astype("int64"))
    out = j.groupby("l_shipmode", as_index=False)[["high_line_count", "low_line_count"]].sum()
    return out.sort_values("l_shipmode").reset_index(drop=True)


def _q12_polars(pl: Any, inputs: Mapping[str, Any]) -> Any:
    """q12 in Polars."""
    lineitem = scan(pl, inputs, "lineitem").filter(
        pl.col("l_shipmode").is_in(["MAIL", "SHIP"]),
        pl.col("l_commitdate") < pl.col("l_receiptdate"),
        pl.col("l_shipdate") < pl.col("l_commitdate"),
        pl.col("l_receiptdate").is_between(day(1994, 1, 1), day(1995, 1, 1), closed="left"),
    )
    high = pl.col("o_orderpriority").is_in(["1-URGENT", "2-HIGH"])
    return (
        scan(pl, inputs, "orders")
        .join(lineitem, left_on="o_orderkey", right_on="l_orderkey")
        .group_by("l_shipmode")
        .agg(
            high_line_count=high.cast(pl.Int64).sum(),
            low_line_count=(~high).cast(pl.Int64).sum(),
        )
        .sort("l_shipmode")
        .collect()
    )


def _q12_duckdb(con: Any, inputs: Mapping[str, Any]) -> Any:
    """q12 in DuckDB SQL."""
    return sql(
        con,
        inputs,
        """
        SELECT l_shipmode,
          CAST(sum(CASE WHEN o_orderpriority IN ('1-URGENT', '2-HIGH') THEN 1 ELSE 0 END)
               AS BIGINT) AS high_line_count,
          CAST(sum(CASE WHEN o_orderpriority NOT IN ('1-URGENT', '2-HIGH') THEN 1 ELSE 0 END)
               AS BIGINT) AS low_line_count
        FROM {orders}, {lineitem}
        WHERE o_orderkey = l_orderkey AND l_shipmode IN ('MAIL', 'SHIP')
          AND l_commitdate < l_receiptdate AND l_shipdate < l_commitdate
          AND l_receiptdate >= TIMESTAMP '1994-01-01' AND l_receiptdate < TIMESTAMP '1995-01-01'
        GROUP BY l_shipmode ORDER BY l_shipmode
        """,
    )


def _q13_pandas(pd: Any, inputs: Mapping[str, Any]) -> Any:
    """Customer distribution: regex ``str.contains`` negated, left join, two group-bys."""
    customer, orders = read(pd, inputs, "customer"), read(pd, inputs, "orders")
    orders = orders[~orders["o_comment"].str.contains("special.*requests")]
    j = customer.merge(orders, left_on="c_custkey", right_on="o_custkey", how="left")
    counts = j.groupby("c_custkey", as_index=False).agg(c_count=("o_orderkey", "count"))
    out = counts.groupby("c_count", as_index=False).agg(custdist=("c_custkey", "size"))
    return out.sort_values(["custdist", "c_count"], ascending=[False, False]).reset_index(drop=True)


def _q13_polars(pl: Any, inputs: Mapping[str, Any]) -> Any:
    """q13 in Polars."""
    orders = scan(pl, inputs, "orders").filter(
        ~pl.col("o_comment").str.contains("special.*requests")
    )
    return (
        scan(pl, inputs, "customer")
        .join(orders, left_on="c_custkey", right_on="o_custkey", how="left")
        .group_by("c_custkey")
        .agg(c_count=pl.col("o_orderkey").count())
        .group_by("c_count")
        .agg(custdist=pl.len())
        .sort(["custdist", "c_count"], descending=[True, True])
        .collect()
    )


def _q13_duckdb(con: Any, inputs: Mapping[str, Any]) -> Any:
    """q13 in DuckDB SQL."""
    return sql(
        con,
        inputs,
        """
        SELECT c_count, count(*) AS custdist FROM (
          SELECT c_custkey, count(o_orderkey) AS c_count
          FROM {customer} LEFT OUTER JOIN {orders}
            ON c_custkey = o_custkey AND o_comment NOT LIKE '%special%requests%'
          GROUP BY c_custkey)
        GROUP BY c_count ORDER BY custdist DESC, c_count DESC
        """,
    )


def _q14_pandas(pd: Any, inputs: Mapping[str, Any]) -> Any:
    """Promotion effect: a month of lineitem joined to part, ``str.startswith``, ``where``."""
    lineitem, part = read(pd, inputs, "lineitem"), read(pd, inputs, "part")
    lineitem = lineitem[
        (lineitem["l_shipdate"] >= day(1995, 9, 1)) & (lineitem["l_shipdate"] < day(1995, 10, 1))
    ]
    j = lineitem.merge(part, left_on="l_partkey", right_on="p_partkey")
    revenue = j["l_extendedprice"] * (1 - j["l_discount"])
    promo = revenue.where(j["p_type"].str.startswith("PROMO"), 0.0)
    return 100.0 * promo.sum() / revenue.sum()


def _q14_polars(pl: Any, inputs: Mapping[str, Any]) -> Any:
    """q14 in Polars."""
    revenue = pl.col("l_extendedprice") * (1 - pl.col("l_discount"))
    promo = pl.when(pl.col("p_type").str.starts_with("PROMO")).then(revenue).otherwise(0.0)
    return (
        scan(pl, inputs, "lineitem")
        .filter(pl.col("l_shipdate").is_between(day(1995, 9, 1), day(1995, 10, 1), closed="left"))
        .join(scan(pl, inputs, "part"), left_on="l_partkey", right_on="p_partkey")
        .select(100.0 * promo.sum() / revenue.sum())
        .collect()
        .item()
    )


def _q14_duckdb(con: Any, inputs: Mapping[str, Any]) -> Any:
    """q14 in DuckDB SQL."""
    return sql_scalar(
        con,
        inputs,
        """
        SELECT 100.0 * sum(CASE WHEN p_type LIKE 'PROMO%'
                                THEN l_extendedprice * (1 - l_discount) ELSE 0 END)
               / sum(l_extendedprice * (1 - l_discount))
        FROM {lineitem}, {part}
        WHERE l_partkey = p_partkey
          AND l_shipdate >= TIMESTAMP '1995-09-01' AND l_shipdate < TIMESTAMP '1995-10-01'
        """,
    )


_Q18_KEYS = ["c_name", "c_custkey", "o_orderkey", "o_orderdate", "o_totalprice"]


def _q18_pandas(pd: Any, inputs: Mapping[str, Any]) -> Any:
    """Large-volume customers: a group-by filtered on its sum, joined back, top 100."""
    customer, orders = read(pd, inputs, "customer"), read(pd, inputs, "orders")
    lineitem = read(pd, inputs, "lineitem")
    per_order = lineitem.groupby("l_orderkey", as_index=False)["l_quantity"].sum()
    big = per_order[per_order["l_quantity"] > 300][["l_orderkey"]]
    j = orders.merge(big, left_on="o_orderkey", right_on="l_orderkey")[
        ["o_orderkey", "o_custkey", "o_orderdate", "o_totalprice"]
    ]
    j = j.merge(customer, left_on="o_custkey", right_on="c_custkey")
    j = j.merge(lineitem, left_on="o_orderkey", right_on="l_orderkey")
    out = j.groupby(_Q18_KEYS, as_index=False)["l_quantity"].sum()
    out = out.rename(columns={"l_quantity": "sum_qty"})
    out = out.sort_values(["o_totalprice", "o_orderdate"], ascending=[False, True])
    return out.head(100).reset_index(drop=True)


def _q18_polars(pl: Any, inputs: Mapping[str, Any]) -> Any:
    """q18 in Polars."""
    lineitem = scan(pl, inputs, "lineitem")
    big = (
        lineitem.group_by("l_orderkey")
        .agg(pl.col("l_quantity").sum())
        .filter(pl.col("l_quantity") > 300)
        .select("l_orderkey")
    )
    return (
        scan(pl, inputs, "orders")
        .join(big, left_on="o_orderkey", right_on="l_orderkey")
        .join(scan(pl, inputs, "customer"), left_on="o_custkey", right_on="c_custkey")
        .join(lineitem, left_on="o_orderkey", right_on="l_orderkey")
        .group_by(pl.col("c_name"), pl.col("o_custkey").alias("c_custkey"), *_Q18_KEYS[2:])
        .agg(sum_qty=pl.col("l_quantity").sum())
        .sort(["o_totalprice", "o_orderdate"], descending=[True, False])
        .head(100)
        .collect()
    )


def _q18_duckdb(con: Any, inputs: Mapping[str, Any]) -> Any:
    """q18 in DuckDB SQL."""
    keys = ", ".join(_Q18_KEYS)
    return sql(
        con,
        inputs,
        f"""
        SELECT {keys}, sum(l_quantity) AS sum_qty
        FROM {{customer}}, {{orders}}, {{lineitem}}
        WHERE o_orderkey IN (SELECT l_orderkey FROM {{lineitem}}
                             GROUP BY l_orderkey HAVING sum(l_quantity) > 300)
          AND c_custkey = o_custkey AND o_orderkey = l_orderkey
        GROUP BY {keys} ORDER BY o_totalprice DESC, o_orderdate LIMIT 100
        """,
    )


_Q19_BRANDS = (
    ("Brand#12", ("SM CASE", "SM BOX", "SM PACK", "SM PKG"), 1, 5),
    ("Brand#23", ("MED BAG", "MED BOX", "MED PKG", "MED PACK"), 10, 10),
    ("Brand#34", ("LG CASE", "LG BOX", "LG PACK", "LG PKG"), 20, 15),
)
"""q19's three (brand, containers, lowest quantity, largest size) conditions."""


def _q19_pandas(pd: Any, inputs: Mapping[str, Any]) -> Any:
    """Discounted revenue: a join, then an OR of three AND-ed conditions, one sum."""
    lineitem, part = read(pd, inputs, "lineitem"), read(pd, inputs, "part")
    j = lineitem.merge(part, left_on="l_partkey", right_on="p_partkey")
    keep = None
    for brand, containers, quantity, size in _Q19_BRANDS:
        one = (
            (j["p_brand"] == brand)
            & j["p_container"].isin(list(containers))
            & j["l_quantity"].between(quantity, quantity + 10)
            & j["p_size"].between(1, size)
        )
        keep = one if keep is None else keep | one
    common = j["l_shipmode"].isin(["AIR", "AIR REG"]) & (j["l_shipinstruct"] == "DELIVER IN PERSON")
    j = j[common & keep]
    return (j["l_extendedprice"] * (1 - j["l_discount"])).sum()


def _q19_polars(pl: Any, inputs: Mapping[str, Any]) -> Any:
    """q19 in Polars."""
    keep = pl.lit(False)
    for brand, containers, quantity, size in _Q19_BRANDS:
        keep = keep | (
            (pl.col("p_brand") == brand)
            & pl.col("p_container").is_in(list(containers))
            & pl.col("l_quantity").is_between(quantity, quantity + 10)
            & pl.col("p_size").is_between(1, size)
        )
    return (
        scan(pl, inputs, "lineitem")
        .join(scan(pl, inputs, "part"), left_on="l_partkey", right_on="p_partkey")
        .filter(
            pl.col("l_shipmode").is_in(["AIR", "AIR REG"]),
            pl.col("l_shipinstruct") == "DELIVER IN PERSON",
            keep,
        )
        .select((pl.col("l_extendedprice") * (1 - pl.col("l_discount"))).sum())
        .collect()
        .item()
    )


def _q19_duckdb(con: Any, inputs: Mapping[str, Any]) -> Any:
    """q19 in DuckDB SQL."""
    ors = " OR ".join(
        f"(p_brand = '{brand}' AND p_container IN ({', '.join(repr(c) for c in containers)}) "
        f"AND l_quantity BETWEEN {quantity} AND {quantity + 10} AND p_size BETWEEN 1 AND {size})"
        for brand, containers, quantity, size in _Q19_BRANDS
    )
    return sql_scalar(
        con,
        inputs,
        f"""
        SELECT sum(l_extendedprice * (1 - l_discount)) FROM {{lineitem}}, {{part}}
        WHERE p_partkey = l_partkey AND l_shipmode IN ('AIR', 'AIR REG')
          AND l_shipinstruct = 'DELIVER IN PERSON' AND ({ors})
        """,
    )


QUERIES = (
    Query(
        "q10",
        "4 tables, 3 joins, date range, group by 7 keys, nlargest(20)",
        ("customer", "orders", "lineitem", "nation"),
        _q10_pandas,
        _q10_polars,
        _q10_duckdb,
    ),
    Query(
        "q12",
        "isin, column-vs-column date comparisons, a join, boolean counts by ship mode",
        ("orders", "lineitem"),
        _q12_pandas,
        _q12_polars,
        _q12_duckdb,
    ),
    Query(
        "q13",
        "negated regex str.contains, a left join, group-by of a group-by, sort 2 keys",
        ("customer", "orders"),
        _q13_pandas,
        _q13_polars,
        _q13_duckdb,
    ),
    Query(
        "q14",
        "a month of lineitem joined to part, str.startswith, where, ratio of two sums",
        ("lineitem", "part"),
        _q14_pandas,
        _q14_polars,
        _q14_duckdb,
    ),
    Query(
        "q18",
        "group-by filtered on its sum (semi join), 3 tables, group by 5 keys, top 100",
        ("customer", "orders", "lineitem"),
        _q18_pandas,
        _q18_polars,
        _q18_duckdb,
    ),
    Query(
        "q19",
        "join then an OR of three AND-ed conditions (==, isin, between), one sum",
        ("lineitem", "part"),
        _q19_pandas,
        _q19_polars,
        _q19_duckdb,
    ),
)
