"""Maximum-entropy uncertainty sampling: the n pool items with the largest predictive entropy
H(p) = -sum_k p_k log p_k of ``model.predict_proba`` (a `ConfidenceSampling` score)."""

from __future__ import annotations

import numpy as np

from mollia.al.strategies.confidence import ConfidenceSampling, top_n  # noqa: F401  (top_n: old import path)


def predictive_entropy(proba: np.ndarray) -> np.ndarray:
    """Entropy (nats) of each row of ``proba`` (m, K); 0 log 0 = 0."""
    p = np.asarray(proba, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p), 0.0)
    return -terms.sum(axis=1)


class EntropySampling(ConfidenceSampling):
    """Pick the ``n`` most uncertain items by predictive entropy (no randomness used)."""

    name = "entropy"

    def uncertainty(self, proba: np.ndarray) -> np.ndarray:
        return predictive_entropy(proba)
