"""Frozen-encoder sentence embeddings for head mode, computed once per dataset and cached.

Cache: ``mollia_home()/embeddings/<encoder>/<dataset>-<key>.npy`` where ``key`` hashes the encoder
name, the pooling, ``max_length`` and every text in order, so a changed dataset never reuses a
stale file. Writes are atomic; an unreadable or mis-shaped cache file is recomputed.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from mollia.atomic import atomic_path
from mollia.paths import mollia_home

log = logging.getLogger(__name__)
POOLING = "mean-l2"  # mean over non-padding tokens, then L2-normalised (sentence-transformers style)


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of the token vectors over non-padding positions: (B, T, H), (B, T) -> (B, H)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


@torch.no_grad()
def encode_texts(model, tokenizer, texts: Sequence[str], max_length: int = 128, batch_size: int = 64,
                 device: str = "cpu", progress: bool = True) -> np.ndarray:
    """Mean-pooled, L2-normalised embeddings of ``texts`` by an encoder (``transformers.AutoModel``)."""
    from tqdm.auto import tqdm

    model = model.to(device).eval()
    # sort by length so each batch pads little; restore the order at the end
    order = np.argsort([len(t) for t in texts], kind="stable")
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    for start in tqdm(range(0, len(texts), batch_size), desc="embedding", disable=not progress, leave=False):
        rows = order[start:start + batch_size]
        enc = tokenizer([texts[i] for i in rows], padding=True, truncation=True, max_length=max_length,
                        return_tensors="pt").to(device)
        hidden = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
        pooled = torch.nn.functional.normalize(mean_pool(hidden, enc["attention_mask"]), dim=-1)
        out[rows] = pooled.float().cpu().numpy()
    return out


def embedding_cache_path(encoder: str, dataset: str, texts: Sequence[str], max_length: int) -> Path:
    digest = hashlib.sha256()
    digest.update(f"{encoder}\x00{POOLING}\x00{max_length}\x00".encode())
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\x00")
    safe = encoder.replace("/", "__")
    return mollia_home() / "embeddings" / safe / f"{dataset}-{digest.hexdigest()[:20]}.npy"


def cached_embeddings(encoder: str, dataset: str, texts: Sequence[str], max_length: int,
                      compute: Callable[[Sequence[str]], np.ndarray]) -> np.ndarray:
    """Embeddings of ``texts`` from the cache, else ``compute(texts)`` stored atomically."""
    path = embedding_cache_path(encoder, dataset, texts, max_length)
    if path.exists():
        try:
            arr = np.load(path, allow_pickle=False)
            if arr.ndim == 2 and arr.shape[0] == len(texts) and np.isfinite(arr).all():
                return arr
            log.warning("embedding cache %s has shape %s for %d texts: recomputing", path, arr.shape, len(texts))
        except (OSError, ValueError) as exc:
            log.warning("embedding cache %s unreadable (%s): recomputing", path, exc)
    arr = np.asarray(compute(list(texts)), dtype=np.float32)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, arr)
    return arr
