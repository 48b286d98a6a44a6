"""numba groupby kernels (one per reduction, like pandas/core/_numba/kernels), compiled on
first use and cached on disk. ``codes`` are group numbers (-1: the row belongs to no group,
e.g. a NaN key under ``dropna=True``); each kernel mirrors pandas' Cython loop (Kahan-
compensated sums, Welford variance) so results match it to the last bits."""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["group_size", "group_count_float", "group_sum", "group_mean", "group_minmax"]
__all__ += ["group_var", "group_nunique"]


@njit(cache=True, nogil=True)
def group_size(codes, ngroups):  # type: ignore[no-untyped-def]
    out = np.zeros(ngroups, dtype=np.int64)
    for i in range(codes.shape[0]):
        c = codes[i]
        if c >= 0:
            out[c] += 1
    return out


@njit(cache=True, nogil=True)
def group_count_valid(codes, valid, ngroups):  # type: ignore[no-untyped-def]
    out = np.zeros(ngroups, dtype=np.int64)
    for i in range(codes.shape[0]):
        c = codes[i]
        if c >= 0 and valid[i]:
            out[c] += 1
    return out


@njit(cache=True, nogil=True)
def group_count_float(codes, values, ngroups):  # type: ignore[no-untyped-def]
    out = np.zeros(ngroups, dtype=np.int64)
    for i in range(codes.shape[0]):
        c = codes[i]
        v = values[i]
        if c >= 0 and v == v:
            out[c] += 1
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _kahan_sums(codes, values, ngroups):  # type: ignore[no-untyped-def]
    """Per-group sums of the non-NaN values with Kahan compensation (as pandas sums), and
    their counts."""
    sumx = np.zeros(ngroups, dtype=np.float64)
    comp = np.zeros(ngroups, dtype=np.float64)
    nobs = np.zeros(ngroups, dtype=np.int64)
    for i in range(codes.shape[0]):
        c = codes[i]
        if c < 0:
            continue
        v = values[i]
        if v == v:
            nobs[c] += 1
            y = v - comp[c]
            t = sumx[c] + y
            comp[c] = t - sumx[c] - y
            if comp[c] != comp[c]:
                comp[c] = 0.0
            sumx[c] = t
    return sumx, nobs


@njit(cache=True, nogil=True, error_model="numpy")
def group_sum(codes, values, ngroups, min_count):  # type: ignore[no-untyped-def]
    """Float sums with Kahan compensation (pandas ``group_sum``); NaN below min_count."""
    sumx, nobs = _kahan_sums(codes, values, ngroups)
    for g in range(ngroups):
        if nobs[g] < min_count:
            sumx[g] = np.nan
    return sumx


@njit(cache=True, nogil=True)
def group_sum_int(codes, values, ngroups):  # type: ignore[no-untyped-def]
    out = np.zeros(ngroups, dtype=values.dtype)
    for i in range(codes.shape[0]):
        c = codes[i]
        if c >= 0:
            out[c] += values[i]
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def group_mean(codes, values, ngroups):  # type: ignore[no-untyped-def]
    """pandas ``group_mean``: Kahan-compensated sum over the non-NaN values / their count."""
    sumx, nobs = _kahan_sums(codes, values, ngroups)
    out = np.empty(ngroups, dtype=np.float64)
    for g in range(ngroups):
        out[g] = np.nan if nobs[g] == 0 else sumx[g] / nobs[g]
    return out


@njit(cache=True, nogil=True)
def group_minmax(codes, values, ngroups, is_max, init):  # type: ignore[no-untyped-def]
    """pandas ``group_min_max``: NaN skipped; a group without values gives NaN."""
    out = np.full(ngroups, init, dtype=values.dtype)
    nobs = np.zeros(ngroups, dtype=np.int64)
    for i in range(codes.shape[0]):
        c = codes[i]
        if c < 0:
            continue
        v = values[i]
        if v == v:
            nobs[c] += 1
            if is_max:
                if v > out[c]:
                    out[c] = v
            elif v < out[c]:
                out[c] = v
    return out, nobs


@njit(cache=True, nogil=True, error_model="numpy")
def group_var(codes, values, ngroups, ddof, is_std):  # type: ignore[no-untyped-def]
    """pandas ``group_var`` (Welford); NaN where a group has ``ddof`` values or fewer."""
    mean = np.zeros(ngroups, dtype=np.float64)
    out = np.zeros(ngroups, dtype=np.float64)
    nobs = np.zeros(ngroups, dtype=np.int64)
    for i in range(codes.shape[0]):
        c = codes[i]
        if c < 0:
            continue
        v = values[i]
        if v == v:
            nobs[c] += 1
            old = mean[c]
            mean[c] += (v - old) / nobs[c]
            out[c] += (v - mean[c]) * (v - old)
    for g in range(ngroups):
        ct = nobs[g]
        if ct <= ddof:
            out[g] = np.nan
        elif is_std:
            out[g] = np.sqrt(out[g] / (ct - ddof))
        else:
            out[g] /= ct - ddof
    return out


@njit(cache=True, nogil=True)
def group_nunique(codes, vcodes, ngroups, nvalues):  # type: ignore[no-untyped-def]
    """Distinct non-missing values (``vcodes`` >= 0) per group."""
    keys = np.empty(codes.shape[0], dtype=np.int64)
    m = 0
    for i in range(codes.shape[0]):
        if codes[i] >= 0 and vcodes[i] >= 0:
            keys[m] = codes[i] * nvalues + vcodes[i]
            m += 1
    keys = np.sort(keys[:m])
    out = np.zeros(ngroups, dtype=np.int64)
    for k in range(m):
        if k == 0 or keys[k] != keys[k - 1]:
            out[keys[k] // nvalues] += 1
    return out
