"""Random sampling: the baseline every strategy must beat."""

from __future__ import annotations

import numpy as np

from mollia.al.strategies.base import QueryModel, Strategy


class RandomSampling(Strategy):
    """``n`` pool items uniformly at random without replacement (the model is not consulted)."""

    name = "random"

    def _select(self, model: QueryModel, pool_idx: np.ndarray, labelled_idx: np.ndarray,
                n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.choice(pool_idx.size, size=n, replace=False)
