"""Core-set selection (Sener & Savarese, ICLR 2018): greedy k-centre on the model's embeddings.

The labelled items are the initial centres; each pick is the pool item farthest (Euclidean, in
``model.embed`` space) from every centre so far, which greedily minimises the covering radius of
labelled + chosen over the pool.
"""

from __future__ import annotations

import numpy as np

from mollia.al.strategies.base import QueryModel, Strategy, check_model_output, is_int
from mollia.al.strategies.kcentre import farthest_first, min_sq_dist_to_centres
from mollia.errors import MolliaError


class CoreSet(Strategy):
    """Greedy k-centre. ``chunk_rows`` bounds memory of the initial pool-to-labelled distances."""

    name = "coreset"

    def __init__(self, chunk_rows: int = 8192):
        self.chunk_rows = chunk_rows

    def check_params(self) -> None:
        if not is_int(self.chunk_rows) or self.chunk_rows < 1:
            raise MolliaError(f"coreset chunk_rows must be a positive integer, got {self.chunk_rows!r}")

    def _select(self, model: QueryModel, pool_idx: np.ndarray, labelled_idx: np.ndarray,
                n: int, rng: np.random.Generator) -> np.ndarray:
        pool_emb = np.asarray(model.embed(pool_idx))
        if pool_emb.ndim != 2 or pool_emb.shape[0] != pool_idx.size:
            raise MolliaError(f"QueryModel.embed returned shape {pool_emb.shape} for "
                              f"{pool_idx.size} pool items; expected (m, d)")
        check_model_output(pool_emb, pool_emb.shape, "embed")
        if labelled_idx.size:
            lab_emb = check_model_output(model.embed(labelled_idx),
                                         (labelled_idx.size, pool_emb.shape[1]), "embed")
            dist = min_sq_dist_to_centres(pool_emb, lab_emb, self.chunk_rows)
            return farthest_first(pool_emb, n, dist)
        # No labelled centre yet: a random first centre (from rng), then farthest-first.
        first = int(rng.integers(pool_idx.size))
        dist = min_sq_dist_to_centres(pool_emb, pool_emb[first:first + 1], self.chunk_rows)
        dist[first] = np.inf  # make the random start the first pick
        return farthest_first(pool_emb, n, dist)
