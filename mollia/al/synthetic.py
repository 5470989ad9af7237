"""A small synthetic AL problem (texts, labels, LLM-like probes, an embedding function) for tests,
demos and benchmarks that must run in seconds without models. Not a result of any kind."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from mollia.data.dataset import Dataset
from mollia.probes.table import ProbeTable


def synthetic_problem(n_train: int = 400, n_val: int = 100, n_test: int = 200, n_labels: int = 4, dim: int = 16,
                      n_llms: int = 3, llm_accuracy: float = 0.7, separation: float = 2.0, seed: int = 0,
                      name: str = "synthetic"):
    """(Dataset, ProbeTable over the train+validation items, embed_fn) with Gaussian class clusters.

    Each fake LLM answers the true label with probability ``llm_accuracy`` (else a random other
    label); its z puts most mass on its answer and nearly none (< 0.001) on one label per item that is
    never the truth, so negative labels exist and are right; c is the share of
    T = 10 answers drawn from z.
    """
    rng = np.random.default_rng(seed)
    n = n_train + n_val + n_test
    labels = rng.integers(0, n_labels, n)
    centres = rng.normal(size=(n_labels, dim)) * separation
    vectors = (centres[labels] + rng.normal(size=(n, dim))).astype(np.float32)
    texts = [f"synthetic item {i} of class {labels[i]}" for i in range(n)]
    split = np.array(["train"] * n_train + ["validation"] * n_val + ["test"] * n_test)
    frame = pd.DataFrame({"id": np.arange(n), "text": texts, "label": labels, "split": split})
    names = [f"class_{k}" for k in range(n_labels)]
    dataset = Dataset.from_frame(name, frame, names, source="synthetic")

    m = n_train + n_val
    # one label per item, never the truth, that every LLM nearly excludes (unless it answers it)
    excluded = (labels[:m] + rng.integers(1, n_labels, m)) % n_labels
    z = np.zeros((m, n_llms, n_labels))
    c = np.zeros((m, n_llms, n_labels))
    rows = np.arange(m)
    for j in range(n_llms):
        right = rng.random(m) < llm_accuracy
        answer = np.where(right, labels[:m], (labels[:m] + rng.integers(1, n_labels, m)) % n_labels)
        logits = rng.normal(size=(m, n_labels))
        logits[rows, answer] += 4.0
        p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        p[rows, excluded] = np.where(answer == excluded, p[rows, excluded], 1e-4)
        z[:, j] = p
        draws = (rng.random((m, 10, 1)) > (p / p.sum(1, keepdims=True)).cumsum(1)[:, None, :]).sum(2)
        draws = np.minimum(draws, n_labels - 1)
        c[:, j] = (draws[:, :, None] == np.arange(n_labels)).mean(1)
    probes = ProbeTable(name, tuple(names), tuple(f"llm{j}" for j in range(n_llms)), np.arange(m), z, c)
    lookup = dict(zip(texts, vectors))

    def embed_fn(batch: Sequence[str]) -> np.ndarray:
        return np.stack([lookup[t] for t in batch])

    return dataset, probes, embed_fn
