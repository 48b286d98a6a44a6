"""The numba kernel that evaluates a flattened tree ensemble (see :mod:`.trees`).

One generic loop, specialized by numba on the dtype of the output array (float32 for
XGBoost, which sums in float32; float64 for scikit-learn). Nothing here is generated from a
bundle: the bundle holds numeric arrays only, checked by :meth:`.trees.TreeEnsemble.check`
before they reach this code.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "FLOAT32_MAX",
    "POST_NONE",
    "POST_XGB_LOGISTIC",
    "POST_XGB_SOFTMAX",
    "accumulate",
    "layout",
    "xgb_prob_to_margin",
]

POST_NONE = 0
"""Give the accumulated outputs as they are."""
POST_XGB_LOGISTIC = 1
"""XGBoost's ``binary:logistic``: ``common::Sigmoid`` in float32, as ``[1 - p, p]``."""
POST_XGB_SOFTMAX = 2
"""XGBoost's ``multi:softprob``: ``common::Softmax`` (float32 values, a float64 sum)."""

FLOAT32_MAX = float(np.finfo(np.float32).max)
SETTINGS = ("to_float32", "strict", "nan_ok", "post", "width")
"""The entries of the kernel's ``settings`` array, in order."""

_ONE32 = np.float32(1.0)
_EPS32 = np.float32(1e-16)  # XGBoost's kEps (adds nothing to 1 + e in float32; kept as its code)
_CAP32 = np.float32(88.7)


@njit(cache=True, nogil=True)
def xgb_prob_to_margin(p):  # type: ignore[no-untyped-def]
    """XGBoost's ``ProbToMargin`` of ``binary:logistic``: ``-logf(1.0f / p - 1.0f)``, in
    float32 with C's ``logf`` (NumPy's float32 log may differ in the last bit)."""
    out = np.empty_like(p)
    for i in range(p.shape[0]):
        out[i] = -math.log(_ONE32 / p[i] - _ONE32)
    return out


@njit(cache=True, nogil=True)
def _xgb_sigmoid(x):  # type: ignore[no-untyped-def]
    v = -x
    if v > _CAP32:
        v = _CAP32
    denom = np.float32(math.exp(v)) + _ONE32 + _EPS32
    return _ONE32 / denom


BLOCK = 8
"""Trees walked side by side (their loads overlap instead of waiting on each other)."""


@njit(cache=True, nogil=True)
def layout(feature, left, right, default_left, roots):  # type: ignore[no-untyped-def]
    """The kernel's node table and each tree's depth, from checked node arrays.

    Row ``i`` of the table is ``[feature, left, right, missing child]``, where a leaf points
    to itself (so a walk may take more steps than its leaf's depth and stay there) and the
    missing child is the left or right one as ``default_left`` says. The depth of a tree is
    its deepest leaf's (children come after their node: one pass in index order).
    """
    n = feature.shape[0]
    nodes = np.empty((n, 4), dtype=np.int32)
    depth_of = np.zeros(n, dtype=np.int32)
    depths = np.zeros(roots.shape[0], dtype=np.int32)
    t = 0
    for i in range(n):
        while t + 1 < roots.shape[0] and roots[t + 1] <= i:
            t += 1
        if left[i] == -1:
            nodes[i, 0] = 0
            nodes[i, 1] = i
            nodes[i, 2] = i
            nodes[i, 3] = i
            if depth_of[i] > depths[t]:
                depths[t] = depth_of[i]
        else:
            nodes[i, 0] = feature[i]
            nodes[i, 1] = left[i]
            nodes[i, 2] = right[i]
            nodes[i, 3] = left[i] if default_left[i] != 0 else right[i]
            depth_of[left[i]] = depth_of[i] + 1
            depth_of[right[i]] = depth_of[i] + 1
    return nodes, depths


