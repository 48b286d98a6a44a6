"""A tree ensemble flattened into numeric arrays, evaluated by :mod:`._kernel`.

Every tree of the ensemble lies in one node table (node indices are global): node ``i``
splits on ``feature[i]`` at ``threshold[i]``, its children are ``left[i]`` and ``right[i]``
(``-1`` for a leaf), a missing value goes left when ``default_left[i]``; a leaf adds
``value[i, :]`` to the outputs ``offset[t] .. offset[t] + width`` of its tree ``t``. The
outputs start at ``base`` and the trees add in their order, as the training library sums
them; ``post`` turns the sums into the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _kernel
from .base import CompiledFormatError, CompiledModel, Predictor, expect_array

__all__ = ["POSTS", "TreeEnsemble"]

POSTS: dict[str, int] = {
    "identity": _kernel.POST_NONE,  # regression values, or forest class probabilities (mean)
    "xgb_logistic": _kernel.POST_XGB_LOGISTIC,
    "xgb_softmax": _kernel.POST_XGB_SOFTMAX,
    "expit": _kernel.POST_NONE,  # scikit-learn's binary log-loss link, applied with scipy
    "softmax": _kernel.POST_NONE,  # scikit-learn's softmax (its NumPy operations), below
}
"""How the summed outputs become the answer, by name (the kernel's code for each)."""

_INT_ARRAYS = ("feature", "left", "right", "default_left", "roots", "offset")


@dataclass(frozen=True, eq=False)
class TreeEnsemble(CompiledModel):
    """A flattened tree ensemble (see the module docstring).

    Attributes
    ----------
    feature, left, right, default_left : int32 arrays (nodes,)
    threshold : float64 array (nodes,)
    value : float32 or float64 array (nodes, width)
    roots, offset : int32 arrays (trees,)
        Each tree's root (tree ``t`` spans ``roots[t] .. roots[t + 1] - 1``) and the first
        output its leaves add to.
    base : array (outputs,), of ``value``'s dtype
    to_float32 : bool
        Features are rounded to float32 before comparing (XGBoost, scikit-learn's trees).
    strict : bool
        Go left on ``x < threshold`` (XGBoost), else on ``x <= threshold`` (scikit-learn).
    nan_ok : bool
        NaN follows ``default_left``; otherwise a row with NaN is left to the native model.
    mean : bool
        Divide the sums by the number of trees (a random forest).
    post : str
        A key of :data:`POSTS`.
    """

    family = "trees"

    feature: np.ndarray
    left: np.ndarray
    right: np.ndarray
    default_left: np.ndarray
    threshold: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    offset: np.ndarray
    base: np.ndarray
    to_float32: bool
    strict: bool
    nan_ok: bool
    mean: bool
    post: str

    # storage --------------------------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        """The numeric arrays to store."""
        names = (*_INT_ARRAYS, "threshold", "value", "base")
        return {n: getattr(self, n) for n in names}

    def meta(self) -> dict[str, Any]:
        """The JSON settings to store."""
        return {
            "to_float32": self.to_float32,
            "strict": self.strict,
            "nan_ok": self.nan_ok,
            "mean": self.mean,
            "post": self.post,
        }

    @classmethod
    def from_parts(
        cls, arrays: dict[str, np.ndarray], meta: dict[str, Any], where: str
    ) -> TreeEnsemble:
        """Rebuild from stored arrays and settings, refusing anything :meth:`check` refuses."""
        for key in ("to_float32", "strict", "nan_ok", "mean"):
            if not isinstance(meta.get(key), bool):
                raise CompiledFormatError(f"{where}: {key!r} must be true or false")
        if meta.get("post") not in POSTS:
            raise CompiledFormatError(
                f"{where}: 'post' is {meta.get('post')!r}; expected one of {sorted(POSTS)}"
            )
        value = expect_array(arrays, "value", where, (np.float32, np.float64), ndim=2)
        ints = {n: expect_array(arrays, n, where, (np.int32,), ndim=1) for n in _INT_ARRAYS}
        return cls(
            feature=ints["feature"],
            left=ints["left"],
            right=ints["right"],
            default_left=ints["default_left"],
            threshold=expect_array(arrays, "threshold", where, (np.float64,), ndim=1),
            value=value,
            roots=ints["roots"],
            offset=ints["offset"],
            base=expect_array(arrays, "base", where, (value.dtype.type,), ndim=1),
            to_float32=meta["to_float32"],
            strict=meta["strict"],
            nan_ok=meta["nan_ok"],
            mean=meta["mean"],
            post=meta["post"],
        )

    # checks ---------------------------------------------------------------------------------
    @property
    def n_outputs(self) -> int:
        """The number of outputs the trees sum into."""
        return int(self.base.shape[0])

    def check(self, n_features: int, where: str) -> None:
        """Refuse arrays the kernel would read out of bounds or loop on.

        Every array has one entry per node (per tree for ``roots`` and ``offset``); trees
        are contiguous, the first rooted at node 0; an inner node splits on a feature in
        ``[0, n_features)`` at a threshold that is not NaN, and both its children lie after
        it inside its own tree (so every walk ends at a leaf); a leaf has both children
        ``-1``; ``default_left`` is 0 or 1; each tree adds inside the outputs; leaf values
        and the base are finite.

        Raises
        ------
        CompiledFormatError
            Naming ``where``, the array and the first offending node or tree.
        """
        n = len(self.feature)
        for name in ("left", "right", "default_left", "threshold", "value"):
            if len(getattr(self, name)) != n:
                raise CompiledFormatError(
                    f"{where}: {name!r} has {len(getattr(self, name))} entries; the node "
                    f"table has {n}"
                )
        if n == 0 or len(self.roots) == 0:
            raise CompiledFormatError(f"{where}: no trees")
        if len(self.offset) != len(self.roots):
            raise CompiledFormatError(
                f"{where}: 'offset' has {len(self.offset)} entries for {len(self.roots)} trees"
            )
        roots = self.roots.astype(np.int64)
        if roots[0] != 0 or np.any(np.diff(roots) <= 0) or roots[-1] >= n:
            raise CompiledFormatError(
                f"{where}: 'roots' must start at 0 and increase inside the {n} nodes"
            )
        end = np.repeat(np.append(roots[1:], n), np.diff(np.append(roots, n)))
        index = np.arange(n)
        leaf = self.left == -1
        bad = np.flatnonzero(leaf & (self.right != -1))
        if bad.size:
            raise CompiledFormatError(f"{where}: node {bad[0]} has no left child but a right one")
        inner = ~leaf
        for name in ("left", "right"):
            child = getattr(self, name).astype(np.int64)
            bad = np.flatnonzero(inner & ((child <= index) | (child >= end)))
            if bad.size:
                i = bad[0]
                raise CompiledFormatError(
                    f"{where}: node {i}'s {name} child {child[i]} is out of range (children "
                    f"lie after their node inside its tree, nodes {i + 1}..{end[i] - 1})"
                )
        bad = np.flatnonzero(inner & ((self.feature < 0) | (self.feature >= n_features)))
        if bad.size:
            raise CompiledFormatError(
                f"{where}: node {bad[0]} splits on feature {self.feature[bad[0]]}, outside "
                f"[0, {n_features})"
            )
        bad = np.flatnonzero(inner & np.isnan(self.threshold))
        if bad.size:
            raise CompiledFormatError(f"{where}: node {bad[0]}'s threshold is NaN")
        if np.any((self.default_left != 0) & (self.default_left != 1)):
            raise CompiledFormatError(f"{where}: 'default_left' holds values other than 0 and 1")
        width = self.value.shape[1]
        bad = np.flatnonzero((self.offset < 0) | (self.offset + width > self.n_outputs))
        if bad.size:
            raise CompiledFormatError(
                f"{where}: tree {bad[0]} adds to outputs {self.offset[bad[0]]}.."
                f"{self.offset[bad[0]] + width - 1}, outside the {self.n_outputs} outputs"
            )
        if not (np.isfinite(self.value).all() and np.isfinite(self.base).all()):
            raise CompiledFormatError(f"{where}: leaf values and 'base' must be finite")
        if self.post in ("xgb_logistic", "expit") and self.n_outputs != 1:
            raise CompiledFormatError(f"{where}: post {self.post!r} needs 1 output")

    # prediction -----------------------------------------------------------------------------
    def predictor(self, kind: str, native: Predictor) -> Predictor:
        """``f(X)`` giving what ``native`` gives (class probabilities, or values), computed
        by the kernel; rows the kernel leaves alone (see ``nan_ok``) go to ``native``."""
        nodes, depths = _kernel.layout(
            self.feature, self.left, self.right, self.default_left, self.roots
        )
        trees = np.ascontiguousarray(np.vstack((self.roots, self.offset, depths)), dtype=np.int32)
        data = np.concatenate(
            [self.threshold, self.value.reshape(-1), self.base.astype(np.float64)]
        ).astype(np.float64)
        code = POSTS[self.post]
        width = self.value.shape[1]
        settings = np.array(
            [self.to_float32, self.strict, self.nan_ok, code, width], dtype=np.int64
        )
        dtype = self.value.dtype
        columns = 2 if code == _kernel.POST_XGB_LOGISTIC else self.n_outputs
        count = float(len(self.roots))
        post, mean = self.post, self.mean
        run, empty = _kernel.accumulate, np.empty

        def predict(x: np.ndarray) -> np.ndarray:
            if x.dtype != np.float64 or not x.flags.c_contiguous:
                x = np.ascontiguousarray(x, dtype=np.float64)
            out = empty((x.shape[0], columns), dtype=dtype)
            if not run(x, out, nodes, trees, data, settings):
                return native(x)
            if mean:
                out /= count
            if kind == "regression":
                return out.reshape(-1)
            if post == "expit":
                return _binary_expit(out)
            if post == "softmax":
                return _softmax(out)
            return out

        return predict


def _binary_expit(raw: np.ndarray) -> np.ndarray:
    """scikit-learn's ``HalfBinomialLoss.predict_proba``: its operations, in its order."""
    from scipy.special import expit

    raw = raw.reshape(-1)
    proba = np.empty((raw.shape[0], 2), dtype=raw.dtype)
    proba[:, 1] = expit(raw)
    proba[:, 0] = 1 - proba[:, 1]
    return proba


def _softmax(x: np.ndarray) -> np.ndarray:
    """scikit-learn's ``utils.extmath.softmax`` on a 2-D array it may overwrite: its NumPy
    operations, in its order (so the same bits)."""
    max_prob = np.reshape(np.max(x, axis=1), (-1, 1))
    x -= max_prob
    np.exp(x, out=x)
    sum_prob = np.reshape(np.sum(x, axis=1), (-1, 1))
    x /= sum_prob
    return x
