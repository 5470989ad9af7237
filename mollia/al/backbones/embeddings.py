"""Frozen-encoder sentence embeddings for head mode, computed once per text and cached.

Cache: one store per encoder, dataset and setting,
``mollia_home()/embeddings/<encoder>/<dataset>-<key>.npz`` (``key`` hashes the encoder name, the
pooling and ``max_length``), holding a hash of each text and its vector. A request embeds only the
texts the store lacks, so AL runs of other seeds (other pool samples of one dataset) reuse what
earlier runs encoded. The store is read, filled and rewritten (atomically) under a file lock, so
two runs starting together never encode the same texts twice: the second waits, then reads. An
unreadable or inconsistent store is recomputed, with a warning.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

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


def embedding_cache_path(encoder: str, dataset: str, max_length: int) -> Path:
    """The embedding store of ``encoder`` on ``dataset`` at ``max_length`` (see the module doc)."""
    digest = hashlib.sha256(f"{encoder}\x00{POOLING}\x00{max_length}".encode()).hexdigest()[:20]
    return mollia_home() / "embeddings" / encoder.replace("/", "__") / f"{dataset}-{digest}.npz"


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _read_store(path: Path) -> tuple[list[str], np.ndarray | None]:
    if not path.exists():
        return [], None
    try:
        with np.load(path, allow_pickle=False) as data:
            keys, vectors = data["keys"].tolist(), data["vectors"]
        if vectors.ndim == 2 and len(keys) == len(vectors) == len(set(keys)) and np.isfinite(vectors).all():
            return keys, vectors
        log.warning("embedding cache %s is inconsistent (%d keys, vectors %s): recomputing", path, len(keys),
                    vectors.shape)
    except (OSError, ValueError, KeyError, EOFError) as exc:
        log.warning("embedding cache %s unreadable (%s): recomputing", path, exc)
    return [], None


def cached_embeddings(encoder: str, dataset: str, texts: Sequence[str], max_length: int,
                      compute: Callable[[Sequence[str]], np.ndarray]) -> np.ndarray:
    """Embeddings of ``texts`` (rows in their order): cached ones from the store, the others from
    ``compute(new_texts)``, added to the store atomically."""
    path = embedding_cache_path(encoder, dataset, max_length)
    wanted = [text_key(t) for t in texts]
    with _locked(path):
        keys, vectors = _read_store(path)
        row_of = {k: i for i, k in enumerate(keys)}
        new: dict[str, str] = {}
        for key, text in zip(wanted, texts):
            if key not in row_of and key not in new:
                new[key] = text
        if new:
            computed = np.asarray(compute(list(new.values())), dtype=np.float32)
            if computed.ndim != 2 or len(computed) != len(new):
                raise ValueError(f"embedding function returned shape {computed.shape} for {len(new)} texts")
            if vectors is not None and vectors.shape[1] != computed.shape[1]:
                log.warning("embedding cache %s holds %d-dim vectors, the encoder gives %d: replacing it",
                            path, vectors.shape[1], computed.shape[1])
                old = {k: t for k, t in zip(wanted, texts) if k not in new}
                if old:
                    computed = np.concatenate([computed, np.asarray(compute(list(old.values())), dtype=np.float32)])
                new.update(old)
                keys, vectors = [], None
            keys = keys + list(new)
            vectors = computed if vectors is None else np.concatenate([vectors, computed])
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as fh:
                    np.savez(fh, keys=np.asarray(keys, dtype=str), vectors=vectors)
            row_of = {k: i for i, k in enumerate(keys)}
    return vectors[[row_of[k] for k in wanted]]
