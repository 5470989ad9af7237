"""Notebook 02: one dataset's whole annotation study: Table 2 beside the paper's
numbers, Table 3 (negative labels), Table 5 (hyperparameters used), Fig. 12 (qualitative
examples) and the reliability of each method's probabilities; writes ``out_dir/metrics.json``
(``kind: "annotation"``) atomically and figures under ``out_dir`` (or `figures_root()`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from mollia.study.probes_truth import load_probes_and_truth, resolve_probes_dir
from mollia.study.protocol import negative_label_rates, run_protocol, summarise
from mollia.annotators.molam import DEFAULT_SIGMA, hyperparameters_for
from mollia.annotators.negatives import DEFAULT_DELTA, negative_labels
from mollia.study.calibration import expected_calibration_error, plot_reliability
from mollia.records import make_record, write_record
from mollia.errors import DataError
from mollia.study import fig12, paper



def run_annotation_study(dataset: str, probes_dir: str | Path, methods: Sequence[str], seeds: int = 5,
                         n_labelled: int = 50, out_dir: str | Path = "results/annotation", n_jobs: int = 1,
                         n_examples: int = 2, method_params: dict | None = None,
                         progress: bool = True) -> dict[str, Any]:
    """Run every method with the Table 2 protocol and write metrics.json + figures (see module doc)."""
    methods = list(methods)
    if not methods:
        raise DataError("no methods given")
    out_dir = Path(out_dir)
    probes_dir = resolve_probes_dir(probes_dir)
    table, truth, texts = load_probes_and_truth(probes_dir, dataset)
    from mollia.annotators.registry import accepted_params

    params = {m: {"n_jobs": n_jobs} for m in methods if "n_jobs" in accepted_params(m)}
    for m, extra in (method_params or {}).items():
        params[m] = {**params.get(m, {}), **extra}
    runs, skipped = run_protocol(table, truth, methods, seeds, n_labelled, params, progress)
    results = summarise(runs, skipped)
    first_seed = runs[0].seed if runs else None

    # Table 3: negative labels (Eq. 5, the same for every method) on every item
    table3 = {rule: negative_label_rates(negative_labels(table.z_eq5, DEFAULT_DELTA, rule), truth)
              for rule in ("all", "mean")}
    # reliability on the first seed's held-out items
    seed_runs = {r.method: r for r in runs if r.seed == first_seed}
    calibration = {m: expected_calibration_error(r.annotation.proba[r.eval_pos], truth[r.eval_pos])
                   for m, r in seed_runs.items()}
    figures: dict[str, str] = {}
    if seed_runs:
        curves = {m: (r.annotation.proba[r.eval_pos], truth[r.eval_pos]) for m, r in seed_runs.items()}
        figures["reliability"] = str(plot_reliability(curves, out_dir / f"reliability_{dataset}.png",
                                                      title=f"Reliability on {dataset} (seed {first_seed})"))
    # Fig. 12
    examples: list[str] = []
    if all(m in seed_runs for m in ("molam", "llms-l", "llms-v")):
        r = seed_runs["molam"]
        labels = {"LLMs-L": seed_runs["llms-l"].annotation.y_plus, "LLMs-V": seed_runs["llms-v"].annotation.y_plus,
                  "MoLAM": r.annotation.y_plus}
        pos = fig12.find_examples(truth, labels["MoLAM"], [labels["LLMs-L"], labels["LLMs-V"]], r.eval_pos,
                                  n_examples, np.random.default_rng(first_seed))
        examples = [fig12.format_example(fig12.example_record(table, int(p), truth, labels,
                                                              None if texts is None else texts[int(p)]))
                    for p in pos]
        if examples:
            fig = fig12.draw_examples(examples, title=f"{dataset}: MoLAM right, LLMs-L and LLMs-V wrong")
            figures["fig12"] = str(_save_png(fig, out_dir / f"fig12_{dataset}.png"))
    table5 = {"dataset": dataset, **hyperparameters_for(dataset), "sigma": DEFAULT_SIGMA, "delta": DEFAULT_DELTA}
    paper_table2 = {m: paper.paper_value(paper.TABLE2, m, dataset) for m in methods}
    metrics = make_record(
        "annotation", dataset=dataset, done=True,
        params={"dataset": dataset, "probes_dir": str(probes_dir), "methods": methods, "seeds": seeds,
                "n_labelled": n_labelled, "n_jobs": n_jobs, "method_params": params},
        n_items=len(table), models=list(table.models), label_names=list(table.label_names),
        results=results, paper_table2=paper_table2,
        negative_labels={"default_rule": "all", "delta": DEFAULT_DELTA, "rates": table3,
                         "paper_table3": {f"{k}_rate": paper.paper_value(paper.TABLE3, k, dataset)
                                          for k in ("true_negative", "false_negative")}},
        calibration_ece={"seed": first_seed, "ece": calibration},
        hyperparameters=table5, examples=examples, figures=figures)
    write_record(out_dir / "metrics.json", metrics)
    return metrics


def _save_png(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    from mollia.atomic import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def table2_frame(results: Mapping[str, Mapping[str, Any]], dataset: str) -> pd.DataFrame:
    """One row per method: ours (mean, std, seeds) and the paper's reported value, with the difference."""
    from mollia.study.tables import table2_rows

    return pd.DataFrame(table2_rows(dict(results), dataset)).drop(columns="dataset")


def format_table2(results: Mapping[str, Mapping[str, Any]], dataset: str) -> str:
    from mollia.study.tables import format_table2 as text

    return text(dict(results), dataset)
