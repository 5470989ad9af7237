"""Head mode (``head:<encoder>``): frozen encoder embeddings, computed once per dataset and
cached, with a trainable MLP head trained by the robust loss. The fast, CPU-friendly backbone."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from mollia.al.backbones.base import MLPHead, TorchBackbone
from mollia.al.backbones.embeddings import cached_embeddings, encode_texts

EmbedFn = Callable[[Sequence[str]], np.ndarray]


class _HeadOnly(nn.Module):
    def __init__(self, head: MLPHead):
        super().__init__()
        self.head = head


class HeadBackbone(TorchBackbone):
    """MLP head on fixed features ``features[position]`` (one row per dataset position)."""

    def __init__(self, features: np.ndarray, n_labels: int, **kwargs):
        super().__init__(n_labels, **kwargs)
        self.features = torch.as_tensor(np.asarray(features, dtype=np.float32), device=self.device)

    def _build_net(self) -> nn.Module:
        return _HeadOnly(MLPHead(self.features.shape[1], self.hidden_size, self.n_labels, self.dropout))

    def _features(self, net: nn.Module, positions: np.ndarray) -> torch.Tensor:
        return self.features[torch.as_tensor(positions, dtype=torch.long, device=self.device)]


def encoder_embed_fn(encoder: str, max_length: int = 128, device: str = "cpu", progress: bool = True) -> EmbedFn:
    """An ``EmbedFn`` that loads ``encoder`` via ``mollia.models.load_encoder`` when first called."""

    def embed(texts: Sequence[str]) -> np.ndarray:
        from mollia.models import load_encoder

        model, tokenizer = load_encoder(encoder, device=device)
        return encode_texts(model, tokenizer, list(texts), max_length=max_length, device=device, progress=progress)

    return embed


def head_features(encoder: str, dataset_name: str, texts: Sequence[str], max_length: int = 128,
                  device: str = "cpu", embed_fn: EmbedFn | None = None, progress: bool = True) -> np.ndarray:
    """Frozen embeddings of ``texts``: from ``embed_fn`` when given (tests; not cached), else from
    the encoder through the on-disk cache (`cached_embeddings`)."""
    if embed_fn is not None:
        return np.asarray(embed_fn(list(texts)), dtype=np.float32)
    return cached_embeddings(encoder, dataset_name, texts, max_length,
                             encoder_embed_fn(encoder, max_length, device, progress))
