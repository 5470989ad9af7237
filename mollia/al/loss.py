"""The robust loss of MoLLIA (paper Eqs. 7-9).

``L = W_d * L_CE + lambda * L_neg`` per item, averaged over the batch, with

* ``L_neg = - sum_{k in y-} log(1 - p(k|x))`` (Eq. 7), the negative-learning term;
* ``W_d = 1`` if ``d_anno = 0`` else ``alpha`` (Eq. 8), the annotation-discrepancy weight;
* ``lambda`` the negative-learning weight, linear over the AL iterations (:func:`lambda_schedule`).

``log(1 - p_k)`` is computed as ``logsumexp_{j != k} l_j - logsumexp_j l_j`` so that it stays
finite when ``p_k`` rounds to 1 in float32.
"""

from __future__ import annotations

import numpy as np
import torch

from mollia.errors import MolliaError


def log_one_minus_softmax(logits: torch.Tensor) -> torch.Tensor:
    """``log(1 - softmax(logits))`` for every class, shape ``(B, K)``, numerically stable."""
    K = logits.shape[-1]
    eye = torch.eye(K, dtype=torch.bool, device=logits.device)
    others = logits.unsqueeze(-2).expand(*logits.shape[:-1], K, K).masked_fill(eye, float("-inf"))
    return torch.logsumexp(others, dim=-1) - torch.logsumexp(logits, dim=-1, keepdim=True)


def negative_learning_loss(logits: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
    """Eq. 7 per item: ``-sum_{k in y-} log(1 - p(k|x))``, shape ``(B,)``. ``negatives`` is a
    boolean ``(B, K)`` mask (True = k is a negative label of the item)."""
    if negatives.shape != logits.shape:
        raise MolliaError(f"negatives mask shape {tuple(negatives.shape)} != logits {tuple(logits.shape)}")
    terms = log_one_minus_softmax(logits)
    return -(terms * negatives.to(terms.dtype)).sum(dim=-1)


def robust_loss(logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor,
                negatives: torch.Tensor, lam: float) -> torch.Tensor:
    """Eq. 9 averaged over the batch: ``mean_i (W_i * CE_i + lam * L_neg_i)``.

    ``targets`` (B,) the annotated y+; ``weights`` (B,) the W_d of Eq. 8; ``negatives`` (B, K) bool.
    A negative label equal to the item's own target is ignored (an item cannot be both; CE
    and Eq. 7 would pull in opposite directions).
    """
    ce = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
    neg = negatives.clone()
    neg[torch.arange(len(targets), device=neg.device), targets] = False
    if not lam or not bool(neg.any()):  # nothing to push away from: skip the (B, K, K) work
        return (weights.to(ce.dtype) * ce).mean()
    nl = negative_learning_loss(logits, neg)
    return (weights.to(ce.dtype) * ce + float(lam) * nl).mean()


def discrepancy_weights(d_anno: np.ndarray, alpha: float) -> np.ndarray:
    """Eq. 8: 1 where the previous model agreed with y+ (d_anno = 0), ``alpha`` where it did not."""
    if not 0.0 < alpha <= 1.0:
        raise MolliaError(f"alpha must be in (0, 1], got {alpha}")
    return np.where(np.asarray(d_anno, dtype=bool), float(alpha), 1.0)


def lambda_schedule(iteration: int, iterations: int, start: float, end: float) -> float:
    """lambda of AL iteration ``iteration`` (1..iterations), linear from ``start`` to ``end``.

    Iteration 0 (the initial, ground-truth set, which has no negative labels) gets ``start``.
    """
    if iteration <= 1 or iterations <= 1:
        return float(start)
    frac = min(iteration - 1, iterations - 1) / (iterations - 1)
    return float(start + (end - start) * frac)
