"""Figures 4-12 analogues from collected metrics (matplotlib, saved as PNG and PDF, atomically).

Learning curves are micro-F1 against the labelled-set size, mean over seeds with a band of one
standard deviation, one line per annotator (Figs. 4, 5, 8, 9: one figure per dataset x backbone x
strategy present), per ablation variant (Fig. 7), per lambda schedule (Fig. 10), per alpha (Fig. 11).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mollia.atomic import atomic_path  # noqa: E402
from mollia.records import AnalysisRecord  # noqa: E402
from mollia.study import paper  # noqa: E402
from mollia.study.experiments import ABLATION_LABELS  # noqa: E402
from mollia.study.tables import DEFAULT_ROBUST  # noqa: E402

ANNOTATOR_ORDER = ("oracle", "oracle-robust", "molam", "mol", "llms-l", "llms-v")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", str(text)).strip("-")


def show(fig) -> None:
    """Show ``fig`` in a notebook as a PNG, whatever the matplotlib backend (this module selects
    Agg, under which the inline backend shows nothing), and close it."""
    import io

    from IPython.display import Image, display

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    display(Image(data=buffer.getvalue(), format="png"))


def save(fig, folder: str | Path, stem: str) -> list[Path]:
    """Save ``fig`` as ``stem.png`` and ``stem.pdf`` under ``folder`` (atomic writes); close it."""
    folder = Path(folder)
    paths = []
    for ext in ("png", "pdf"):
        path = folder / f"{stem}.{ext}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=ext, dpi=120, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths


def curve_axes(rows, label: str = "", ax=None, metric: str = "micro_f1"):
    """One run's learning curve (for the notebooks)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    frame = pd.DataFrame(rows)
    if not frame.empty and metric in frame:
        ax.plot(frame["n_labelled"], frame[metric], marker="o", label=label)
    ax.set_xlabel("labelled items")
    ax.set_ylabel(metric.replace("_", "-"))
    if label:
        ax.legend()
    return ax


def _mean_curves(df: pd.DataFrame, by: str, metric: str = "micro_f1") -> dict:
    curves = {}
    for key, g in df.groupby(by, sort=False):
        per_point = g.groupby("n_labelled")[metric]
        stats = per_point.agg(["mean", "std", "count"]).reset_index().sort_values("n_labelled")
        curves[key] = stats.fillna({"std": 0.0})
    return curves


def _plot_curves(ax, curves: dict, order=None, label_of=None) -> None:
    keys = list(curves)
    if order:
        keys.sort(key=lambda k: (list(order).index(k) if k in order else len(order), str(k)))
    for key in keys:
        s = curves[key]
        n = int(s["count"].max())
        label = (label_of(key) if label_of else str(key)) + f" (n={n})"
        style = {"color": "black", "linestyle": "--"} if key == "oracle" else {}
        line, = ax.plot(s["n_labelled"], s["mean"], marker="o", markersize=3, label=label, **style)
        ax.fill_between(s["n_labelled"], s["mean"] - s["std"], s["mean"] + s["std"], alpha=0.15, color=line.get_color())
    ax.set_xlabel("labelled items")
    ax.set_ylabel("micro-F1")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def _panels(df: pd.DataFrame):
    """One panel per dataset x probes x backbone x strategy; runs of other settings (iterations,
    batch, pool) are kept apart by suffixing the setting to the probe-set name."""
    df = df.assign(probe_set=df["probe_set"] + np.where(df.groupby(["dataset", "probe_set"])["setting"].transform("nunique") > 1,
                                                         " " + df["setting"], ""))
    return df.groupby(["dataset", "probe_set", "backbone", "strategy"], sort=True)


