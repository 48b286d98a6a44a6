"""Row code for ``.str`` and ``.dt`` expressions.

pandas 3 stores ``str`` columns in Arrow and runs ``.str`` methods with Arrow compute (RE2
for regular expressions). For ASCII text the generated code uses ``str`` methods and
precompiled ``re`` patterns, which agree with Arrow there; a non-ASCII value takes the exact
slow path (``_pdstr``: pandas itself on a one-element Series). Patterns whose Python and RE2
meanings may differ (``$``, look-arounds, back-references, patterns matching the empty
string where that matters) are declined.
"""

from __future__ import annotations

import re
from typing import Any

from pandas.api.extensions import no_default

from ...ir import strings as st
from ...ir import temporal as tm
from .values import BOOL, I32, I64, STR, Decline, Val

__all__ = ["StringGen"]

_META = set(".^$*+?{}[]\\|()")
_SAFE_ESCAPES = set("dwsDWSntr") | _META | set("-/ '\"#&%!,:;<=>@_`~")
_CASES = {"lower", "upper", "title", "capitalize", "swapcase", "casefold"}
_PREDICATES = {
    "isalpha",
    "isdigit",
    "isnumeric",
    "isalnum",
    "isspace",
    "islower",
    "isupper",
    "istitle",
    "isdecimal",
}
_FIELDS = {
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "microsecond",
    "nanosecond",
    "day_of_week",
    "day_of_year",
    "quarter",
    "days_in_month",
}


_NO_STR = "Can only use .str accessor with string values, not floating"


def _literal(pat: str) -> bool:
    return not (set(pat) & _META)


def _simple_regex(pat: str, allow_empty: bool) -> bool:
    """Whether Python's ``re`` and RE2 agree on ``pat`` for ASCII text."""
    if "$" in pat or "(?" in pat or "\\b" in pat or "\\B" in pat:
        return False
    i = 0
    while i < len(pat):
        if pat[i] == "\\":
            if i + 1 >= len(pat) or pat[i + 1] not in _SAFE_ESCAPES:
                return False
            i += 2
            continue
        i += 1
    try:
        compiled = re.compile(pat)
    except re.error:
        return False
    return allow_empty or (compiled.fullmatch("") is None and "^" not in pat.replace("[^", "["))


