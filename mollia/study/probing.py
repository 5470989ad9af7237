"""Notebook 01: how good is each LLM of a mixture as a zero-shot annotator: the numbers and pictures of
notebook 01 (evaluation: it reads ground truth, which only evaluation may do).

- zero-shot predictions: ``argmax z`` (Eq. 1) and the vote ``argmax c`` (Eq. 3) by the one vote
  rule of the annotators (`mollia.annotators.features.vote_labels`: ties broken by z, argmax z
  where all T generations were invalid); the share of such rows is reported, so the fall-back
  never hides silently behind a "class 0";
- invalid share: the share of generations that named no label (``1 - sum(c)`` averaged);
- calibration of z: confidence = the largest of z renormalised over the K labels, binned into a
  reliability diagram, with the expected calibration error (ECE);
- pairwise agreement: the share of items on which two models' c votes agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from mollia.errors import DataError
from mollia.probes.table import ProbeTable


def predictions(table: ProbeTable, source: str = "c") -> np.ndarray:
    """(n, N) zero-shot label of each item and model: argmax z, or the vote rule for "c"."""
    if source == "z":
        return table.z.argmax(axis=-1)
    if source != "c":
        raise DataError(f"source must be 'z' or 'c', got {source!r}")
    from mollia.annotators.features import vote_labels

    return vote_labels(table)[0]


def accuracy_table(table: ProbeTable, ground_truth: np.ndarray) -> pd.DataFrame:
    """Per model: accuracy of argmax z and of argmax c, invalid share, all-invalid rows, mean z mass."""
    y = np.asarray(ground_truth)
    if len(y) != len(table):
        raise DataError(f"ground truth has {len(y)} labels for {len(table)} probe rows")
    pz, pc = predictions(table, "z"), predictions(table, "c")
    rows = []
    for j, model in enumerate(table.models):
        rows.append({
            "model": model,
            "accuracy_z": float((pz[:, j] == y).mean()),
            "accuracy_c": float((pc[:, j] == y).mean()),
            "invalid_share": float(invalid_share(table)[j]),
            "all_invalid_rows": float((table.c[:, j].sum(-1) <= 0).mean()),
            "mean_z_mass": float(table.z[:, j].sum(-1).mean()),
            "ece_z": float(reliability(table, y, model)[1]),
        })
    return pd.DataFrame(rows).set_index("model")


def invalid_share(table: ProbeTable) -> np.ndarray:
    """(N,) share of generations that named no label, per model."""
    if table.generations is not None and len(table.generations):
        g = table.generations
        share = g.assign(invalid=g["parsed"] < 0).groupby("model")["invalid"].mean()
        if set(share.index) >= set(table.models):
            return share.reindex(list(table.models)).to_numpy(dtype=float)
    return 1.0 - table.c.sum(axis=-1).mean(axis=0)


def reliability(table: ProbeTable, ground_truth: np.ndarray, model: str, bins: int = 10) -> tuple[pd.DataFrame, float]:
    """Reliability diagram data of one model's z (renormalised) and its ECE (`calibration`)."""
    from mollia.annotators.features import normalised_z
    from mollia.study.calibration import expected_calibration_error, reliability_bins

    j = table.models.index(model)
    z = normalised_z(table.z[:, j])
    found = reliability_bins(z, ground_truth, bins)
    count = found["count"]
    frame = pd.DataFrame({"bin_low": found["edges"][:-1], "bin_high": found["edges"][1:], "count": count,
                          "confidence": np.where(count > 0, found["confidence"], np.nan),
                          "accuracy": np.where(count > 0, found["accuracy"], np.nan)})
    return frame, expected_calibration_error(z, ground_truth, bins)


def agreement_matrix(table: ProbeTable, source: str = "c") -> pd.DataFrame:
    """(N, N) share of items on which two models' zero-shot labels agree."""
    pred = predictions(table, source)
    agree = (pred[:, :, None] == pred[:, None, :]).mean(axis=0)
    return pd.DataFrame(agree, index=list(table.models), columns=list(table.models))


# -- pictures ----------------------------------------------------------------------------------
def plot_reliability(table: ProbeTable, ground_truth: np.ndarray, path: str | Path, bins: int = 10) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=1, label="perfect calibration")
    for model in table.models:
        frame, ece = reliability(table, ground_truth, model, bins)
        ok = frame["count"] > 0
        ax.plot(frame.loc[ok, "confidence"], frame.loc[ok, "accuracy"], marker="o", label=f"{model} (ECE {ece:.3f})")
    ax.set(xlabel="confidence (max of z renormalised over labels)", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1),
           title=f"{table.dataset}: calibration of z")
    ax.legend(fontsize=7)
    return _save(fig, path)


