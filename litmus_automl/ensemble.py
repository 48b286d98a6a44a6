"""Greedy weighted ensembles of out-of-fold predictions (Caruana et al., 2004).

Starting from an empty ensemble, add (with replacement) the candidate whose inclusion most
improves the objective on the out-of-fold predictions; the weights are the counts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["caruana"]


def caruana(
    predictions: Sequence[np.ndarray],
    score: Callable[[np.ndarray], float],
    greater_is_better: bool,
    rounds: int = 20,
) -> np.ndarray:
    """Weights (summing to 1) over ``predictions`` chosen greedily to optimize ``score``.

    Parameters
    ----------
    predictions : sequence of ndarray
        Out-of-fold predictions of each candidate, all of the same shape.
    score : callable
        The objective of a blended prediction.
    greater_is_better : bool
        Direction of ``score``.
    rounds : int
        Number of greedy additions.

    Examples
    --------
    >>> y = np.array([0.0, 1.0, 2.0])
    >>> preds = [y + 1.0, y - 1.0, y + 5.0]
    >>> caruana(preds, lambda p: -np.abs(p - y).mean(), True, rounds=2).tolist()
    [0.5, 0.5, 0.0]
    """
    if not predictions:
        raise ValueError("caruana needs at least one candidate's predictions")
    sign = 1.0 if greater_is_better else -1.0
    counts = np.zeros(len(predictions))
    blend = np.zeros_like(np.asarray(predictions[0], dtype="float64"))
    for step in range(rounds):
        best_i, best_s = 0, -np.inf
        for i, p in enumerate(predictions):
            trial = (blend * step + p) / (step + 1)
            s = sign * score(trial)
            if s > best_s:
                best_i, best_s = i, s
        counts[best_i] += 1
        blend = (blend * step + predictions[best_i]) / (step + 1)
    return counts / counts.sum()
