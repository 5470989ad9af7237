"""Learning from noisy LLM annotations (beyond the paper): per-item losses and the training objective.

The paper trains on the annotator's hard label y+ with ``W_d * CE + lambda * L_neg`` (Eqs. 7-9,
`mollia.al.loss`). Here the CE term can be replaced by an established noisy-label loss, each from
its source:

* ``ce``        cross-entropy on y+: the paper's term (Eq. 9 with W_d and L_neg from the switches).
* ``soft``      cross-entropy against the annotator's posterior ``q(k|x)`` instead of its argmax
                (learning from soft labels / label distributions; Peterson et al. 2019, "Human
                uncertainty makes classification more robust"; Hinton et al. 2015's soft targets).
                Only as good as the annotator's calibration.
* ``gce``       generalized cross-entropy ``(1 - p_y^q) / q`` (Zhang & Sabuncu, NeurIPS 2018, Eq. 6):
                q -> 0 is CE, q = 1 is the noise-robust MAE; the paper's default q = 0.7.
* ``sce``       symmetric cross-entropy ``alpha * CE + beta * RCE`` (Wang et al., ICCV 2019, Eq. 5),
                RCE = ``-sum_k p_k log t_k`` with ``log 0 := A`` (A = -4), i.e. ``-A * (1 - p_y)``
                for a one-hot t; alpha = 0.1, beta = 1.0 (their CIFAR-10 setting).
* ``bootstrap`` hard bootstrapping (Reed et al., ICLR-W 2015): target ``beta * t + (1 - beta) * z``
                with z the one-hot of the model's own argmax (beta = 0.8, their hard setting), so an
                item the model confidently assigns elsewhere is partly relabelled by the model.

Orthogonal options, applied by the loop / the objective:

* confidence weighting: each annotated item's weight is multiplied by the annotator's calibrated
  ``q(y+|x)`` (importance re-weighting by label confidence; cf. Liu & Tao, TPAMI 2016);
* small-loss selection (co-teaching's criterion, Han et al., NeurIPS 2018): in each minibatch only
  the ``1 - R(T)`` share of annotated items with the smallest loss is trained on, with
  ``R(T) = forget * min(T / T_k, 1)`` over epochs T (T_k = 10). We use one network (the
  selection criterion, without the two networks' cross-update): say so when quoting it.

Trusted items (the initial ground-truth set, items a human labelled) always get plain CE with weight 1
and are never dropped by the small-loss selection.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mollia.al.loss import NEGATIVE_REDUCTIONS, negative_term
from mollia.errors import MolliaError

LABEL_LOSSES = ("ce", "soft", "gce", "sce", "bootstrap")
# defaults of each loss's parameters, from the sources above
LOSS_PARAM_DEFAULTS = {"gce_q": 0.7, "sce_alpha": 0.1, "sce_beta": 1.0, "sce_log_zero": -4.0,
                       "bootstrap_beta": 0.8, "small_loss_ramp": 10}


def soft_cross_entropy(logits: torch.Tensor, target_proba: torch.Tensor) -> torch.Tensor:
    """``-sum_k t_k log p_k`` per item, shape (B,); ``target_proba`` (B, K) rows summing to 1."""
    return -(target_proba.to(logits.dtype) * torch.log_softmax(logits, dim=-1)).sum(dim=-1)


def generalized_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, q: float = 0.7) -> torch.Tensor:
    """Zhang & Sabuncu (2018), Eq. 6: ``(1 - p_y^q) / q`` per item, shape (B,)."""
    if not 0.0 < q <= 1.0:
        raise MolliaError(f"GCE q must be in (0, 1], got {q}")
    log_p_y = torch.log_softmax(logits, dim=-1).gather(1, targets.view(-1, 1)).squeeze(1)
    return (1.0 - torch.exp(q * log_p_y)) / q


def symmetric_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, alpha: float = 0.1, beta: float = 1.0,
                            log_zero: float = -4.0) -> torch.Tensor:
    """Wang et al. (2019), Eq. 5: ``alpha * CE + beta * RCE``; for a one-hot label
    ``RCE = -sum_{k != y} p_k * log_zero = -log_zero * (1 - p_y)``. Per item, shape (B,)."""
    if log_zero >= 0:
        raise MolliaError(f"SCE log_zero (A) must be negative, got {log_zero}")
    log_p = torch.log_softmax(logits, dim=-1)
    ce = -log_p.gather(1, targets.view(-1, 1)).squeeze(1)
    p_y = torch.exp(-ce)
    return alpha * ce + beta * (-log_zero) * (1.0 - p_y)


def hard_bootstrap(logits: torch.Tensor, targets: torch.Tensor, beta: float = 0.8) -> torch.Tensor:
    """Reed et al. (2015), hard bootstrapping: ``-(beta * log p_y + (1 - beta) * log p_zhat)`` with
    ``zhat`` the model's own argmax (no gradient through the choice). Per item, shape (B,)."""
    if not 0.0 <= beta <= 1.0:
        raise MolliaError(f"bootstrap beta must be in [0, 1], got {beta}")
    log_p = torch.log_softmax(logits, dim=-1)
    own = logits.detach().argmax(dim=-1)
    return -(beta * log_p.gather(1, targets.view(-1, 1)).squeeze(1)
             + (1.0 - beta) * log_p.gather(1, own.view(-1, 1)).squeeze(1))


