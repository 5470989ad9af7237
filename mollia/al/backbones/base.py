"""Shared training and query code of the AL model: an encoder (frozen or trainable) + an MLP head.

Every backbone implements the strategies' :class:`~mollia.al.strategies.QueryModel` protocol over
*dataset positions* (row numbers of the AL dataset frame). Training is a cold start each call:
fresh head (and, when fine-tuning, fresh pretrained encoder weights) from a seed, AdamW, up to
``epochs`` epochs, early stopping on validation micro-F1 (ties broken by validation cross-entropy,
``selection``) with ``patience``, best epoch restored.
All randomness of a call comes from its seed or its ``rng``: torch's global generator is only
used inside ``torch.random.fork_rng`` after ``manual_seed``, so the caller's state is untouched.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch
from torch import nn

from mollia.al.noisy import TrainingObjective
from mollia.al.config import SELECTIONS


class MLPHead(nn.Module):
    """dropout -> Linear(d, h) -> ReLU -> dropout -> Linear(h, K); ``hidden=0``: dropout -> Linear(d, K)
    (a linear head: multinomial logistic regression on the features, with input dropout).

    ``forward(x, masks)`` with explicit ``masks = (input_mask (d,), hidden_mask (h,))`` applies one
    dropout mask shared by every row: the joint Monte-Carlo-dropout draw BEMPS needs.
    """

    def __init__(self, d_in: int, hidden: int, n_labels: int, dropout: float):
        super().__init__()
        self.p = float(dropout)
        self.hidden = nn.Linear(d_in, hidden) if hidden > 0 else None
        self.out = nn.Linear(hidden if hidden > 0 else d_in, n_labels)

    def forward(self, x: torch.Tensor, masks: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        if self.hidden is None:
            return self.out(nn.functional.dropout(x, self.p, self.training) if masks is None else x * masks[0])
        if masks is None:
            x = nn.functional.dropout(x, self.p, self.training)
            h = nn.functional.dropout(torch.relu(self.hidden(x)), self.p, self.training)
        else:
            h = torch.relu(self.hidden(x * masks[0])) * masks[1]
        return self.out(h)

    def dropout_masks(self, generator: torch.Generator, device) -> tuple[torch.Tensor, torch.Tensor]:
        keep = 1.0 - self.p
        d_in = self.out.in_features if self.hidden is None else self.hidden.in_features
        hidden = 0 if self.hidden is None else self.hidden.out_features
        m_in = (torch.rand(d_in, generator=generator) < keep).float() / keep
        m_h = (torch.rand(hidden, generator=generator) < keep).float() / keep
        return m_in.to(device), m_h.to(device)


@contextmanager
def seeded_torch(seed: int, device: str) -> Iterator[None]:
    """Run a block with torch's global RNG seeded, restoring the caller's RNG state afterwards
    (nn.Dropout and nn.Linear's init read the global generator)."""
    devices = [torch.device(device).index or 0] if str(device).startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        yield


def seed_from(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**62))


