"""The ``.str`` accessor, on the standard ``s`` column (has None) and on a column without
missing values."""

from __future__ import annotations

import numpy as np
import pandas
import pytest

import litsdf

from .data import frame

FULL = ["  Alpha", "beta  ", "Gamma ray", "delta-Delta", "EPSILON", "zeta_z", "eta", "Theta,x"]


def col(pd, which):
    """Column ``s`` (with None) or ``full`` (no missing values) of the standard frame."""
    return frame(pd, full=FULL)[which]


WHICH = ["s", "full"]


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize(
    "method",
    [
        "lower",
        "upper",
        "title",
        "capitalize",
        "swapcase",
        "casefold",
        "strip",
        "lstrip",
        "rstrip",
        "len",
    ],
)
def test_no_arg_methods(compare, which, method):
    compare(lambda pd: getattr(col(pd, which).str, method)())


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize("method", ["strip", "lstrip", "rstrip"])
@pytest.mark.parametrize("to_strip", [" ae", "x,", ""])
def test_strip_chars(compare, which, method, to_strip):
    compare(lambda pd: getattr(col(pd, which).str, method)(to_strip))


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize(
    "kwargs",
    [
        {"pat": "an"},
        {"pat": "^[a-c]"},
        {"pat": "a.", "regex": False},
        {"pat": "."},
        {"pat": ".", "regex": False},
        {"pat": "APPLE", "case": False},
        {"pat": "e", "na": False},
        {"pat": "e", "na": True},
        {"pat": "a|e", "case": False, "na": False},
        {"pat": "(x"},
        {"pat": "(x", "regex": False},
    ],
    ids=repr,
)
def test_contains(compare, which, kwargs):
    compare(lambda pd: col(pd, which).str.contains(**kwargs))


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize("method", ["startswith", "endswith"])
@pytest.mark.parametrize("pat", ["a", "e", ("a", "b"), ("e ", "ie", "a"), ""])
def test_startswith_endswith(compare, which, method, pat):
    compare(lambda pd: getattr(col(pd, which).str, method)(pat))


@pytest.mark.parametrize("method", ["startswith", "endswith"])
@pytest.mark.parametrize("na", [False, True])
def test_startswith_endswith_na(compare, method, na):
    compare(lambda pd: getattr(col(pd, "s").str, method)("b", na=na))


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize(
    "kwargs",
    [
        {"pat": "a", "repl": "A"},
        {"pat": "a", "repl": "A", "n": 1},
        {"pat": ".", "repl": "_"},
        {"pat": ".", "repl": "_", "regex": True},
        {"pat": r"(\w)(\w)", "repl": r"\2\1", "regex": True},
        {"pat": "A", "repl": "@", "case": False, "regex": True},
        {"pat": "e", "repl": ""},
        {"pat": r"\s+", "repl": " ", "regex": True, "n": 1},
    ],
    ids=repr,
)
def test_replace(compare, which, kwargs):
    compare(lambda pd: col(pd, which).str.replace(**kwargs))


def test_replace_case_without_regex_raises(compare):
    compare(lambda pd: col(pd, "s").str.replace("a", "b", case=False, regex=False))


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize(
    "bounds", [(1, 3), (None, 2), (-3, None), (None, None, 2), (2, 1), (0, 10, -1)]
)
def test_slice(compare, which, bounds):
    compare(lambda pd: col(pd, which).str.slice(*bounds))
    compare(lambda pd: col(pd, which).str[slice(*bounds)])


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize("i", [0, 1, -1, 20])
def test_get_char(compare, which, i):
    compare(lambda pd: col(pd, which).str.get(i))
    compare(lambda pd: col(pd, which).str[i])


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize("pat", [None, "a", " ", "-"])
def test_split_len_get(compare, which, pat):
    compare(lambda pd: col(pd, which).str.split(pat).str.len())
    compare(lambda pd: col(pd, which).str.split(pat).str.get(0))
    compare(lambda pd: col(pd, which).str.split(pat).str.get(-1))


def test_split_n_and_regex(compare):
    compare(lambda pd: col(pd, "full").str.split("a", n=1).str.get(1))
    compare(lambda pd: col(pd, "full").str.split(r"[-_,]", regex=True).str.len())