def small_loss_keep(item_loss: torch.Tensor, trusted: torch.Tensor, forget: float) -> torch.Tensor:
    """Co-teaching's small-loss selection (Han et al. 2018): a boolean keep mask (B,). Of the
    untrusted items, the ``round(forget * n_untrusted)`` with the LARGEST loss are dropped; trusted
    items are always kept. Ties keep the earlier item (stable order)."""
    keep = torch.ones_like(trusted, dtype=torch.bool)
    noisy = torch.nonzero(~trusted, as_tuple=False).flatten()
    n_drop = int(round(float(forget) * len(noisy)))
    if n_drop <= 0 or len(noisy) == 0:
        return keep
    losses = item_loss.detach()[noisy].cpu().numpy()
    order = np.argsort(-losses, kind="stable")  # largest first, ties in item order
    keep[noisy[torch.as_tensor(order[:n_drop], dtype=torch.long)]] = False
    return keep


def forget_rate(epoch: int, forget: float, ramp_epochs: int) -> float:
    """Co-teaching's schedule R(T) = forget * min(T / T_k, 1), T = epoch (0-based, so epoch 0 keeps all)."""
    if ramp_epochs <= 0:
        return float(forget)
    return float(forget) * min(epoch / ramp_epochs, 1.0)


@dataclass(frozen=True)
class TrainingObjective:
    """The AL model's training loss per minibatch: for each item,
    ``w_i * base_i + lam * L_neg_i`` (Eq. 7 for L_neg), where ``base`` is ``label_loss`` on annotated
    items and plain CE on trusted ones; averaged over the items kept by the small-loss selection
    (all of them when ``small_loss_forget`` = 0). ``label_loss="ce"`` with no selection is exactly
    the paper's Eq. 9 (`mollia.al.loss.robust_loss`)."""

    label_loss: str = "ce"
    small_loss_forget: float = 0.0
    gce_q: float = LOSS_PARAM_DEFAULTS["gce_q"]
    sce_alpha: float = LOSS_PARAM_DEFAULTS["sce_alpha"]
    sce_beta: float = LOSS_PARAM_DEFAULTS["sce_beta"]
    sce_log_zero: float = LOSS_PARAM_DEFAULTS["sce_log_zero"]
    bootstrap_beta: float = LOSS_PARAM_DEFAULTS["bootstrap_beta"]
    small_loss_ramp: int = LOSS_PARAM_DEFAULTS["small_loss_ramp"]
    negative_reduction: str = "sum"  # Eq. 7 over y-: "sum" (the paper) or "mean" (the authors' code)

    def __post_init__(self) -> None:
        if self.label_loss not in LABEL_LOSSES:
            raise MolliaError(f"unknown label loss {self.label_loss!r}; known: {', '.join(LABEL_LOSSES)}")
        if self.negative_reduction not in NEGATIVE_REDUCTIONS:
            raise MolliaError(f"negative_reduction must be one of {NEGATIVE_REDUCTIONS}, got {self.negative_reduction!r}")
        if not 0.0 <= float(self.small_loss_forget) < 1.0:
            raise MolliaError(f"small_loss_forget must be in [0, 1), got {self.small_loss_forget}")

    def base_loss(self, logits: torch.Tensor, targets: torch.Tensor, soft: torch.Tensor | None) -> torch.Tensor:
        """The per-item label loss of annotated items, shape (B,)."""
        if self.label_loss == "ce":
            return torch.nn.functional.cross_entropy(logits, targets, reduction="none")
        if self.label_loss == "soft":
            if soft is None:
                raise MolliaError("label loss 'soft' needs the annotator's probabilities (soft targets)")
            return soft_cross_entropy(logits, soft)
        if self.label_loss == "gce":
            return generalized_cross_entropy(logits, targets, self.gce_q)
        if self.label_loss == "sce":
            return symmetric_cross_entropy(logits, targets, self.sce_alpha, self.sce_beta, self.sce_log_zero)
        return hard_bootstrap(logits, targets, self.bootstrap_beta)

    def __call__(self, logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor, negatives: torch.Tensor,
                 lam: float, *, soft: torch.Tensor | None = None, trusted: torch.Tensor | None = None,
                 epoch: int = 0) -> torch.Tensor:
        trusted = torch.zeros_like(targets, dtype=torch.bool) if trusted is None else trusted.to(torch.bool)
        ce = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
        base = ce if self.label_loss == "ce" else torch.where(trusted, ce, self.base_loss(logits, targets, soft))
        item = weights.to(base.dtype) * base
        if lam:
            neg = negatives.clone()
            neg[torch.arange(len(targets), device=neg.device), targets] = False  # never push away from y+
            if bool(neg.any()):
                item = item + float(lam) * negative_term(logits, neg, self.negative_reduction)
        rate = forget_rate(epoch, self.small_loss_forget, self.small_loss_ramp)
        if rate > 0:
            keep = small_loss_keep(item, trusted, rate)
            return item[keep].sum() / keep.sum().clamp(min=1)
        return item.mean()
