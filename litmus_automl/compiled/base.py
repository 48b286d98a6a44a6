"""What every compiled model shares: its error, its array checks, its interface."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from ..model_io import BundleError

__all__ = ["CompiledFormatError", "CompiledModel", "Predictor", "expect_array"]

Predictor = Callable[[np.ndarray], np.ndarray]


class CompiledFormatError(BundleError):
    """A compiled-model file that is malformed or would make the kernel read out of bounds."""


def expect_array(
    arrays: dict[str, np.ndarray],
    name: str,
    where: str,
    dtypes: tuple[type, ...],
    ndim: int | None = None,
) -> np.ndarray:
    """``arrays[name]``, if it is there with one of ``dtypes`` and ``ndim`` dimensions.

    Raises
    ------
    CompiledFormatError
        Naming ``where``, the array and what was expected.
    """
    if name not in arrays:
        raise CompiledFormatError(f"{where}: array {name!r} is missing")
    a = arrays[name]
    if not isinstance(a, np.ndarray) or a.dtype.type not in dtypes:
        got = getattr(a, "dtype", type(a).__name__)
        want = " or ".join(np.dtype(d).name for d in dtypes)
        raise CompiledFormatError(f"{where}: array {name!r} has dtype {got}; expected {want}")
    if ndim is not None and a.ndim != ndim:
        raise CompiledFormatError(
            f"{where}: array {name!r} has {a.ndim} dimensions; expected {ndim}"
        )
    return a


class CompiledModel:
    """A model turned into numeric arrays and a fixed evaluation routine.

    Subclasses are dataclasses holding NumPy arrays; ``family`` names them in the stored
    settings. Nothing of a compiled model is code: a loader reads arrays (NumPy,
    ``allow_pickle=False``) and JSON settings, and :meth:`check` validates them before the
    evaluation routine touches them.
    """

    family: ClassVar[str] = ""

    def arrays(self) -> dict[str, np.ndarray]:
        """The numeric arrays to store."""
        raise NotImplementedError

    def meta(self) -> dict[str, Any]:
        """The JSON settings to store."""
        raise NotImplementedError

    @classmethod
    def from_parts(
        cls, arrays: dict[str, np.ndarray], meta: dict[str, Any], where: str
    ) -> CompiledModel:
        """Rebuild from what :meth:`arrays` and :meth:`meta` gave (types checked)."""
        raise NotImplementedError

    def check(self, n_features: int, where: str) -> None:
        """Refuse values the evaluation routine must not see (raises CompiledFormatError)."""
        raise NotImplementedError

    def predictor(self, kind: str, native: Predictor) -> Predictor:
        """``f(X)`` for a float64 2-D ``X``: what ``native`` gives, without calling it
        (except for inputs this form leaves to it)."""
        raise NotImplementedError
