"""Sentence embeddings from an encoder: the sentence-transformers rule, written out.

all-MiniLM-L6-v2 (``minilm-l6``) was trained as Transformer -> mean Pooling -> Normalize (its
``modules.json``): the embedding of a text is the mean of the last hidden states over its
non-padding tokens, scaled to unit L2 norm. Cosine similarity is then a plain dot product.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def mean_pool(last_hidden_state, attention_mask):
    """Mean of the token states where attention_mask is 1: (B, L, d), (B, L) -> (B, d)."""
    mask = attention_mask.unsqueeze(-1).to(last_hidden_state.dtype)
    return (last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def embed(
    model,
    tokenizer,
    texts: Sequence[str],
    batch_size: int = 32,
    max_length: int = 256,
    normalize: bool = True,
) -> np.ndarray:
    """(n, d) float32 embeddings of ``texts``: mean pooling, then L2 normalisation if ``normalize``.

    ``max_length`` 256 is all-MiniLM-L6-v2's own ``max_seq_length``; longer texts are truncated.
    """
    import torch
    import torch.nn.functional as F

    device = next(model.parameters()).device
    out = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(
                list(texts[start : start + batch_size]),
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            ).to(device)
            pooled = mean_pool(model(**batch).last_hidden_state, batch["attention_mask"])
            if normalize:
                pooled = F.normalize(pooled, p=2, dim=1)
            out.append(pooled.float().cpu().numpy())
    if not out:
        return np.zeros((0, model.config.hidden_size), dtype=np.float32)
    return np.concatenate(out, axis=0)