@pytest.mark.parametrize("kwargs", [{}, {"sep": "-"}, {"na_rep": "?"}, {"sep": "|", "na_rep": ""}])
@pytest.mark.parametrize("others", ["k", "full", "k+full"])
def test_cat_columns(compare, kwargs, others):
    def case(pd):
        df = frame(pd, full=FULL)
        other = [df["k"], df["full"]] if others == "k+full" else df[others]
        return df["s"].str.cat(other, **kwargs)

    compare(case)


@pytest.mark.parametrize("kwargs", [{}, {"sep": ", "}, {"na_rep": "?"}, {"sep": "|", "na_rep": ""}])
@pytest.mark.parametrize("which", ["s", "full", "k"])
def test_cat_all_values_to_one_string(compare, kwargs, which):
    def filtered(pd):
        s = col(pd, which)
        return s.str.upper()[s.notna()].str.cat(**kwargs)

    compare(lambda pd: col(pd, which).str.cat(**kwargs))
    compare(filtered)


def test_chained_string_ops(compare):
    compare(lambda pd: col(pd, "s").str.strip().str.lower().str.replace("a", "4").str.len() + 1)

    def case(pd):
        df = frame(pd)
        return df[df["s"].str.contains("a", na=False)]["s"].str.upper()

    compare(case)


def test_str_accessor_on_numbers_raises(compare):
    compare(lambda pd: frame(pd)["i"].str.lower())


def test_str_concat_operator_chain(compare):
    def case(pd):
        df = frame(pd, full=FULL)
        return "<" + df["full"].str.strip() + ">" + df["k"]

    compare(case)


def test_untraced_str_method_falls_back():
    with litsdf.option_context(fallback="warn"):
        with pytest.warns(litsdf.FallbackWarning):
            got = litsdf.DataFrame({"a": ["x1", "y22"]})["a"].str.extract(r"(\d+)")
        pandas.testing.assert_frame_equal(
            got.to_pandas(), pandas.DataFrame({"a": ["x1", "y22"]})["a"].str.extract(r"(\d+)")
        )


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize(
    "call",
    [
        ("zfill", (12,), {}),
        ("pad", (12,), {"side": "both", "fillchar": "*"}),
        ("center", (11, "."), {}),
        ("ljust", (10,), {}),
        ("rjust", (10, "-"), {}),
        ("count", ("a",), {}),
        ("count", ("[ae]",), {"flags": 2}),
        ("find", ("a",), {}),
        ("rfind", ("a",), {"start": 1}),
        ("repeat", (2,), {}),
        ("isalpha", (), {}),
        ("isdigit", (), {}),
        ("isspace", (), {}),
        ("islower", (), {}),
        ("isupper", (), {}),
        ("istitle", (), {}),
        ("isalnum", (), {}),
        ("match", ("[a-e]",), {}),
        ("match", ("b",), {"case": False, "na": False}),
        ("fullmatch", (r"\w+",), {}),
        ("removeprefix", ("ba",), {}),
        ("removesuffix", ("a",), {}),
        ("slice_replace", (1, 3, "##"), {}),
        ("normalize", ("NFKD",), {}),
        ("pad", ("x",), {}),
        ("zfill", ("3",), {}),
    ],
    ids=lambda c: f"{c[0]}{c[1]!r}{c[2]!r}",
)
def test_generic_methods(compare, which, call):
    name, args, kwargs = call
    compare(lambda pd: getattr(col(pd, which).str, name)(*args, **kwargs))


# text chains (the arrow backend runs them in Arrow, over row slices in threads) -------------
TEXT = [
    "  Héllo, Wörld!  ",
    "",
    None,
    "ÀÉÎ -- 5/5",
    "ok.",
    "   ",
    "İstanbul ǅ straße",
    "aaa  b   c",
    "Great product! WOULD buy",
    "\tTabs\tand\nnewlines ",
]


@pytest.fixture(params=["whole", "sliced"])
def slicing(request):
    """Each case on whole columns, and with every large-input split forced: the arrow backend
    then evaluates each ``Compute`` over 3 row slices in threads and concatenates them (other
    backends are unaffected)."""
    if request.param == "whole":
        yield
        return
    from litsdf_compiler.backends.arrow.threads import parallelism

    with parallelism(min_rows=1, workers=3):
        yield


