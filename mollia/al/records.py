"""Per-iteration records of an AL run (the ``rows`` of metrics.json): test metrics, the quality of
the labels just added, negative labels, and how well the annotation discrepancy (and, for Fig. 6,
entropy, margin and LLM consistency) flags wrong annotations. All ground truth used here is for
evaluation only; none of it flows back into training or the annotator."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

SCHEMA = 1


def test_metrics(y_true: np.ndarray, y_pred: np.ndarray, n_labels: int) -> dict[str, float]:
    """micro-F1 (the paper's metric; equals accuracy for single-label data), accuracy, macro-F1."""
    labels = list(range(n_labels))
    return {
        "micro_f1": float(f1_score(y_true, y_pred, labels=labels, average="micro", zero_division=0)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
    }


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


def _precision_of_lowest(score: np.ndarray, wrong: np.ndarray, m: int) -> float:
    """Share of wrong annotations among the ``m`` items with the LOWEST ``score`` (stable ties)."""
    chosen = np.argsort(score, kind="stable")[:m]
    return float(wrong[chosen].mean())


def added_rows(y_plus: np.ndarray, truth: np.ndarray, negatives_used: np.ndarray, d_anno: np.ndarray,
               prev_proba: np.ndarray, consistency: np.ndarray | None) -> dict:
    """Record fields about the items added in one iteration.

    ``negatives_used`` (B, K) are the y- the loss trains on (none when negative learning is off);
    ``d_anno`` from the previous iteration's model; ``prev_proba`` its probabilities;
    ``consistency`` the LLMs' c (B, N, K) of these items, or None without probes.
    Flags (Fig. 6): as many items as d_anno flags are flagged by highest entropy, lowest margin and
    lowest LLM agreement; each flag's precision is the share of truly wrong annotations among them.
    """
    wrong = y_plus != truth
    n_neg = int(negatives_used.sum())
    neg_err = None
    if n_neg:
        neg_err = float(negatives_used[np.arange(len(truth)), truth].sum() / n_neg)
    m = int(d_anno.sum())
    out = {
        "added_label_accuracy": float((~wrong).mean()) if len(truth) else None,
        "n_negative": n_neg,
        "negative_error_rate": neg_err,
        "discrepancy_rate": float(d_anno.mean()) if len(truth) else None,
        "discrepancy_precision": float(wrong[d_anno.astype(bool)].mean()) if m else None,
        "flag_precision": None,
    }
    if m:
        out["flag_precision"] = {
            "discrepancy": out["discrepancy_precision"],
            "entropy": _precision_of_lowest(-entropy(prev_proba), wrong, m),
            "margin": _precision_of_lowest(margin(prev_proba), wrong, m),
            "consistency": None if consistency is None else
            _precision_of_lowest(consistency_agreement(consistency, y_plus), wrong, m),
        }
    return out


def initial_row_fields() -> dict:
    """Iteration 0 trains on the ground-truth initial set: nothing was annotated or flagged."""
    return {"added_label_accuracy": None, "n_negative": 0, "negative_error_rate": None,
            "discrepancy_rate": None, "discrepancy_precision": None, "flag_precision": None}
