"""Negative labels y- (Eq. 5); their quality against the ground truth (Table 3) is scored in `mollia.study.protocol`.

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
