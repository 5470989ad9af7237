"""The one reliability / ECE of the project (annotators' probabilities in notebook 02, the LLMs'
z in notebook 01): expected calibration error and the reliability plot.

ECE (Naeini et al. 2015; Guo et al. 2017): items are binned by their top probability into
``n_bins`` equal-width bins, right-closed (lo, hi] (the first bin also takes 0); ECE = sum over
bins of (share of items) x |accuracy - mean confidence|. Notebook 02 uses 15 bins, notebook 01 10.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from mollia.atomic import atomic_path
from mollia.errors import DataError


def reliability_bins(proba: np.ndarray, y: np.ndarray, n_bins: int = 15) -> dict[str, np.ndarray]:
    """Per-bin count, mean confidence and accuracy of the top-probability prediction."""
    proba = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    if proba.ndim != 2 or len(proba) != len(y) or len(y) == 0:
        raise DataError(f"reliability: proba {proba.shape} does not match labels {y.shape}")
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    safe = np.maximum(count, 1)
    return {"edges": edges, "count": count,
            "confidence": np.bincount(which, weights=conf, minlength=n_bins) / safe,
            "accuracy": np.bincount(which, weights=correct.astype(float), minlength=n_bins) / safe}


def expected_calibration_error(proba: np.ndarray, y: np.ndarray, n_bins: int = 15) -> float:
    bins = reliability_bins(proba, y, n_bins)
    weights = bins["count"] / bins["count"].sum()
    return float((weights * np.abs(bins["accuracy"] - bins["confidence"])).sum())


def plot_reliability(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], path: str | Path, n_bins: int = 15,
                     title: str = "Reliability of annotators' probabilities") -> Path:
    """One reliability diagram per method (``{method: (proba, y)}``), saved atomically as ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not curves:
        raise DataError("reliability plot: no methods given")
    n = len(curves)
    cols = min(4, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.2 * rows), squeeze=False)
    for ax, (method, (proba, y)) in zip(axes.ravel(), curves.items()):
        bins = reliability_bins(proba, y, n_bins)
        centres = (bins["edges"][:-1] + bins["edges"][1:]) / 2
        used = bins["count"] > 0
        ax.bar(centres[used], bins["accuracy"][used], width=1.0 / n_bins, edgecolor="black", alpha=0.7,
               label="accuracy")
        ax.plot([0, 1], [0, 1], "k--", lw=1)
        ax.set_title(f"{method}\nECE {expected_calibration_error(proba, y, n_bins):.3f}", fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("confidence")
        ax.set_ylabel("accuracy")
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", dpi=120)
    plt.close(fig)
    return path
