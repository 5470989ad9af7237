"""Confidence-based (uncertainty) sampling: the n pool items the model is least sure of, by one
score of ``model.predict_proba``. Entropy and margin sampling are this strategy with two scores
(the ``uncertainty`` hook): `entropy.EntropySampling`, `margin.MarginSampling`. A new variant
(least confidence, ...) only overrides ``uncertainty``."""

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


class ConfidenceSampling(Strategy):
    """Pick the ``n`` items of largest ``uncertainty(proba)`` (no randomness used)."""

    def uncertainty(self, proba: np.ndarray) -> np.ndarray:
        """(m,) uncertainty of each row of ``proba`` (m, K): larger = queried first."""
        raise NotImplementedError

    def _select(self, model: QueryModel, pool_idx: np.ndarray, labelled_idx: np.ndarray,
                n: int, rng: np.random.Generator) -> np.ndarray:
        proba = np.asarray(model.predict_proba(pool_idx))
        check_model_output(proba, (pool_idx.size, proba.shape[-1]), "predict_proba")
        return top_n(self.uncertainty(proba), n)
