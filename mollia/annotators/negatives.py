"""Negative labels y- (Eq. 5) and their quality (Table 3).

Eq. 5 of the paper: ``y- = {k | z_i^(k) < delta for every LLM i}``: a label is negative when
*all* N LLMs give it a probability below ``delta`` (default 0.001). This is the default here
(``rule="all"``). The authors' released code uses a looser variant, the *mean* over LLMs
``mean_i z_i^(k) <= delta`` (``rule="mean"``); offered as an option, never the default.

Negative labels are a function of the probes alone (no labels, no model), so every annotator
of this package reports the same y- for an item; `Annotation.negatives` carries them.
"""

from __future__ import annotations

import numpy as np

from mollia.errors import DataError, UnknownNameError

DEFAULT_DELTA = 0.001
NEGATIVE_RULES = ("all", "mean")


def negative_labels(z: np.ndarray, delta: float = DEFAULT_DELTA, rule: str = "all") -> np.ndarray:
    """Boolean (n, K) mask of negative labels from z of shape (n, N, K) (Eq. 5).

    ``rule="all"``: every LLM's z below ``delta`` (the paper's Eq. 5, default);
    ``rule="mean"``: mean z over LLMs at most ``delta`` (the authors' released variant).
    """
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 3:
        raise DataError(f"negative labels: z must have shape (n, N, K), got {z.shape}")
    if not delta > 0:
        raise DataError(f"negative labels: delta must be > 0, got {delta}")
    if rule == "all":
        return (z < delta).all(axis=1)
    if rule == "mean":
        return z.mean(axis=1) <= delta
    raise UnknownNameError("negative-label rule", rule, NEGATIVE_RULES)


def negative_label_rates(negatives: np.ndarray, ground_truth: np.ndarray) -> dict[str, float]:
    """Table 3: true and false negative labels as shares of the label space (n * K cells).

    A *true* negative label is a negative label that is not the item's true label; a *false*
    one is the true label marked negative. Also reports the share of items with any false
    negative and the mean number of negatives per item.
    """
    negatives = np.asarray(negatives, dtype=bool)
    gt = np.asarray(ground_truth, dtype=np.int64)
    if negatives.ndim != 2 or negatives.shape[0] != len(gt):
        raise DataError(f"negative label rates: negatives {negatives.shape} vs ground truth {gt.shape}")
    n, K = negatives.shape
    is_true = np.zeros_like(negatives)
    is_true[np.arange(n), gt] = True
    false_neg = negatives & is_true
    true_neg = negatives & ~is_true
    return {
        "true_negative_rate": float(true_neg.sum() / (n * K)),
        "false_negative_rate": float(false_neg.sum() / (n * K)),
        "items_with_false_negative": float(false_neg.any(axis=1).mean()),
        "negatives_per_item": float(negatives.sum(axis=1).mean()),
        "n_items": int(n),
        "n_labels": int(K),
    }
