"""A pure-numpy ``QueryModel``: fixed embeddings and a linear softmax head.

It is the reference implementation of the protocol's semantics (what "one MC-dropout draw shared
by every row" and "relative Gaussian weight noise" mean), the test double of the strategy tests,
and the model of ``bench/query_speed.py``. It also serves head mode directly once a head's
weights are known.
"""

from __future__ import annotations

import numpy as np

from mollia.al.strategies.base import as_index_array
from mollia.errors import MolliaError


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax along ``axis``."""
    z = logits - logits.max(axis=axis, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=axis, keepdims=True)
    return z


class ArrayQueryModel:
    """``p(y | x) = softmax(embeddings[x] @ weights + bias)``.

    ``embeddings`` (N, d), ``weights`` (d, K), ``bias`` (K,) or None, ``dropout`` the MC-dropout
    rate on the embedding features used by ``predict_proba_samples``.
    """

    def __init__(self, embeddings: np.ndarray, weights: np.ndarray, bias: np.ndarray | None = None,
                 dropout: float = 0.1):
        self.embeddings = np.asarray(embeddings)
        self.weights = np.asarray(weights, dtype=self.embeddings.dtype)
        k = self.weights.shape[1]
        self.bias = (np.zeros(k, dtype=self.weights.dtype) if bias is None
                     else np.asarray(bias, dtype=self.weights.dtype))
        if self.embeddings.ndim != 2 or self.weights.shape[0] != self.embeddings.shape[1]:
            raise MolliaError(f"embeddings {self.embeddings.shape} and weights {self.weights.shape} "
                              "do not fit: need (N, d) and (d, K)")
        if self.bias.shape != (k,):
            raise MolliaError(f"bias must have shape ({k},), got {self.bias.shape}")
        if not 0.0 <= dropout < 1.0:
            raise MolliaError(f"dropout must be in [0, 1), got {dropout}")
        self.dropout = float(dropout)

    @classmethod
    def synthetic(cls, n_items: int, dim: int, n_classes: int, seed: int = 0,
                  dropout: float = 0.1, dtype=np.float32) -> "ArrayQueryModel":
        """Gaussian-mixture embeddings (one cluster per class) and a head that scores each class by
        its cluster mean: a model with confident and uncertain regions, for tests and benchmarks."""
        rng = np.random.default_rng(seed)
        means = rng.normal(size=(n_classes, dim)) * (2.0 / np.sqrt(dim))
        labels = rng.integers(n_classes, size=n_items)
        emb = (means[labels] + rng.normal(size=(n_items, dim)) / np.sqrt(dim)).astype(dtype)
        weights = (means.T * 3.0).astype(dtype)
        return cls(emb, weights, np.zeros(n_classes, dtype=dtype), dropout=dropout)

    @property
    def n_classes(self) -> int:
        return self.weights.shape[1]

    def _rows(self, idx) -> np.ndarray:
        idx = as_index_array(idx, "idx")
        if idx.size and idx.max() >= self.embeddings.shape[0]:
            raise MolliaError(f"position {int(idx.max())} is outside the {self.embeddings.shape[0]} items")
        if idx.size > 1 and idx[-1] - idx[0] == idx.size - 1 and np.all(np.diff(idx) == 1):
            return self.embeddings[idx[0]:idx[-1] + 1]  # a contiguous range: a view, no copy
        return self.embeddings[idx]

    def embed(self, idx) -> np.ndarray:
        return self._rows(idx)

    def predict_proba(self, idx) -> np.ndarray:
        return softmax(self._rows(idx) @ self.weights + self.bias)

    def _stacked_proba(self, x: np.ndarray, weight_draws: np.ndarray) -> np.ndarray:
        # weight_draws (S, d, K) -> one GEMM x @ [W_1 ... W_S], then (S, m, K).
        s, d, k = weight_draws.shape
        stacked = weight_draws.transpose(1, 0, 2).reshape(d, s * k)
        logits = (x @ stacked).reshape(x.shape[0], s, k).transpose(1, 0, 2) + self.bias
        return softmax(logits)

    def predict_proba_samples(self, idx, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        """MC dropout on the embedding features: sample ``s`` keeps feature ``j`` with probability
        1 - dropout (inverted scaling), one mask shared by every row, which equals scaling row
        ``j`` of the weights. Shape ``(S, m, K)``."""
        x = self._rows(idx)
        keep = rng.random((n_samples, self.weights.shape[0])) >= self.dropout
        scale = keep / (1.0 - self.dropout)
        return self._stacked_proba(x, self.weights[None] * scale[:, :, None].astype(self.weights.dtype))

    def perturbed_proba(self, idx, noise_scale: float, n_draws: int,
                        rng: np.random.Generator) -> np.ndarray:
        """Weights ``W + noise_scale * ||W|| * Z / ||Z||`` per draw (bias untouched), shape ``(D, m, K)``."""
        x = self._rows(idx)
        z = rng.standard_normal((n_draws,) + self.weights.shape)
        z *= noise_scale * np.linalg.norm(self.weights) / np.linalg.norm(z.reshape(n_draws, -1), axis=1)[:, None, None]
        return self._stacked_proba(x, (self.weights[None] + z).astype(self.weights.dtype))
