"""A linear model (optionally standardized first) as arrays, evaluated with scikit-learn's
own NumPy operations in its order, so the answers are the same bits.

``StandardScaler.transform``: ``x -= mean; x /= scale``; then ``x @ coef.T + intercept``
(``x @ coef + intercept`` for a 1-D ``coef``, as ``Ridge``); then ``post``:

- ``"identity"``: the values (``Ridge`` regression);
- ``"expit"``: binary ``LogisticRegression``: ``p = expit(score)``, ``[1 - p, p]``;
- ``"softmax"``: multinomial ``LogisticRegression``: scikit-learn's softmax.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import CompiledFormatError, CompiledModel, Predictor, expect_array
from .trees import _softmax

__all__ = ["LINEAR_POSTS", "Linear"]

LINEAR_POSTS = ("identity", "expit", "softmax")


@dataclass(frozen=True, eq=False)
class Linear(CompiledModel):
    """A linear model (see the module docstring).

    Attributes
    ----------
    coef : float64 array (features,) or (outputs, features)
    intercept : float64 array () or (outputs,)
    mean, scale : float64 arrays (features,) or None
        The ``StandardScaler`` in front (either may be absent).
    post : str
        One of :data:`LINEAR_POSTS`.
    """

    family = "linear"

    coef: np.ndarray
    intercept: np.ndarray
    mean: np.ndarray | None
    scale: np.ndarray | None
    post: str

    def arrays(self) -> dict[str, np.ndarray]:
        """The numeric arrays to store."""
        out = {"coef": self.coef, "intercept": self.intercept}
        out.update({k: v for k, v in (("mean", self.mean), ("scale", self.scale)) if v is not None})
        return out

    def meta(self) -> dict[str, Any]:
        """The JSON settings to store."""
        return {"post": self.post}

    @classmethod
    def from_parts(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any], where: str) -> Linear:
        """Rebuild from stored arrays and settings (types checked)."""
        if meta.get("post") not in LINEAR_POSTS:
            raise CompiledFormatError(
                f"{where}: 'post' is {meta.get('post')!r}; expected one of {list(LINEAR_POSTS)}"
            )
        f64 = (np.float64,)
        coef = expect_array(arrays, "coef", where, f64)
        return cls(
            coef=coef,
            intercept=expect_array(arrays, "intercept", where, f64),
            mean=expect_array(arrays, "mean", where, f64, 1) if "mean" in arrays else None,
            scale=expect_array(arrays, "scale", where, f64, 1) if "scale" in arrays else None,
            post=meta["post"],
        )

    def check(self, n_features: int, where: str) -> None:
        """Shapes that fit ``n_features`` and the post-processing; finite values.

        Raises
        ------
        CompiledFormatError
            Naming ``where`` and the array.
        """
        coef, intercept = self.coef, self.intercept
        if coef.ndim not in (1, 2) or coef.shape[-1] != n_features:
            raise CompiledFormatError(
                f"{where}: 'coef' has shape {coef.shape}; expected ({n_features},) or "
                f"(outputs, {n_features})"
            )
        outputs = 1 if coef.ndim == 1 else coef.shape[0]
        want: tuple[int, ...] = () if coef.ndim == 1 else (outputs,)
        if intercept.shape != want:
            raise CompiledFormatError(
                f"{where}: 'intercept' has shape {intercept.shape}; expected {want}"
            )
        for name in ("mean", "scale"):
            a = getattr(self, name)
            if a is not None and a.shape != (n_features,):
                raise CompiledFormatError(
                    f"{where}: {name!r} has shape {a.shape}; expected ({n_features},)"
                )
        if self.post == "expit" and (coef.ndim != 2 or outputs != 1):
            raise CompiledFormatError(f"{where}: post 'expit' needs 'coef' of shape (1, n)")
        if self.post == "softmax" and (coef.ndim != 2 or outputs < 2):
            raise CompiledFormatError(f"{where}: post 'softmax' needs 'coef' of shape (k, n)")
        for name, a in self.arrays().items():
            if not np.isfinite(a).all():
                raise CompiledFormatError(f"{where}: {name!r} holds values that are not finite")

    def predictor(self, kind: str, native: Predictor) -> Predictor:
        """``f(X)``: the model's answer through scikit-learn's operations; a row with a
        value that is not finite goes to ``native`` (which refuses it, as scikit-learn does)."""
        coef_t = self.coef.T if self.coef.ndim == 2 else self.coef
        intercept = self.intercept if self.intercept.ndim else self.intercept[()]
        mean, scale, post = self.mean, self.scale, self.post
        isfinite = np.isfinite

        def predict(x: np.ndarray) -> np.ndarray:
            if not isfinite(x).all():
                return native(x)
            x = np.array(x, dtype=np.float64, copy=True)  # as check_array(copy=True)
            if mean is not None:
                x -= mean
            if scale is not None:
                x /= scale
            scores = x @ coef_t + intercept
            if post == "identity":
                return scores  # type: ignore[no-any-return]
            if post == "expit":
                from scipy.special import expit

                prob = np.reshape(scores, (-1,))
                prob = expit(prob, out=prob)
                return np.stack([1 - prob, prob], axis=1)
            return _softmax(scores)

        return predict