@njit(cache=True, nogil=True)
def _leaves(row, nodes, threshold, roots, depths, t0, nb, strict, missing, cur):  # type: ignore[no-untyped-def]
    """Walk trees ``t0 .. t0 + nb - 1`` side by side; their leaves land in ``cur``."""
    steps = 0
    for k in range(nb):
        cur[k] = roots[t0 + k]
        if depths[t0 + k] > steps:
            steps = depths[t0 + k]
    if missing:
        for _ in range(steps):
            for k in range(nb):
                node = cur[k]
                v = row[nodes[node, 0]]
                if np.isnan(v):
                    cur[k] = nodes[node, 3]
                elif strict:
                    cur[k] = nodes[node, 1 + (v >= threshold[node])]
                else:
                    cur[k] = nodes[node, 1 + (v > threshold[node])]
    elif strict:  # XGBoost: left on x < t
        for _ in range(steps):
            for k in range(nb):
                node = cur[k]
                cur[k] = nodes[node, 1 + (row[nodes[node, 0]] >= threshold[node])]
    else:  # scikit-learn: left on x <= t
        for _ in range(steps):
            for k in range(nb):
                node = cur[k]
                cur[k] = nodes[node, 1 + (row[nodes[node, 0]] > threshold[node])]


@njit(cache=True, nogil=True)
def accumulate(x, out, nodes, trees, data, settings):  # type: ignore[no-untyped-def]
    """Evaluate every tree on every row of ``x`` into ``out``; False when a row holds a
    value the ensemble leaves to the native model (``out`` is then incomplete).

    Parameters
    ----------
    x : float64 array (rows, features)
    out : float32 or float64 array (rows, outputs), or (rows, 2) for ``POST_XGB_LOGISTIC``
        Filled with the sums (in its dtype), then post-processed.
    nodes : int32 array (nodes, 4)
        :func:`layout`'s table (node indices are global over the ensemble).
    trees : int32 array (3, trees)
        Root node, output offset and depth of each tree, in summation order.
    data : float64 array
        The thresholds (one per node), the leaf values (``width`` per node) and the base
        outputs, one after the other.
    settings : int64 array
        :data:`SETTINGS`: features rounded to float32 before comparing (as XGBoost and
        scikit-learn's trees do); go left on ``x < t`` (XGBoost) rather than ``x <= t``;
        NaN follows the node's missing direction (else a NaN, like an infinite value or one
        past float32's range when rounding, is refused); the ``POST_*`` code; the number of
        values per leaf.
    """
    n_nodes = nodes.shape[0]
    to32 = settings[0] != 0
    strict = settings[1] != 0
    nan_ok = settings[2] != 0
    post = settings[3]
    width = settings[4]
    first = 1 if post == POST_XGB_LOGISTIC else 0
    n_out = out.shape[1] - first
    threshold = data[:n_nodes]
    value = data[n_nodes : n_nodes + n_nodes * width]
    base = data[n_nodes + n_nodes * width :]
    limit = FLOAT32_MAX if to32 else np.inf
    row = np.empty(x.shape[1], dtype=np.float64)
    roots, offsets, depths = trees[0], trees[1], trees[2]
    n_trees = roots.shape[0]
    cur = np.empty(BLOCK, dtype=np.int64)
    for r in range(x.shape[0]):
        missing = False
        for f in range(x.shape[1]):
            v = x[r, f]
            if np.isnan(v):
                if not nan_ok:
                    return False
                missing = True
            elif not abs(v) <= limit:
                return False
            row[f] = np.float64(np.float32(v)) if to32 else v
        for o in range(n_out):
            out[r, first + o] = base[o]
        for t0 in range(0, n_trees, BLOCK):
            nb = min(BLOCK, n_trees - t0)
            _leaves(row, nodes, threshold, roots, depths, t0, nb, strict, missing, cur)
            for k in range(nb):  # add in tree order, as the training library sums
                at = first + offsets[t0 + k]
                leaf = cur[k]
                for j in range(width):
                    out[r, at + j] += value[leaf * width + j]
        if post == POST_XGB_LOGISTIC:
            p = _xgb_sigmoid(out[r, 1])
            out[r, 0] = _ONE32 - p
            out[r, 1] = p
        elif post == POST_XGB_SOFTMAX:
            wmax = out[r, 0]
            for o in range(1, n_out):
                if out[r, o] > wmax:
                    wmax = out[r, o]
            wsum = 0.0
            for o in range(n_out):
                e = np.float32(math.exp(out[r, o] - wmax))
                out[r, o] = e
                wsum += np.float64(e)
            s = np.float32(wsum)
            for o in range(n_out):
                out[r, o] = out[r, o] / s
    return True