def learning_curves(al: pd.DataFrame, folder: Path) -> list[Path]:
    """Figs. 4, 5, 8, 9 analogues: per dataset x backbone x strategy, a line per annotator."""
    from mollia.study.tables import default_robust

    out = []
    for (dataset, probe, backbone, strategy), g in _panels(default_robust(al)):
        fig, ax = plt.subplots(figsize=(6, 4))
        _plot_curves(ax, _mean_curves(g, "annotator"), ANNOTATOR_ORDER)
        ref = paper.curve_figure_for(strategy, backbone)
        ax.set_title(f"{dataset} [{probe}] · {strategy} · {backbone}" + (f"\n(analogue of the paper's {ref})" if ref else ""),
                     fontsize=9)
        out += save(fig, folder, f"fig04-09_curves_{_slug(dataset)}_{_slug(probe)}_{_slug(backbone)}_{_slug(strategy)}")
    return out


def ablation_curves(al: pd.DataFrame, folder: Path) -> list[Path]:
    """Fig. 7 analogue: variants A-D of Table 4 (MoLAM annotates), per dataset x backbone x strategy."""
    out = []
    sub = al[al["annotator"].eq("molam")]
    for k, v in DEFAULT_ROBUST.items():
        sub = sub[np.isclose(pd.to_numeric(sub[k], errors="coerce").astype(float), v)]
    for (dataset, probe, backbone, strategy), g in _panels(sub):
        if g["variant"].nunique() < 2:
            continue
        fig, ax = plt.subplots(figsize=(6, 4))
        _plot_curves(ax, _mean_curves(g, "variant"), list(ABLATION_LABELS), ABLATION_LABELS.get)
        ax.set_title(f"Ablation (Table 4 variants) · {dataset} [{probe}] · {strategy} · {backbone}", fontsize=9)
        out += save(fig, folder, f"fig07_ablation_{_slug(dataset)}_{_slug(probe)}_{_slug(backbone)}_{_slug(strategy)}")
    return out


def sensitivity_curves(al: pd.DataFrame, folder: Path) -> list[Path]:
    """Figs. 10 (lambda schedules, alpha at its default) and 11 (alpha, lambda at its default)."""
    out = []
    sub = al[al["annotator"].eq("molam") & al["variant"].eq("A")]
    alpha = pd.to_numeric(sub["alpha"], errors="coerce").astype(float)
    lam0 = pd.to_numeric(sub["lambda_start"], errors="coerce").astype(float)
    lam1 = pd.to_numeric(sub["lambda_end"], errors="coerce").astype(float)
    default_alpha = np.isclose(alpha, DEFAULT_ROBUST["alpha"])
    default_lambda = np.isclose(lam0, DEFAULT_ROBUST["lambda_start"]) & np.isclose(lam1, DEFAULT_ROBUST["lambda_end"])
    lam_runs = sub[default_alpha].assign(schedule=[f"λ {a:g}→{b:g}" for a, b in zip(lam0[default_alpha], lam1[default_alpha])])
    alpha_runs = sub[default_lambda].assign(schedule=[f"α {a:g}" for a in alpha[default_lambda]])
    for fig_id, runs, what in (("fig10", lam_runs, "negative-learning weight λ"), ("fig11", alpha_runs, "discrepancy weight α")):
        for (dataset, probe, backbone, strategy), g in _panels(runs):
            if g["schedule"].nunique() < 2:
                continue
            fig, ax = plt.subplots(figsize=(6, 4))
            _plot_curves(ax, _mean_curves(g, "schedule"), sorted(g["schedule"].unique()))
            ax.set_title(f"Sensitivity to {what} · {dataset} [{probe}] · {strategy} · {backbone}", fontsize=9)
            name = "lambda" if fig_id == "fig10" else "alpha"
            out += save(fig, folder, f"{fig_id}_{name}_{_slug(dataset)}_{_slug(probe)}_{_slug(backbone)}_{_slug(strategy)}")
    return out


FLAG_NAMES = ["discrepancy", "entropy", "margin", "consistency"]


