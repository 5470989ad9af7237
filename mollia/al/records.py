"""Per-iteration records of an AL run (the ``rows`` of metrics.json): the quality of the labels
just added, negative labels, and how well the annotation discrepancy (and, for Fig. 6, entropy,
margin and LLM consistency) flags wrong annotations. All ground truth used here is for evaluation
only; none of it flows back into training or the annotator. The test-split scores (micro-F1, ...)
are the study's (`mollia.study.scoring.test_metrics`), passed to the driver as ``score_test``."""

from __future__ import annotations

import numpy as np


def entropy(proba: np.ndarray) -> np.ndarray:
    p = np.clip(proba, 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=1)


def margin(proba: np.ndarray) -> np.ndarray:
    """Breaking-ties margin: top-1 minus top-2 probability (small = uncertain)."""
    top2 = np.sort(proba, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


def consistency_agreement(c: np.ndarray, y_plus: np.ndarray) -> np.ndarray:
    """The LLM mixture's agreement with the annotation: mean over LLMs of c_i[y+] (Eq. 3)."""
    return c[np.arange(len(y_plus)), :, y_plus].mean(axis=1)


def _lowest(score: np.ndarray, m: int) -> np.ndarray:
    """Boolean mask of the ``m`` items with the LOWEST ``score`` (stable ties): the ones flagged."""
    flagged = np.zeros(len(score), dtype=bool)
    flagged[np.argsort(score, kind="stable")[:m]] = True
    return flagged


def accurate_detection_rate(flagged: np.ndarray, wrong: np.ndarray) -> float:
    """The paper's Fig. 6 statistic, "the proportion of correctly identified accurate annotations
    among all annotated instances": an annotation a flag does NOT flag is identified as accurate;
    it is correctly so when it is right. So ``#(not flagged and right) / #annotated``."""
    flagged, wrong = np.asarray(flagged, dtype=bool), np.asarray(wrong, dtype=bool)
    return float((~flagged & ~wrong).sum() / len(wrong))


def flag_precision(flagged: np.ndarray, wrong: np.ndarray) -> float | None:
    """Ours: the share of truly wrong annotations among the flagged ones (None when none is flagged)."""
    flagged = np.asarray(flagged, dtype=bool)
    return float(np.asarray(wrong)[flagged].mean()) if flagged.any() else None


def added_rows(y_plus: np.ndarray, truth: np.ndarray, negatives_used: np.ndarray, d_anno: np.ndarray,
               prev_proba: np.ndarray, consistency: np.ndarray | None) -> dict:
    """Record fields about the items added in one iteration.

    ``negatives_used`` (B, K) are the y- the loss trains on (none when negative learning is off);
    ``d_anno`` from the previous iteration's model; ``prev_proba`` its probabilities;
    ``consistency`` the LLMs' c (B, N, K) of these items, or None without probes.
    Flags (Fig. 6): d_anno flags its m discrepant items; entropy, margin and LLM agreement flag as
    many (m highest entropy, m lowest margin, m lowest agreement). Per flag two statistics:
    ``accurate_detection`` (the paper's: not flagged and right, over all B annotated items; defined
    for m = 0 too) and ``flag_precision`` (ours: wrong among the m flagged; None when m = 0).
    """
    wrong = y_plus != truth
    n_neg = int(negatives_used.sum())
    neg_err = None
    if n_neg:
        neg_err = float(negatives_used[np.arange(len(truth)), truth].sum() / n_neg)
    d_anno = np.asarray(d_anno, dtype=bool)
    m = int(d_anno.sum())
    flagged = {"discrepancy": d_anno, "entropy": _lowest(-entropy(prev_proba), m),
               "margin": _lowest(margin(prev_proba), m),
               "consistency": None if consistency is None else
               _lowest(consistency_agreement(consistency, y_plus), m)}
    out = {
        "added_label_accuracy": float((~wrong).mean()) if len(truth) else None,
        "n_negative": n_neg,
        "negative_error_rate": neg_err,
        "discrepancy_rate": float(d_anno.mean()) if len(truth) else None,
        "discrepancy_precision": flag_precision(d_anno, wrong) if m else None,
        "flag_precision": None,
        "accurate_detection": None,
    }
    if len(truth):
        out["accurate_detection"] = {f: None if mask is None else accurate_detection_rate(mask, wrong)
                                     for f, mask in flagged.items()}
    if m:
        out["flag_precision"] = {f: None if mask is None else flag_precision(mask, wrong) for f, mask in flagged.items()}
    return out


def initial_row_fields() -> dict:
    """Iteration 0 trains on the ground-truth initial set: nothing was annotated or flagged."""
    return {"added_label_accuracy": None, "n_negative": 0, "negative_error_rate": None,
            "discrepancy_rate": None, "discrepancy_precision": None, "flag_precision": None,
            "accurate_detection": None}