def micro_f1_of(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Micro-F1 of single-label predictions (equals accuracy)."""
    return float((logits.argmax(dim=1) == labels).float().mean())


class TorchBackbone:
    """Base of the backbones. Subclasses define the network and how positions become features.

    Subclass hooks: ``_build_net()`` (a fresh module with a ``head`` MLPHead attribute, built under
    a seeded RNG), ``_features(net, positions)`` (a (m, d) tensor, with gradients when the caller
    has them enabled) and ``_perturbable(net)`` (the weights NoiseStability perturbs; biases never).
    """

    eval_batch_size = 1024

    def __init__(self, n_labels: int, hidden_size: int = 256, dropout: float = 0.2, lr: float = 1e-3,
                 weight_decay: float = 0.01, epochs: int = 40, patience: int = 10, batch_size: int = 16,
                 device: str = "cpu", progress: bool = False, selection: str = "f1+loss",
                 min_steps_per_epoch: int = 12):
        if selection not in SELECTIONS:
            from mollia.errors import MolliaError

            raise MolliaError(f"unknown epoch selection {selection!r}; known: {', '.join(SELECTIONS)}")
        self.selection = selection
        self.n_labels = int(n_labels)
        self.hidden_size = int(hidden_size)
        self.dropout = float(dropout)
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.epochs = int(epochs)
        self.patience = int(patience)
        self.batch_size = int(batch_size)
        self.min_steps_per_epoch = int(min_steps_per_epoch)
        self.device = device
        self.progress = progress
        self.net_: nn.Module | None = None
        self.history_: list[float] = []

    # -- hooks -----------------------------------------------------------------------------------
    def _build_net(self) -> nn.Module:  # pragma: no cover - abstract
        raise NotImplementedError

    def _features(self, net: nn.Module, positions: np.ndarray) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def _perturbable(self, net: nn.Module) -> list[nn.Parameter]:
        """The weight tensors NoiseStability perturbs: every trainable module's ``weight``, never a
        bias (Li et al.'s ``add_noise_to_weights`` touches ``m.weight`` only)."""
        return [p for name, p in net.named_parameters() if p.requires_grad and name.rsplit(".", 1)[-1] == "weight"]

    # -- training --------------------------------------------------------------------------------
    def fit(self, positions: np.ndarray, targets: np.ndarray, weights: np.ndarray, negatives: np.ndarray,
            lam: float, val_positions: np.ndarray, val_labels: np.ndarray, seed: int, *,
            objective: TrainingObjective | None = None, soft_targets: np.ndarray | None = None,
            trusted: np.ndarray | None = None) -> "TorchBackbone":
        """Cold-start training with the robust loss (Eq. 9) on the labelled items.

        ``targets`` y+ (n,), ``weights`` W_d (n,), ``negatives`` (n, K) bool y-, ``lam`` lambda.
        ``objective`` (default: Eq. 9 itself) may swap the CE term for a noisy-label loss
        (`mollia.al.noisy`), which may read ``soft_targets`` (n, K) and ``trusted`` (n,) bool.
        Early stopping on validation micro-F1 (ground truth of the validation split, as the paper).
        """
        objective = objective or TrainingObjective()
        positions = np.asarray(positions, dtype=np.int64)
        y = torch.as_tensor(np.asarray(targets, dtype=np.int64), device=self.device)
        w = torch.as_tensor(np.asarray(weights, dtype=np.float32), device=self.device)
        neg = torch.as_tensor(np.asarray(negatives, dtype=bool), device=self.device)
        soft = None if soft_targets is None else torch.as_tensor(np.asarray(soft_targets, dtype=np.float32),
                                                                 device=self.device)
        trust = torch.zeros(len(positions), dtype=torch.bool, device=self.device) if trusted is None else \
            torch.as_tensor(np.asarray(trusted, dtype=bool), device=self.device)
        val_y = torch.as_tensor(np.asarray(val_labels, dtype=np.int64), device=self.device)
        with seeded_torch(seed, self.device):
            net = self._build_net().to(self.device)
            # fused: one kernel per step instead of a dozen per tensor (same update rule)
            opt = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=self.lr,
                                    weight_decay=self.weight_decay, fused=True)
            order_gen = torch.Generator().manual_seed(int(seed))
            best_score, best_state, since_best = None, None, 0
            batch = self.epoch_batch_size(len(positions))
            self.history_ = []
            for epoch in range(self.epochs):
                net.train()
                perm = torch.randperm(len(positions), generator=order_gen).numpy()
                for start in range(0, len(perm), batch):
                    rows = perm[start:start + batch]
                    logits = net.head(self._features(net, positions[rows]))
                    loss = objective(logits, y[rows], w[rows], neg[rows], lam, epoch=epoch, trusted=trust[rows],
                                     soft=None if soft is None else soft[rows])
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                val_logits = self._logits(net, val_positions)
                f1 = micro_f1_of(val_logits, val_y)
                self.history_.append(f1)
                score = self._epoch_score(f1, val_logits, val_y)
                if best_score is None or score > best_score:
                    best_score, since_best = score, 0
                    best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
                else:
                    since_best += 1
                    if since_best >= self.patience:
                        break
        if best_state is not None:
            net.load_state_dict(best_state)
        net.eval()
        self.net_ = net
        return self

    def epoch_batch_size(self, n_items: int) -> int:
        """The training batch: ``batch_size``, smaller when there are too few items for an epoch of
        ``min_steps_per_epoch`` steps (with 50 labels and batches of 16, an epoch was 4 steps and early
        stopping's patience ran out before the head had learnt much: bench/head_vs_linear.py)."""
        return max(1, min(self.batch_size, -(-int(n_items) // max(1, self.min_steps_per_epoch))))

    def _epoch_score(self, f1: float, val_logits: torch.Tensor, val_y: torch.Tensor) -> tuple[float, ...]:
        """What early stopping maximises: "f1" = validation micro-F1 (ties keep the earlier epoch);
        "f1+loss" = micro-F1, ties broken by the lower validation cross-entropy (on a small
        validation split micro-F1 is flat for the first epochs, and "f1" then keeps an almost
        untrained one); "loss" = the cross-entropy alone."""
        if self.selection == "f1":
            return (f1,)
        nll = float(nn.functional.cross_entropy(val_logits, val_y)) if len(val_y) else 0.0
        return (-nll,) if self.selection == "loss" else (f1, -nll)

    # -- state -----------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {k: v.detach().cpu() for k, v in self._net().state_dict().items()}

    def load_state_dict(self, state: dict) -> "TorchBackbone":
        with seeded_torch(0, self.device):  # the init is overwritten at once
            net = self._build_net().to(self.device)
        net.load_state_dict(state)
        net.eval()
        self.net_ = net
        return self

    def _net(self) -> nn.Module:
        if self.net_ is None:
            from mollia.errors import MolliaError

            raise MolliaError("the AL model is not trained yet: call fit() first")
        return self.net_

    # -- QueryModel ------------------------------------------------------------------------------
    @torch.no_grad()
    def _logits(self, net: nn.Module, positions: np.ndarray, masks=None) -> torch.Tensor:
        net.eval()
        positions = np.asarray(positions, dtype=np.int64)
        parts = [net.head(self._features(net, positions[s:s + self.eval_batch_size]), masks)
                 for s in range(0, len(positions), self.eval_batch_size)]
        if not parts:
            return torch.zeros((0, self.n_labels), device=self.device)
        return torch.cat(parts)

    def predict_proba(self, idx) -> np.ndarray:
        """Eval-mode class probabilities, (m, K) float64."""
        return torch.softmax(self._logits(self._net(), idx), dim=1).double().cpu().numpy()

    @torch.no_grad()
    def embed(self, idx) -> np.ndarray:
        """What the head reads: the (frozen or fine-tuned) mean-pooled encoder vector, (m, d)."""
        net = self._net()
        net.eval()
        idx = np.asarray(idx, dtype=np.int64)
        parts = [self._features(net, idx[s:s + self.eval_batch_size]) for s in range(0, len(idx), self.eval_batch_size)]
        return torch.cat(parts).float().cpu().numpy() if parts else np.zeros((0, 0), dtype=np.float32)

    @torch.no_grad()
    def predict_proba_samples(self, idx, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        """MC dropout (S, m, K): sample s is one dropout mask of the head, shared by every row."""
        net = self._net()
        idx = np.asarray(idx, dtype=np.int64)
        feats = torch.from_numpy(self.embed(idx)).to(self.device)
        gen = torch.Generator().manual_seed(seed_from(rng))
        out = np.empty((int(n_samples), len(idx), self.n_labels))
        for s in range(int(n_samples)):
            masks = net.head.dropout_masks(gen, self.device)
            out[s] = torch.softmax(net.head(feats, masks), dim=1).double().cpu().numpy()
        return out

    @torch.no_grad()
    def perturbed_proba(self, idx, noise_scale: float, n_draws: int, rng: np.random.Generator) -> np.ndarray:
        """(D, m, K) under ``W + noise_scale * ||W|| * Z / ||Z||`` on a copy (NoiseStability), for
        every weight tensor W of `_perturbable` (biases stay as trained)."""
        net = self._net()
        idx = np.asarray(idx, dtype=np.int64)
        gen = torch.Generator().manual_seed(seed_from(rng))
        out = np.empty((int(n_draws), len(idx), self.n_labels))
        for d in range(int(n_draws)):
            noisy = copy.deepcopy(net)
            for p in self._perturbable(noisy):
                z = torch.randn(p.shape, generator=gen).to(p.device, p.dtype)
                p.add_(z * (float(noise_scale) * p.norm() / z.norm().clamp(min=1e-12)))
            out[d] = torch.softmax(self._logits(noisy, idx), dim=1).double().cpu().numpy()
        return out
