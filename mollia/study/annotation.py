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
from mollia.study.protocol import run_protocol, summarise
from mollia.annotators.molam import DEFAULT_SIGMA, hyperparameters_for
from mollia.annotators.negatives import DEFAULT_DELTA, negative_label_rates, negative_labels
from mollia.annotators.qualitative import draw_examples, find_examples, format_example
from mollia.annotators.reliability import expected_calibration_error, plot_reliability
from mollia.atomic import write_json
from mollia.errors import DataError
from mollia.study import paper

SCHEMA = 1


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
        pos = find_examples(truth, r.annotation, seed_runs["llms-l"].annotation, seed_runs["llms-v"].annotation,
                            r.eval_pos, n_examples, seed=first_seed)
        labels = {"LLMs-L": seed_runs["llms-l"].annotation, "LLMs-V": seed_runs["llms-v"].annotation,
                  "MoLAM": r.annotation}
        examples = [format_example(table, int(p), truth, labels,
                                   None if texts is None else texts[int(p)]) for p in pos]
        if examples:
            figures["fig12"] = str(draw_examples(examples, out_dir / f"fig12_{dataset}.png",
                                                 title=f"{dataset}: MoLAM right, LLMs-L and LLMs-V wrong"))
    table5 = {"dataset": dataset, **hyperparameters_for(dataset), "sigma": DEFAULT_SIGMA, "delta": DEFAULT_DELTA}
    paper_table2 = {m: paper.paper_value(paper.TABLE2, m, dataset) for m in methods}
    metrics = {
        "schema": SCHEMA, "kind": "annotation", "dataset": dataset, "done": True,
        "params": {"dataset": dataset, "probes_dir": str(probes_dir), "methods": methods, "seeds": seeds,
                   "n_labelled": n_labelled, "n_jobs": n_jobs,
                   "method_params": params},
        "n_items": len(table), "models": list(table.models), "label_names": list(table.label_names),
        "results": results, "paper_table2": paper_table2,
        "negative_labels": {"default_rule": "all", "delta": DEFAULT_DELTA, "rates": table3,
                            "paper_table3": {f"{k}_rate": paper.paper_value(paper.TABLE3, k, dataset)
                                             for k in ("true_negative", "false_negative")}},
        "calibration_ece": {"seed": first_seed, "ece": calibration},
        "hyperparameters": table5, "examples": examples, "figures": figures,
    }
    write_json(out_dir / "metrics.json", metrics)
    return metrics


def table2_frame(results: Mapping[str, Mapping[str, Any]], dataset: str) -> pd.DataFrame:
    """One row per method: ours (mean, std, seeds) and the paper's reported value, with the difference."""
    rows = []
    for method, r in results.items():
        ref = paper.paper_value(paper.TABLE2, method, dataset)
        mean = r.get("mean")
        rows.append({"method": method, "mean": mean, "std": r.get("std"), "seeds": len(r.get("per_seed", [])),
                     "paper": ref, "ours - paper": None if mean is None or ref is None else mean - ref,
                     "note": r.get("skipped", "")})
    return pd.DataFrame(rows)


def format_table2(results: Mapping[str, Mapping[str, Any]], dataset: str) -> str:
    lines = [f"Table 2 ({dataset}): annotation accuracy on the items outside each seed's labelled set",
             f"{'method':<22}{'ours (mean ± std)':>20}{'paper':>9}{'diff':>9}  note"]
    for method, r in results.items():
        ref = paper.paper_value(paper.TABLE2, method, dataset)
        mean, std = r.get("mean"), r.get("std")
        ours = "—" if mean is None else f"{mean:.4f} ± {std:.4f}"
        paper_s = "" if ref is None else f"{ref:.4f}"
        diff = "" if mean is None or ref is None else f"{mean - ref:+.4f}"
        lines.append(f"{method:<22}{ours:>20}{paper_s:>9}{diff:>9}  {r.get('skipped', '')}")
    return "\n".join(lines)
