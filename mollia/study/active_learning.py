"""Notebooks 03, 04, 05, 07 (and ``mollia al``): run AL with the study's test scoring, and
learning-curve plots of AL runs (micro-F1 against the labelled-set size)."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import pandas as pd


def run_al(config, out_dir: str | Path, dataset=None, probes=None, **kwargs) -> dict:
    """`mollia.al.loop.run_al` (run or resume one AL configuration, writing metrics.json) with each
    iteration scored on the test split by `mollia.study.scoring.test_metrics`."""
    from mollia.al.loop import run_al as drive
    from mollia.study.scoring import test_metrics

    return drive(config, out_dir, dataset, probes, score_test=test_metrics, **kwargs)


def curve_frame(runs: Mapping[str, dict]) -> pd.DataFrame:
    """Tidy frame (run, iteration, n_labelled, micro_f1, ...) from ``{label: metrics.json document}``."""
    frames = [pd.DataFrame(doc["rows"]).assign(run=label) for label, doc in runs.items() if doc.get("rows")]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def plot_learning_curves(runs: Mapping[str, dict], metric: str = "micro_f1", title: str | None = None,
                         path: str | Path | None = None, ax=None):
    """Plot ``metric`` per labelled-set size, one line per run label (mean and spread over runs that
    share a label when ``runs`` maps ``"label#seed"`` keys: the part before '#' groups them).

    Saves to ``path`` (png/pdf, atomically) when given; returns the matplotlib Figure.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import seaborn as sns

    from mollia.atomic import atomic_path

    frame = curve_frame(runs)
    if frame.empty:
        from mollia.errors import MolliaError

        raise MolliaError("no rows to plot: the runs have no completed iteration")
    frame["group"] = frame["run"].str.split("#").str[0]
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    sns.lineplot(data=frame, x="n_labelled", y=metric, hue="group", marker="o", errorbar="sd", ax=ax)
    ax.set_xlabel("labelled items")
    ax.set_ylabel(metric.replace("_", "-"))
    ax.set_title(title or f"{metric} per AL iteration")
    ax.grid(alpha=0.3)
    ax.legend(title=None, fontsize=8)
    fig.tight_layout()
    if path is not None:
        path = Path(path)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", dpi=150)
    return fig