def text_frame(pd):
    """Free text with None, empty and blank strings and non-ASCII letters, a price with NaN
    and a category with an unknown value and None."""
    n = len(TEXT)
    return pd.DataFrame(
        {
            "text": pandas.array(TEXT, dtype="str"),
            "price": [1.5, float("nan"), 0.0, 20.25, -0.5, 3.0, float("nan"), 1e6, 7.0, 2.0],
            "category": pandas.array(
                ["books", "toys", None, "food", "other", "tools", "books", "", "toys", "x"][:n],
                dtype="str",
            ),
        }
    )


CATEGORY = {"books": 0, "toys": 1, "food": 2, "tools": 3}


def test_text_pipeline_chain(compare, slicing):
    """The text_pipeline workload's ten steps, on text with missing, empty and non-ASCII
    values (shared sub-expressions, a literal count, a ufunc, a map with misses, a filter)."""

    def case(pd):
        df = text_frame(pd)
        df["text"] = df["text"].fillna("")
        df["clean"] = df["text"].str.lower()
        df["clean"] = df["clean"].str.replace(r"[^a-z0-9 ]+", " ", regex=True)
        df["clean"] = df["clean"].str.strip()
        df["n_tokens"] = df["clean"].str.count(" ") + 1
        df["length"] = df["clean"].str.len()
        df["price"] = df["price"].fillna(0.0)
        df["log_price"] = np.log1p(df["price"]).clip(0.0, 5.0)
        df["cat_id"] = df["category"].map(CATEGORY)
        return df[df["length"] > 0]

    compare(case)


@pytest.mark.parametrize("method", ["lower", "upper", "casefold", "strip", "lstrip", "len"])
def test_non_ascii_text(compare, slicing, method):
    compare(lambda pd: getattr(text_frame(pd)["text"].str, method)())
    compare(lambda pd: getattr(text_frame(pd)["text"].fillna("").str, method)())


@pytest.mark.parametrize("pat", [" ", "aa", "é", "  ", "a|e", "[ ]+", ".", r"\s", "", r"\bo"])
def test_count(compare, slicing, pat):
    """``str.count``: literal patterns (counted without a regex, non-overlapping) and regex
    ones, on values with None and on filled values."""
    compare(lambda pd: text_frame(pd)["text"].str.count(pat))
    compare(lambda pd: text_frame(pd)["text"].fillna("").str.count(pat) + 1)


@pytest.mark.parametrize(
    "pat",
    [
        r"[^a-z0-9 ]+",
        r"\s+",
        pytest.param(
            r"[[:punct:]]",
            marks=pytest.mark.xfail_backend(
                "rows",
                reason="rows runs Python's re, where [[:punct:]] is a character set followed "
                "by ']'; pandas runs RE2, where it is the POSIX class of punctuation",
            ),
        ),
        r"\w+",
        r"\d",
        r"(\w)\1",
        r"o(?=r)",
        r"(?i)é",
        r"\bo",
        r"^\s+|\s+$",
        r"\Z",
    ],
)
def test_regex_replace(compare, slicing, pat):
    """Regex replacements, both those pandas runs by RE2 and those it runs by Python's ``re``
    (backreferences, lookaheads, Unicode classes): the result is pandas' either way."""
    compare(lambda pd: text_frame(pd)["text"].str.replace(pat, "_", regex=True))
    compare(
        lambda pd: text_frame(pd)["text"].str.lower().str.replace(pat, " ", regex=True).str.len()
    )


ASCII_TEXT = [" \t a B\n", "\x0bb\x0c", "\x1cc\x1f", "\r\nD E\r", None, "", "   ", "\x00z\x7f", "Q"]


@pytest.mark.parametrize("method", ["lower", "upper", "strip", "lstrip", "rstrip", "len"])
def test_ascii_only_text(compare, slicing, method):
    """All-ASCII text (the arrow backend's ascii_* kernels) with every ASCII whitespace and
    the separators \\x1c-\\x1f, which Python's isspace counts and Unicode does not."""
    compare(lambda pd: getattr(pd.Series(pandas.array(ASCII_TEXT, dtype="str")).str, method)())
