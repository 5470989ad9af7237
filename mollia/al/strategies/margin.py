"""Breaking-ties margin sampling (Scheffer et al. 2001; Luo et al. 2005): the n pool items whose two
most probable classes are closest, i.e. the smallest p_(1) - p_(2) of ``model.predict_proba``
(a `ConfidenceSampling` score)."""

from __future__ import annotations

import numpy as np

from mollia.al.strategies.confidence import ConfidenceSampling
from mollia.errors import MolliaError


def top2_margin(proba: np.ndarray) -> np.ndarray:
    """p_(1) - p_(2) for each row of ``proba`` (m, K), K >= 2."""
    p = np.asarray(proba, dtype=np.float64)
    if p.shape[1] < 2:
        raise MolliaError("margin sampling needs at least 2 classes")
    two = np.partition(p, p.shape[1] - 2, axis=1)[:, -2:]
    return two[:, 1] - two[:, 0]


class MarginSampling(ConfidenceSampling):
    """Pick the ``n`` items with the smallest top-two margin (no randomness used)."""

    name = "margin"

    def uncertainty(self, proba: np.ndarray) -> np.ndarray:
        return -top2_margin(proba)
