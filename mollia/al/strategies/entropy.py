"""Maximum-entropy uncertainty sampling: the n pool items with the largest predictive entropy
H(p) = -sum_k p_k log p_k of ``model.predict_proba``."""

from __future__ import annotations

import numpy as np

from mollia.al.strategies.base import QueryModel, Strategy, check_model_output


def top_n(scores: np.ndarray, n: int) -> np.ndarray:
    """Row numbers of the ``n`` largest scores, best first; ties go to the lower row number."""
    if n < scores.size:
        # argpartition keeps this O(m) at 100k; then a stable sort of the candidates only.
        cut = np.partition(scores, scores.size - n)[scores.size - n]
        candidates = np.flatnonzero(scores >= cut)
    else:
        candidates = np.arange(scores.size)
    order = np.lexsort((candidates, -scores[candidates]))
    return candidates[order[:n]]


def predictive_entropy(proba: np.ndarray) -> np.ndarray:
    """Entropy (nats) of each row of ``proba`` (m, K); 0 log 0 = 0."""
    p = np.asarray(proba, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p), 0.0)
    return -terms.sum(axis=1)


class EntropySampling(Strategy):
    """Pick the ``n`` most uncertain items by predictive entropy (no randomness used)."""

    name = "entropy"

    def _select(self, model: QueryModel, pool_idx: np.ndarray, labelled_idx: np.ndarray,
                n: int, rng: np.random.Generator) -> np.ndarray:
        proba = np.asarray(model.predict_proba(pool_idx))
        check_model_output(proba, (pool_idx.size, proba.shape[-1]), "predict_proba")
        return top_n(predictive_entropy(proba), n)
