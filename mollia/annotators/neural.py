"""Trainable neural baselines of Table 2 on h(x) (Eq. 4): FixMatch and SNAIL, small and CPU-fast.

Both use a residual MLP over h(x), as the paper says ("an MLP backbone with residual
connections"), seeded with a `torch.Generator` (no global RNG), one torch thread by default.

FixMatch (Sohn et al. 2020) on probe features, our choice of augmentations:
- weak: Gaussian noise (std ``weak_noise`` = 0.02) on every feature;
- strong: each LLM's whole block (its z_i and c_i) dropped (zeroed) with probability
  ``block_drop`` = 0.3 (at least one LLM kept), plus Gaussian noise (std ``strong_noise`` = 0.1).
  Dropping an LLM is the feature-space analogue of RandAugment/Cutout: the prediction must
  survive losing an annotator.
Loss: CE on weakly augmented labelled items + ``lambda_u`` x CE between the strong view of each
unlabelled item and the pseudo-label of its weak view where that is confident (> ``tau`` = 0.95),
``mu`` = 7 unlabelled per labelled item per step.

SNAIL (Mishra et al. 2018), simplified to what 50 labelled items allow: the residual MLP embeds
each item; a query token attends (two residual multi-head attention blocks) over the labelled
"support" tokens, each carrying its embedding and its label one-hot, plus itself, and a linear
head classifies it. Trained episodically on the labelled set only (each episode hides the
labels of ``n_query`` items, which must be predicted from the others); at annotation time the
support is the whole labelled set. The temporal-convolution blocks of the original are left out
(the support set is an unordered set here).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from mollia.annotators.base import ProbeAnnotator, unlabelled_mask


class ResidualMLP(nn.Module):
    """Linear -> n_blocks x (x + MLP(LayerNorm(x))) -> (embedding, logits)."""

    def __init__(self, d_in: int, n_classes: int, hidden: int = 64, n_blocks: int = 2, dropout: float = 0.1):
        super().__init__()
        self.inp = nn.Linear(d_in, hidden)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, hidden), nn.GELU(), nn.Dropout(dropout),
                          nn.Linear(hidden, hidden))
            for _ in range(n_blocks)
        )
        self.head = nn.Linear(hidden, n_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp(x)
        for block in self.blocks:
            h = h + block(h)
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


class _TorchAnnotator(ProbeAnnotator):
    def __init__(self, hidden: int = 64, n_blocks: int = 2, steps: int = 300, lr: float = 1e-3,
                 weight_decay: float = 1e-4, random_state: int = 0, n_threads: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.n_blocks = n_blocks
        self.steps = steps
        self.lr = lr
        self.weight_decay = weight_decay
        self.random_state = random_state
        self.n_threads = n_threads

    def _fit_proba(self, table, labelled_pos, labelled_y):
        previous = torch.get_num_threads()
        torch.set_num_threads(int(self.n_threads))
        try:
            torch.manual_seed(int(self.random_state))  # parameter initialisation (module init uses the default generator)
            X = torch.as_tensor(table.features(), dtype=torch.float32)
            return self._train_predict(X, table.n_models, table.n_labels, labelled_pos, labelled_y).astype(np.float64)
        finally:
            torch.set_num_threads(previous)


class FixMatchAnnotator(_TorchAnnotator):
    name = "fixmatch"

    def __init__(self, tau: float = 0.95, lambda_u: float = 1.0, mu: int = 7, weak_noise: float = 0.02,
                 strong_noise: float = 0.1, block_drop: float = 0.3, **kwargs):
        super().__init__(**kwargs)
        self.tau = tau
        self.lambda_u = lambda_u
        self.mu = mu
        self.weak_noise = weak_noise
        self.strong_noise = strong_noise
        self.block_drop = block_drop

    def weak(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        return x + self.weak_noise * torch.randn(x.shape, generator=gen)

    def strong(self, x: torch.Tensor, n_models: int, gen: torch.Generator) -> torch.Tensor:
        """Drop whole LLM blocks (z_i and c_i together), keep at least one, add noise."""
        n = x.shape[0]
        keep = torch.rand((n, n_models), generator=gen) >= self.block_drop
        none_kept = ~keep.any(dim=1)
        if none_kept.any():
            rescue = torch.randint(0, n_models, (int(none_kept.sum()),), generator=gen)
            keep[none_kept.nonzero().squeeze(1), rescue] = True
        block = x.shape[1] // n_models
        mask = keep.repeat_interleave(block, dim=1).float()
        return x * mask + self.strong_noise * torch.randn(x.shape, generator=gen)

    def _train_predict(self, X, n_models, K, labelled_pos, labelled_y):
        gen = _generator(self.random_state)
        model = ResidualMLP(X.shape[1], K, self.hidden, self.n_blocks)
        opt = torch.optim.AdamW(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        xl = X[torch.as_tensor(labelled_pos)]
        yl = torch.as_tensor(labelled_y)
        xu_all = X[torch.as_tensor(np.flatnonzero(unlabelled_mask(len(X), labelled_pos)))]
        n_u = min(len(xu_all), self.mu * len(xl))
        ce = nn.CrossEntropyLoss()
        model.train()
        for _ in range(int(self.steps)):
            loss = ce(model(self.weak(xl, gen)), yl)
            if n_u > 0:
                xu = xu_all[torch.randint(0, len(xu_all), (n_u,), generator=gen)]
                with torch.no_grad():
                    p_weak = torch.softmax(model(self.weak(xu, gen)), dim=1)
                conf, pseudo = p_weak.max(dim=1)
                mask = (conf > self.tau).float()
                logits_strong = model(self.strong(xu, n_models, gen))
                unsup = (nn.functional.cross_entropy(logits_strong, pseudo, reduction="none") * mask).mean()
                loss = loss + self.lambda_u * unsup
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            return torch.softmax(model(X), dim=1).numpy()


class SNAILHead(nn.Module):
    """Residual-MLP embedding + attention of a query token over labelled support tokens."""

    def __init__(self, d_in: int, n_classes: int, hidden: int = 64, n_blocks: int = 2, n_heads: int = 4):
        super().__init__()
        self.n_classes = n_classes
        self.encoder = ResidualMLP(d_in, n_classes, hidden, n_blocks)
        self.token = nn.Linear(hidden + n_classes, hidden)
        self.attn = nn.ModuleList(nn.MultiheadAttention(hidden, n_heads, batch_first=True) for _ in range(2))
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(2))
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, xq: torch.Tensor, xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
        """Logits (Q, K) of queries xq (Q, d) given support xs (S, d) with labels ys (S,)."""
        eq, es = self.encoder.embed(xq), self.encoder.embed(xs)
        tq = self.token(torch.cat([eq, torch.zeros(len(eq), self.n_classes)], dim=1)).unsqueeze(1)  # (Q,1,h)
        ts = self.token(torch.cat([es, nn.functional.one_hot(ys, self.n_classes).float()], dim=1))  # (S,h)
        keys = torch.cat([ts.unsqueeze(0).expand(len(eq), -1, -1), tq], dim=1)  # (Q,S+1,h)
        h = tq
        for attn, norm in zip(self.attn, self.norms):
            out, _ = attn(norm(h), keys, keys, need_weights=False)
            h = h + out
        return self.head(h.squeeze(1))


class SNAILAnnotator(_TorchAnnotator):
    name = "snail"

    def __init__(self, n_query: int = 10, batch_size: int = 512, **kwargs):
        super().__init__(**kwargs)
        self.n_query = n_query
        self.batch_size = batch_size

    def _train_predict(self, X, n_models, K, labelled_pos, labelled_y):
        gen = _generator(self.random_state)
        model = SNAILHead(X.shape[1], K, self.hidden, self.n_blocks)
        opt = torch.optim.AdamW(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        xl = X[torch.as_tensor(labelled_pos)]
        yl = torch.as_tensor(labelled_y)
        n_l = len(xl)
        n_query = max(1, min(self.n_query, n_l - 1))
        ce = nn.CrossEntropyLoss()
        model.train()
        for _ in range(int(self.steps) if n_l > 1 else 0):
            order = torch.randperm(n_l, generator=gen)
            q, s = order[:n_query], order[n_query:]
            loss = ce(model(xl[q], xl[s], yl[s]), yl[q])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(X), self.batch_size):
                out.append(torch.softmax(model(X[start:start + self.batch_size], xl, yl), dim=1))
        return torch.cat(out).numpy()
