"""The robust loss of MoLLIA (paper Eqs. 7-9).

``L = W_d * L_CE + lambda * L_neg`` per item, averaged over the batch, with

* ``L_neg = - sum_{k in y-} log(1 - p(k|x))`` (Eq. 7), the negative-learning term;
* ``W_d = 1`` if ``d_anno = 0`` else ``alpha`` (Eq. 8), the annotation-discrepancy weight;
* ``lambda`` the negative-learning weight, linear over the AL iterations (:func:`lambda_schedule`).

Eq. 7 as printed SUMS over the negative labels of an item, and the batch mean runs over every
item (those without y- add 0): ``negative_reduction="sum"``, the default. The authors' code
(``negative_learning_loss`` in their ``trainAL.py``) AVERAGES: per item the mean of
``-log(1 - p_k)`` over its y-, then the mean over the batch's items that have any y-, added to the
batch mean of ``W_d * CE``: ``negative_reduction="mean"``. With K - 1 possible negatives the sum can
be up to K - 1 times the mean, so the two give lambda different strengths.

``log(1 - p_k)`` is computed as ``logsumexp_{j != k} l_j - logsumexp_j l_j`` so that it stays
finite when ``p_k`` rounds to 1 in float32.
"""

from __future__ import annotations

import numpy as np
import torch

from mollia.errors import MolliaError

NEGATIVE_REDUCTIONS = ("sum", "mean")


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


def negative_term(logits: torch.Tensor, negatives: torch.Tensor, reduction: str = "sum") -> torch.Tensor:
    """Per-item negative-learning contributions ``(B,)`` whose batch MEAN is the chosen Eq. 7 term.

    ``sum``: ``-sum_{k in y-_i} log(1 - p_k)`` (Eq. 7 as printed; items without y- give 0).
    ``mean`` (the authors' code): ``-mean_{k in y-_i} log(1 - p_k) * B / #{i: y-_i non-empty}`` on
    items with y-, 0 elsewhere, so that the batch mean is the mean over the items that have any.
    """
    if reduction not in NEGATIVE_REDUCTIONS:
        raise MolliaError(f"negative_reduction must be one of {NEGATIVE_REDUCTIONS}, got {reduction!r}")
    nl = negative_learning_loss(logits, negatives)
    if reduction == "sum":
        return nl
    counts = negatives.sum(dim=-1).to(nl.dtype)
    n_with = int((counts > 0).sum())
    if n_with == 0:
        return torch.zeros_like(nl)
    return torch.where(counts > 0, nl / counts.clamp(min=1), torch.zeros_like(nl)) * (len(nl) / n_with)


def robust_loss(logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor,
                negatives: torch.Tensor, lam: float, negative_reduction: str = "sum") -> torch.Tensor:
    """Eq. 9 over the batch: ``mean_i (W_i * CE_i + lam * negative_term_i)``.

    ``negative_reduction="sum"`` (Eq. 7 as printed): ``mean_i (W_i * CE_i + lam * L_neg_i)``.
    ``negative_reduction="mean"`` (the authors' code): ``mean_i W_i * CE_i + lam * mean_{i: y-_i
    non-empty} mean_{k in y-_i} -log(1 - p(k|x_i))``.
    ``targets`` (B,) the annotated y+; ``weights`` (B,) the W_d of Eq. 8; ``negatives`` (B, K) bool.
    A negative label equal to the item's own target is ignored (an item cannot be both; CE
    and Eq. 7 would pull in opposite directions).
    """
    if negative_reduction not in NEGATIVE_REDUCTIONS:
        raise MolliaError(f"negative_reduction must be one of {NEGATIVE_REDUCTIONS}, got {negative_reduction!r}")
    ce = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
    weighted_ce = weights.to(ce.dtype) * ce
    neg = negatives.clone()
    neg[torch.arange(len(targets), device=neg.device), targets] = False
    if not lam or not bool(neg.any()):  # nothing to push away from: skip the (B, K, K) work
        return weighted_ce.mean()
    return (weighted_ce + float(lam) * negative_term(logits, neg, negative_reduction)).mean()


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
