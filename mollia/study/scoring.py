"""Scoring an AL run's model against the test split's ground truth, each iteration.

Algorithm 1's driver (`mollia.al.loop.run_al`) is given this scorer (``score_test``): the AL stage
trains and predicts, the study scores. `mollia.study.active_learning.run_al` is the driver with it.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, f1_score


def test_metrics(y_true: np.ndarray, y_pred: np.ndarray, n_labels: int) -> dict[str, float]:
    """micro-F1 (the paper's metric; equals accuracy for single-label data), accuracy, macro-F1, and
    the number of test items they were computed on."""
    labels = list(range(n_labels))
    return {
        "n_test": int(len(y_true)),
        "micro_f1": float(f1_score(y_true, y_pred, labels=labels, average="micro", zero_division=0)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
    }


# pytest would collect a module-level test_* function imported into a test file
test_metrics.__test__ = False
