"""Greedy k-centre (farthest-first traversal), shared by coreset and NoiseStability.

Vectorised: one matrix-vector product per pick, and the initial distances to many existing
centres are computed in row chunks so a 100,000 x 384 pool never needs an n x L distance matrix.
"""

from __future__ import annotations

import numpy as np

CHUNK_ROWS = 8192


def _work_dtype(features: np.ndarray) -> np.dtype:
    # float32 halves memory traffic (the bottleneck); anything else is computed in float64.
    return np.float32 if features.dtype == np.float32 else np.float64


def min_sq_dist_to_centres(features: np.ndarray, centres: np.ndarray,
                           chunk_rows: int = CHUNK_ROWS) -> np.ndarray:
    """Squared Euclidean distance from each row of ``features`` (m, d) to its nearest row of
    ``centres`` (L, d); ``+inf`` everywhere when there are no centres. Shape ``(m,)``."""
    dtype = _work_dtype(features)
    x = np.asarray(features, dtype=dtype)
    c = np.asarray(centres, dtype=dtype)
    out = np.full(x.shape[0], np.inf, dtype=np.float64)
    if c.shape[0] == 0:
        return out
    c_sq = np.einsum("ij,ij->i", c, c)
    for start in range(0, x.shape[0], chunk_rows):
        block = x[start:start + chunk_rows]
        b_sq = np.einsum("ij,ij->i", block, block)
        # ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2, one GEMM per chunk.
        d2 = b_sq[:, None] - 2.0 * (block @ c.T) + c_sq[None, :]
        out[start:start + block.shape[0]] = np.maximum(d2.min(axis=1), 0.0)
    return out


def farthest_first(features: np.ndarray, n: int, min_sq_dist: np.ndarray) -> np.ndarray:
    """Greedy k-centre: ``n`` times, take the row farthest from every centre so far and make it a
    centre. ``min_sq_dist`` (m,) holds each row's squared distance to the initial centres
    (``+inf`` with none: then the first pick is row 0 of the largest distances, so callers that
    want a random start must seed one themselves). Returns ``n`` distinct row numbers in pick
    order; ties go to the lowest row number (``argmax``), so the result is deterministic."""
    dtype = _work_dtype(features)
    x = np.asarray(features, dtype=dtype)
    x_sq = np.einsum("ij,ij->i", x, x)
    dist = np.array(min_sq_dist, dtype=np.float64, copy=True)
    picked = np.empty(n, dtype=np.int64)
    for k in range(n):
        row = int(np.argmax(dist))
        picked[k] = row
        centre = x[row]
        d2 = x_sq - 2.0 * (x @ centre) + float(centre @ centre)
        np.minimum(dist, np.maximum(d2, 0.0), out=dist)
        dist[picked[:k + 1]] = -1.0  # a centre is never picked twice, even among duplicates
    return picked
