"""NoiseStability (Li, Yang, Gu, Zhan, Wang, Xu & Xu, "Deep active learning with noise stability",
AAAI 2024), as in the authors' code.

Each weight tensor ``W`` is perturbed ``n_draws`` times by Gaussian noise of relative scale
``noise_scale`` (``W + noise_scale * ||W|| * Z / ||Z||``, through ``model.perturbed_proba``). For a
pool item the feature vector is the concatenation over draws of
``(p_noisy(x) - p(x)) / ||p(x)||``, (D * K values); items whose outputs move a lot under small
parameter noise are uncertain. A batch is chosen on these features by greedy k-centre started
from the zero vector (so the first pick is the largest change, later picks trade magnitude
against diversity), on a random pool subset of at most ``max_subset`` items.
"""

from __future__ import annotations

import numpy as np

from mollia.al.strategies.base import QueryModel, Strategy, check_model_output, is_int, is_real
from mollia.al.strategies.kcentre import farthest_first
from mollia.errors import MolliaError


def output_change_features(proba: np.ndarray, perturbed: np.ndarray) -> np.ndarray:
    """(m, D*K) features from clean ``proba`` (m, K) and ``perturbed`` (D, m, K), draw-major."""
    diffs = (perturbed - proba[None]) / np.linalg.norm(proba, axis=1)[None, :, None]
    return diffs.transpose(1, 0, 2).reshape(proba.shape[0], -1)


class NoiseStability(Strategy):
    """Parameters: ``noise_scale`` (0.001, the authors' value), ``n_draws`` noisy copies (50 in the
    authors' code), ``max_subset`` random pool subset size (10,000)."""

    name = "noise_stability"

    def __init__(self, noise_scale: float = 1e-3, n_draws: int = 50, max_subset: int = 10_000):
        self.noise_scale = noise_scale
        self.n_draws = n_draws
        self.max_subset = max_subset

    def check_params(self) -> None:
        if not is_real(self.noise_scale) or not self.noise_scale > 0:
            raise MolliaError(f"noise_stability noise_scale must be > 0, got {self.noise_scale!r}")
        for name in ("n_draws", "max_subset"):
            value = getattr(self, name)
            if not is_int(value) or value < 1:
                raise MolliaError(f"noise_stability {name} must be a positive integer, got {value!r}")

    def _select(self, model: QueryModel, pool_idx: np.ndarray, labelled_idx: np.ndarray,
                n: int, rng: np.random.Generator) -> np.ndarray:
        m = pool_idx.size
        size = min(m, max(self.max_subset, n))
        rows = np.sort(rng.choice(m, size=size, replace=False)) if size < m else np.arange(m)
        subset = pool_idx[rows]
        proba = np.asarray(model.predict_proba(subset), dtype=np.float64)
        check_model_output(proba, (size, proba.shape[-1]), "predict_proba")
        perturbed = np.asarray(model.perturbed_proba(subset, float(self.noise_scale), int(self.n_draws), rng),
                               dtype=np.float64)
        check_model_output(perturbed, (self.n_draws, size, proba.shape[1]), "perturbed_proba")
        features = output_change_features(proba, perturbed)
        start = np.einsum("ij,ij->i", features, features)  # squared distance to the zero centre
        return rows[farthest_first(features, n, start)]