class StringGen:
    """``gen_<Str*/Dt*>`` methods; mixed into the plan generator with ``ExprGen``."""

    frame_mode: bool
    stage: int

    def expr(self, e: Any) -> Val:
        raise NotImplementedError

    def static(self, e: Any, what: str) -> Val:
        raise NotImplementedError

    def tmp(self, code: str) -> str:
        raise NotImplementedError

    def const(self, obj: Any) -> str:
        raise NotImplementedError

    def dyn(self, code: str, base: Val | None = None, dtype: Any = I64, small: bool = False) -> Val:
        raise NotImplementedError

    def literal(self, v: Any) -> Val:
        raise NotImplementedError

    def new_flag(self) -> int:
        raise NotImplementedError

    def new_check(self) -> int:
        raise NotImplementedError

    def emit(self, line: str) -> None:
        raise NotImplementedError

    def text(self, e: Any, what: str) -> Val:
        v = self.static(e, what)
        if v.kind != "s" or v.is_lit:
            raise Decline(f"rows: .str.{what} of {v.dtype}")
        return v

    def _str(self, v: Val, fast: str, method: str, *args: Any) -> str:
        """Code for a str result: ``fast`` for ASCII, pandas itself otherwise; None stays."""
        extra = "".join(f", {self.const(a)}" for a in args)
        slow = f"_pdstr({method!r}, {v.code}{extra})"
        return f"None if {v.code} is None else ({fast} if {v.code}.isascii() else {slow})"

    def _na(self, na: Any) -> str:
        if na is no_default:
            return "False"
        if isinstance(na, bool):
            return repr(na)
        raise Decline(f"rows: na={na!r} (the result dtype would depend on the data)")

    # str -> str -------------------------------------------------------------------------------
    def gen_StrCase(self, e: st.StrCase) -> Val:
        v = self.text(e.input, e.how)
        if e.how not in _CASES:
            raise Decline(f"rows: .str.{e.how}")
        return Val(self.tmp(self._str(v, f"{v.code}.{e.how}()", e.how)), "s", STR)

    def gen_StrStrip(self, e: st.StrStrip) -> Val:
        method = {"both": "strip", "left": "lstrip", "right": "rstrip"}[e.side]
        v = self.text(e.input, method)
        arg = "" if e.to_strip is None else repr(e.to_strip)
        code = self._str(v, f"{v.code}.{method}({arg})", method, e.to_strip)
        return Val(self.tmp(code), "s", STR)

    def gen_StrReplace(self, e: st.StrReplace) -> Val:
        v = self.text(e.input, "replace")
        if e.case is False or e.flags or not e.pat or not isinstance(e.repl, str):
            raise Decline("rows: .str.replace with case/flags, an empty or callable pattern")
        n = e.n if e.n is not None and e.n >= 0 else -1
        if not e.regex or _literal(e.pat):
            return Val(self.tmp(self._plain_replace(v, e.pat, e.repl, n)), "s", STR)
        if not _simple_regex(e.pat, allow_empty=False) or "\\" in e.repl or "$" in e.repl:
            raise Decline(f"rows: regular expression {e.pat!r} (Python and RE2 may differ)")
        pat = self.const(re.compile(e.pat))
        fast = f"{pat}.sub({e.repl!r}, {v.code}, {max(n, 0)})"
        args: tuple[Any, ...] = (e.pat, e.repl, n, None, 0, True)
        return Val(self.tmp(self._str(v, fast, "replace", *args)), "s", STR)

    def _plain_replace(self, v: Val, pat: str, repl: str, n: int) -> str:
        return f"None if {v.code} is None else {v.code}.replace({pat!r}, {repl!r}, {n})"

    def gen_StrSlice(self, e: st.StrSlice) -> Val:
        v = self.text(e.input, "slice")
        if e.step == 0:
            raise Decline("rows: .str.slice with step 0")
        code = f"None if {v.code} is None else {v.code}[{e.start}:{e.stop}:{e.step}]"
        return Val(self.tmp(code), "s", STR)

    def gen_StrCat(self, e: st.StrCat) -> Val:
        vals = [self.text(e.input, "cat")] + [self.text(o, "cat") for o in e.others]
        if not e.others:
            raise Decline("rows: .str.cat reduction")
        sep = e.sep or ""
        if e.na_rep is None:
            guard = " or ".join(f"{v.code} is None" for v in vals)
            joined = f"{sep!r}.join(({', '.join(v.code for v in vals)},))"
            return Val(self.tmp(f"None if {guard} else {joined}"), "s", STR)
        parts = ", ".join(f"{e.na_rep!r} if {v.code} is None else {v.code}" for v in vals)
        return Val(self.tmp(f"{sep!r}.join(({parts},))"), "s", STR)

    # str -> bool ------------------------------------------------------------------------------
    def gen_StrContains(self, e: st.StrContains) -> Val:
        v = self.text(e.input, "contains")
        na = self._na(e.na)
        if e.flags:
            raise Decline("rows: .str.contains with flags")
        if not e.regex or _literal(e.pat):
            if e.case:
                return Val(
                    self.tmp(f"{na} if {v.code} is None else {e.pat!r} in {v.code}"), "b", BOOL
                )
            if not e.pat.isascii():
                raise Decline("rows: case-insensitive .str.contains of non-ASCII text")
            fast = f"{e.pat.lower()!r} in {v.code}.lower()"
        else:
            if not _simple_regex(e.pat, allow_empty=True):
                raise Decline(f"rows: regular expression {e.pat!r} (Python and RE2 may differ)")
            flags = 0 if e.case else re.IGNORECASE
            fast = f"{self.const(re.compile(e.pat, flags))}.search({v.code}) is not None"
        slow = (
            f"_pdstr('contains', {v.code}, {self.const(e.pat)}, {e.case!r}, 0, False, {e.regex!r})"
        )
        code = f"{na} if {v.code} is None else ({fast} if {v.code}.isascii() else {slow})"
        return Val(self.tmp(code), "b", BOOL)

    def _affix(self, e: Any, method: str) -> Val:
        v = self.text(e.input, method)
        pat = e.pat
        if not (
            isinstance(pat, str)
            or (isinstance(pat, tuple) and all(isinstance(p, str) for p in pat))
        ):
            raise Decline(f"rows: .str.{method}({pat!r})")
        code = f"{self._na(e.na)} if {v.code} is None else {v.code}.{method}({pat!r})"
        return Val(self.tmp(code), "b", BOOL)

    def gen_StrStartsWith(self, e: st.StrStartsWith) -> Val:
        return self._affix(e, "startswith")

    def gen_StrEndsWith(self, e: st.StrEndsWith) -> Val:
        return self._affix(e, "endswith")

    # lengths and lists ------------------------------------------------------------------------
    def gen_StrLen(self, e: st.StrLen) -> Val:
        v = self.static(e.input, "len")
        if v.kind not in ("s", "L") or v.is_lit:
            raise Decline(f"rows: .str.len of {v.dtype}")
        if v.kind == "L":  # pandas: no .str accessor on an object column of only missing values
            if self.frame_mode:
                self.emit(f"if {v.code} is not None: F[{self.new_check()}] = 1")
            else:
                self.emit(f"if {v.code} is None: raise AttributeError({_NO_STR!r})")
        return self.dyn(f"NAN if {v.code} is None else len({v.code})", small=True)

    def gen_StrSplit(self, e: st.StrSplit) -> Val:
        v = self.text(e.input, "split")
        n = -1 if e.n in (None, 0, -1) else e.n
        if e.pat is None:
            fast = f"{v.code}.split(None, {n})"
            slow = f"_pdstr('split', {v.code}, None, {n})"
            code = f"None if {v.code} is None else ({fast} if {v.code}.isascii() else {slow})"
        elif (
            isinstance(e.pat, str)
            and e.pat
            and e.regex is not True
            and (len(e.pat) == 1 or _literal(e.pat))
        ):
            code = f"None if {v.code} is None else {v.code}.split({e.pat!r}, {n})"
        else:
            raise Decline(f"rows: .str.split({e.pat!r}, regex={e.regex!r})")
        return Val(self.tmp(code), "L", None)

    def gen_StrGet(self, e: st.StrGet) -> Val:
        v = self.text(e.input, "get")
        i = int(e.i)
        out_of_range = f"not -len({v.code}) <= {i} < len({v.code})"
        code = f"None if {v.code} is None or {out_of_range} else {v.code}[{i}]"
        return Val(self.tmp(code), "s", STR)

    def gen_StrMethod(self, e: st.StrMethod) -> Val:
        v = self.text(e.input, e.method)
        args, kwargs = tuple(e.args), dict(e.kwargs)
        m = e.method
        if m in _PREDICATES and not args and not kwargs:
            fast, slow = f"{v.code}.{m}()", f"_pdstr({m!r}, {v.code})"
            code = f"False if {v.code} is None else ({fast} if {v.code}.isascii() else {slow})"
            return Val(self.tmp(code), "b", BOOL)
        if m == "count" and len(args) == 1 and not kwargs and isinstance(args[0], str):
            pat = args[0]
            if _literal(pat) and pat:
                return self.dyn(f"NAN if {v.code} is None else {v.code}.count({pat!r})", small=True)
            if _simple_regex(pat, allow_empty=False):
                fast = f"len({self.const(re.compile(pat))}.findall({v.code}))"
                slow = f"_pdstr('count', {v.code}, {pat!r})"
                code = f"NAN if {v.code} is None else ({fast} if {v.code}.isascii() else {slow})"
                return self.dyn(code, small=True)
        if m in ("find", "rfind") and len(args) == 1 and not kwargs and isinstance(args[0], str):
            fast = f"{v.code}.{m}({args[0]!r})"
            slow = f"_pdstr({m!r}, {v.code}, {args[0]!r})"
            return self.dyn(
                f"NAN if {v.code} is None else ({fast} if {v.code}.isascii() else {slow})",
                small=True,
            )
        if m in ("removeprefix", "removesuffix") and len(args) == 1 and isinstance(args[0], str):
            code = f"None if {v.code} is None else {v.code}.{m}({args[0]!r})"
            return Val(self.tmp(code), "s", STR)
        if m == "repeat" and len(args) == 1 and type(args[0]) is int and not kwargs:
            return Val(self.tmp(f"None if {v.code} is None else {v.code} * {args[0]}"), "s", STR)
        raise Decline(f"rows: .str.{m}{args!r}")

    # datetimes --------------------------------------------------------------------------------
    def gen_DtField(self, e: tm.DtField) -> Val:
        v = self.static(e.input, f".dt.{e.field}")
        field = tm.DT_ALIASES.get(e.field, e.field)
        if v.kind != "M" or v.is_lit:
            raise Decline(f"rows: .dt.{e.field} of {v.dtype}")
        if field in ("is_month_start", "is_month_end"):
            return Val(self.tmp(f"False if {v.code} is NaT else {v.code}.{field}"), "b", BOOL)
        if field not in _FIELDS:
            raise Decline(f"rows: .dt.{e.field}")
        return self.dyn(f"NAN if {v.code} is NaT else {v.code}.{field}", dtype=I32, small=True)