def plot_agreement(table: ProbeTable, path: str | Path, source: str = "c") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    agree = agreement_matrix(table, source)
    fig, ax = plt.subplots(figsize=(1.2 * len(agree) + 3, 1.0 * len(agree) + 2))
    sns.heatmap(agree, annot=True, fmt=".2f", vmin=0, vmax=1, cmap="viridis", ax=ax, square=True)
    ax.set_title(f"{table.dataset}: pairwise agreement of argmax {source}")
    return _save(fig, path)


def plot_accuracy(accuracy: pd.DataFrame, path: str | Path, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1.4 * len(accuracy) + 3, 4))
    accuracy[["accuracy_z", "accuracy_c", "invalid_share"]].plot.bar(ax=ax, rot=20)
    ax.set(ylim=(0, 1), ylabel="share", title=title or "zero-shot accuracy and invalid generations")
    return _save(fig, path)


def _save(fig, path: str | Path) -> Path:
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


# -- the notebook's one call -------------------------------------------------------------------
def probing_metrics(table: ProbeTable, ground_truth: np.ndarray, params: dict) -> dict:
    """The record notebook 01 writes to ``out_dir/metrics.json`` (kind "probing")."""
    acc = accuracy_table(table, ground_truth)
    from mollia.records import make_record

    return make_record("probing", dataset=table.dataset, n_items=len(table), models=list(table.models),
                       params=dict(params),
                       per_model={m: {k: float(v) for k, v in row.items()} for m, row in acc.iterrows()},
                       agreement_c=agreement_matrix(table, "c").round(6).to_dict(), probe_metadata=table.per_model)


def probing_report(dataset: str, models: Sequence[str] | str, n: int, T: int, temperature: float, seed: int,
                   probes_dir: str, out_dir: str, figures_dir: str | Path | None = None, **probe_kwargs):
    """Probe (or replay) ``dataset`` and write the report: returns (table, accuracy frame, metrics,
    figure paths). ``probes_dir`` "" means live probing of ``models`` on the first ``n`` items of the
    pool sample (`pool_for_probing`); otherwise the probes are replayed from ``probes_dir`` (a
    cache or released arrays), truncated to ``n`` rows when n > 0."""
    from mollia.data import load_dataset
    from mollia.data.user_registry import dataset_name
    from mollia.records import write_record
    from mollia.paths import figures_root

    if isinstance(models, str):
        models = [m.strip() for m in models.split(",") if m.strip()]
    source, dataset = dataset, dataset_name(dataset)  # a file path is accepted: its stem names it
    figures_dir = Path(figures_dir) if figures_dir is not None else figures_root() / "01_llm_probing"
    if probes_dir:
        from mollia.study.probes_truth import holds_released, load_probes_and_truth

        # the released arrays hold the paper's five LLMs: ``models`` names the live ones to probe
        chosen = None if holds_released(probes_dir, dataset) else (models or None)
        table, truth, _ = load_probes_and_truth(probes_dir, source, models=chosen, texts=False)
        if n and n > 0:
            table, truth = table.subset(table.item_ids[:n]), truth[:n]
    else:
        from mollia.probes.engine import pool_for_probing, probe_dataset
        from mollia.study.probes_truth import truth_from_dataset

        ds = pool_for_probing(load_dataset(source), n)
        table = probe_dataset(ds, models, T=T, temperature=temperature, seed=seed, **probe_kwargs)
        truth = truth_from_dataset(table, ds)
    acc = accuracy_table(table, truth)
    params = {"dataset": dataset, "models": list(table.models), "n": int(n), "T": int(T),
              "temperature": float(temperature), "seed": int(seed), "probes_dir": str(probes_dir)}
    metrics = probing_metrics(table, truth, params)
    figures = {
        "accuracy": plot_accuracy(acc, figures_dir / f"{dataset}_accuracy.png", f"{dataset}: zero-shot annotators"),
        "reliability": plot_reliability(table, truth, figures_dir / f"{dataset}_reliability_z.png"),
        "agreement": plot_agreement(table, figures_dir / f"{dataset}_agreement.png"),
    }
    metrics["figures"] = {k: str(v) for k, v in figures.items()}
    write_record(Path(out_dir) / "metrics.json", metrics)
    return table, acc, metrics, figures