def _flag_panel(ax, g: pd.DataFrame, annotators: list, ylabel: str, title: str) -> None:
    width = 0.8 / len(FLAG_NAMES)
    for j, flag in enumerate(FLAG_NAMES):
        vals = [g[(g["annotator"] == a) & (g["flag"] == flag)]["mean"].mean() for a in annotators]
        errs = [g[(g["annotator"] == a) & (g["flag"] == flag)]["std"].mean() for a in annotators]
        ax.bar(np.arange(len(annotators)) + j * width, np.nan_to_num(vals), width, yerr=np.nan_to_num(errs),
               label=flag, capsize=2)
    ax.set_xticks(np.arange(len(annotators)) + 0.4 - width / 2, annotators, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=7)


def flag_bars(accurate: pd.DataFrame, flags: pd.DataFrame, folder: Path) -> list[Path]:
    """Fig. 6: left, the paper's statistic (accurate-detection rate: annotations not flagged and
    right, over all annotated ones); right, ours (precision of the flags at catching wrong
    annotations); per dataset and annotator, each flag flagging as many items as the discrepancy."""
    frames = [f for f in (accurate, flags) if not f.empty]
    if not frames:
        return []
    keys = pd.concat([f[["dataset", "probe_set"]] for f in frames]).drop_duplicates()
    out = []
    for dataset, probe in keys.itertuples(index=False):
        panels = [(frame[(frame["dataset"] == dataset) & (frame["probe_set"] == probe)], ylabel, title)
                  for frame, ylabel, title in (
                      (accurate, "accurate-detection rate", "the paper's Fig. 6 statistic: not flagged and right / all"),
                      (flags, "precision of the flag", "ours: wrong among the flagged"))
                  if not frame.empty]
        panels = [p for p in panels if not p[0].empty]  # (a frame may lack this dataset)
        annotators = list(dict.fromkeys(pd.concat([p[0]["annotator"] for p in panels])))
        fig, axes = plt.subplots(1, len(panels), figsize=(len(panels) * max(5, 1.3 * len(annotators) + 2), 3.8),
                                 squeeze=False)
        for ax, (g, ylabel, title) in zip(axes[0], panels):
            _flag_panel(ax, g, annotators, ylabel, title)
        fig.suptitle(f"Flagging annotations · {dataset} [{probe}] (the paper's Fig. 6)", fontsize=9)
        out += save(fig, folder, f"fig06_flags_{_slug(dataset)}_{_slug(probe)}")
    return out


def format_example(example: dict) -> str:
    """Fig. 12's layout of an example record (`mollia.study.fig12.format_example`)."""
    from mollia.study.fig12 import format_example as listing

    return listing(example)


def qualitative(analyses: list[AnalysisRecord], folder: Path, per_dataset: int = 2) -> list[Path]:
    """Fig. 12 analogue: examples where the annotator is right and both ensembles wrong, as text panels."""
    out = []
    for rec in analyses:
        examples = rec.qualitative[:per_dataset]
        if not examples:
            continue
        blocks = []
        for ex in examples:
            wrapped = []
            for line in format_example(ex).splitlines():
                wrapped.extend(textwrap.wrap(line, 110) or [""])
            blocks.append(wrapped)
        n_lines = sum(len(b) + 2 for b in blocks)
        fig, ax = plt.subplots(figsize=(9, 0.17 * n_lines + 0.6))
        ax.axis("off")
        ax.text(0, 1, "\n\n".join("\n".join(b) for b in blocks), family="monospace", fontsize=7, va="top",
                transform=ax.transAxes)
        ax.set_title(f"{rec.dataset} [{rec.probe_set}]: {rec.annotator} right, "
                     f"{' and '.join(rec.baselines)} wrong (analogue of the paper's Fig. 12)", fontsize=9)
        out += save(fig, folder, f"fig12_examples_{_slug(rec.dataset)}_{_slug(rec.probe_set)}_seed{rec.seed or 0}")
    return out
