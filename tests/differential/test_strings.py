"""The ``.str`` accessor, on the standard ``s`` column (has None) and on a column without
missing values."""

from __future__ import annotations

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
