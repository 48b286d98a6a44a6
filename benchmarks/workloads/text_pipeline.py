"""``text_pipeline``: the 10-step text-preprocessing pipeline of the serving use case.

One function in the pandas API (``pipeline``) cleans a free-text column and derives features:
fill missing text, lowercase, a regex replace, strip, a token count, a length, a missing-price
fill, ``log1p`` + ``clip``, a dict ``map`` of a category, and a filter. Served one row at a time
this is where pandas' per-call overhead dominates (milliseconds for one row); the compiled
pipeline runs it as generated Python over dicts (``transform_row``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas

NAME = "text_pipeline"
DESCRIPTION = """
Serving-style text preprocessing, 10 steps: fillna on text, lower, regex replace of
non-alphanumerics, strip, token count, length, fillna on a price, log1p + clip, a dict map of a
category (unknown categories -> NaN), and a filter on the cleaned length (about 95% kept).
Input: text (str, 5% missing), price (float64, 5% NaN), category (str).
"""
SIZES = (1, 100, 10_000, 1_000_000)
QUICK_SIZES = (1, 100)

CATEGORY = {"books": 0, "toys": 1, "food": 2, "tools": 3}
_WORDS = np.array(["Great", "product!", "WOULD", "buy", "again", "--", "5/5", "meh", "  ", "ok."])
_PATTERN = r"[^a-z0-9 ]+"


def make_inputs(n_rows: int, seed: int) -> dict[str, pandas.DataFrame]:
    """Generate ``{"t": frame}`` with text, price and category columns (deterministic)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 8, n_rows)
    words = _WORDS[rng.integers(0, len(_WORDS), int(lengths.sum()))]
    splits = np.cumsum(lengths)[:-1]
    text: list[Any] = [" ".join(w) for w in np.split(words, splits)] if n_rows else []
    for i in np.flatnonzero(rng.random(n_rows) < 0.05):
        text[i] = None
    price = np.round(rng.gamma(2.0, 20.0, n_rows), 2)
    price[rng.random(n_rows) < 0.05] = np.nan
    cats = np.array([*CATEGORY, "other"])[rng.integers(0, len(CATEGORY) + 1, n_rows)]
    frame = pandas.DataFrame(
        {"text": pandas.array(text, dtype="str"), "price": price, "category": cats}
    )
    frame["category"] = frame["category"].astype("str")
    return {"t": frame}


def pipeline(df: Any) -> Any:
    """The pipeline on one DataFrame (pandas or litsdf), as a user writes it."""
    df["text"] = df["text"].fillna("")
    df["clean"] = df["text"].str.lower()
    df["clean"] = df["clean"].str.replace(_PATTERN, " ", regex=True)
    df["clean"] = df["clean"].str.strip()
    df["n_tokens"] = df["clean"].str.count(" ") + 1
    df["length"] = df["clean"].str.len()
    df["price"] = df["price"].fillna(0.0)
    df["log_price"] = np.log1p(df["price"]).clip(0.0, 5.0)
    df["cat_id"] = df["category"].map(CATEGORY)
    return df[df["length"] > 0]


def pandas_like(pd: Any, inputs: Mapping[str, Any]) -> Any:
    """Run :func:`pipeline` on the input frame (``pd`` is pandas or litsdf)."""
    return pipeline(inputs["t"])


def python_row(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """The same pipeline hand-written for one dict: the floor any row engine can reach."""
    text = row["text"]
    text = "" if text is None or text != text else text
    clean = re.sub(_PATTERN, " ", text.lower()).strip()
    if len(clean) <= 0:
        return None
    price = row["price"]
    price = 0.0 if price != price else price
    cat = CATEGORY.get(row["category"], float("nan"))
    return {
        "text": text,
        "price": price,
        "category": row["category"],
        "clean": clean,
        "n_tokens": clean.count(" ") + 1,
        "length": len(clean),
        "log_price": min(max(math.log1p(price), 0.0), 5.0),
        "cat_id": cat,
    }


def polars(pl: Any, inputs: Mapping[str, Any]) -> Any:
    """The pipeline in Polars (lazy)."""
    clean = (
        pl.col("text")
        .fill_null("")
        .str.to_lowercase()
        .str.replace_all(_PATTERN, " ")
        .str.strip_chars()
    )
    cats = pl.col("category").replace_strict(CATEGORY, default=None, return_dtype=pl.Float64)
    return (
        inputs["t"]
        .lazy()
        .with_columns(pl.col("text").fill_null(""), clean.alias("clean"))
        .with_columns(
            (pl.col("clean").str.count_matches(" ", literal=True) + 1).alias("n_tokens"),
            pl.col("clean").str.len_chars().alias("length"),
            pl.col("price").fill_nan(0.0).fill_null(0.0),
        )
        .with_columns(
            pl.col("price").log1p().clip(0.0, 5.0).alias("log_price"),
            cats.alias("cat_id"),
        )
        .filter(pl.col("length") > 0)
    )
