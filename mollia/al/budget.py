"""The hybrid human budget (beyond the paper; its "future work": mixing human and LLM labels).

Each AL iteration, of the batch the strategy queried, the ``h`` items whose LLM annotation is most
doubtful go to the human oracle; the rest keep the annotator's labels. Three doubt scores, each
higher = more doubtful, each computed without ground truth:

* ``discrepancy``   the previous AL model's doubt about the annotated label, ``1 - p_model(y+|x)``
                    (a graded form of the paper's annotation discrepancy d_anno, Eq. 8);
* ``disagreement``  the share of the LLMs' sampled answers that are not y+, ``1 - mean_i c_i(y+)``
                    (c of Eq. 3; low agreement among the mixture);
* ``confidence``    the annotator's own doubt, ``1 - q(y+|x)`` (its calibrated posterior).

`route_to_human` returns at most ``h`` batch positions, the highest scores first, ties in batch
order: deterministic, no randomness.
"""

from __future__ import annotations

import numpy as np

from mollia.errors import MolliaError

HUMAN_ROUTES = ("discrepancy", "disagreement", "confidence")


def doubt_scores(route: str, y_plus: np.ndarray, *, model_proba: np.ndarray | None = None,
                 consistency: np.ndarray | None = None, annotator_proba: np.ndarray | None = None) -> np.ndarray:
    """Doubt of each item's annotation y+ by ``route`` (see the module doc), shape (B,).

    ``model_proba`` (B, K) the previous AL model's probabilities; ``consistency`` (B, N, K) the LLMs'
    c; ``annotator_proba`` (B, K) the annotator's posterior.
    """
    y_plus = np.asarray(y_plus, dtype=np.int64)
    rows = np.arange(len(y_plus))
    if route == "discrepancy":
        source, name = model_proba, "the previous AL model's probabilities"
    elif route == "disagreement":
        source, name = consistency, "the LLMs' consistency c (probes)"
    elif route == "confidence":
        source, name = annotator_proba, "the annotator's probabilities"
    else:
        raise MolliaError(f"unknown human route {route!r}; known: {', '.join(HUMAN_ROUTES)}")
    if source is None:
        raise MolliaError(f"human route {route!r} needs {name}")
    source = np.asarray(source, dtype=np.float64)
    if route == "disagreement":
        return 1.0 - source[rows, :, y_plus].mean(axis=1)
    return 1.0 - source[rows, y_plus]


def route_to_human(scores: np.ndarray, h: int) -> np.ndarray:
    """Batch positions (sorted) of the ``min(h, B)`` most doubtful items; ties keep batch order."""
    if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 0:
        raise MolliaError(f"human budget h must be a non-negative integer, got {h!r}")
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1 or np.isnan(scores).any():
        raise MolliaError(f"doubt scores must be a 1-d array without NaN, got shape {scores.shape}")
    n = min(int(h), len(scores))
    order = np.argsort(-scores, kind="stable")
    return np.sort(order[:n])
