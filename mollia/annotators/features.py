"""Features and per-LLM labels built from a `ProbeTable` (no labels involved).

- `probe_features`: h(x) = [z_1, c_1, ..., z_N, c_N] (Eq. 4), the MoLAM input.
- `log_probabilities`: log of each LLM's z renormalised over the K labels (floored), the input
  of the stacking annotator. The released z of some LLMs sums above 1 (see the reference data's
  README), so renormalising first makes the LLMs comparable.
- `vote_scores` / `vote_labels`: THE vote rule, used by every annotator, ensemble, crowd-kit worker
  and notebook 01: an LLM's label is argmax of its consistency c (Eq. 3); labels its samples named
  equally often are told apart by its z (renormalised, scaled far below one vote share 1/T); where
  all T samples were invalid (c sums to 0) the label is argmax z: never a silent class 0.
"""

from __future__ import annotations

import numpy as np

from mollia.probes.table import ProbeTable

LOG_FLOOR = 1e-6
# c takes values in multiples of 1/T; a z-based nudge this small only breaks exact ties
VOTE_TIE_BREAK = 1e-6


def probe_features(table: ProbeTable) -> np.ndarray:
    """h(x) (Eq. 4), shape (n, 2*N*K)."""
    return table.features()


def normalised_z(z: np.ndarray) -> np.ndarray:
    """Each LLM's z renormalised over the labels; an all-zero row becomes uniform."""
    z = np.clip(np.asarray(z, dtype=np.float64), 0.0, None)
    total = z.sum(axis=-1, keepdims=True)
    K = z.shape[-1]
    return np.where(total > 0, z / np.where(total > 0, total, 1.0), 1.0 / K)


def log_probabilities(z: np.ndarray, floor: float = LOG_FLOOR) -> np.ndarray:
    """log of renormalised z, floored at ``floor`` (so a 0 does not give -inf), shape as z."""
    p = np.clip(normalised_z(z), floor, None)
    return np.log(p / p.sum(axis=-1, keepdims=True))


def vote_scores(c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The vote rule's scores, shape as c (``(..., K)``): c nudged by renormalised z (ties), and
    renormalised z where c sums to 0. Their argmax is the vote label."""
    zn = normalised_z(z)
    return np.where(np.asarray(c).sum(axis=-1, keepdims=True) > 0, c + VOTE_TIE_BREAK * zn, zn)


def vote_labels(table: ProbeTable) -> tuple[np.ndarray, np.ndarray]:
    """(labels, fell_back): (n, N) each LLM's vote label (`vote_scores`).

    ``fell_back[i, j]`` is True where LLM j's label for item i came from z (all samples invalid).
    """
    fell_back = table.c.sum(axis=-1) <= 0
    return vote_scores(table.c, table.z).argmax(axis=-1).astype(np.int64), fell_back


def softmax(scores: np.ndarray) -> np.ndarray:
    s = scores - scores.max(axis=-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=-1, keepdims=True)
