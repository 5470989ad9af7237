"""Notebook 06's analysis: negative labels (Table 3), Fig. 6 (the paper's accurate-detection rate and
our flag precision), examples (Fig. 12).

The annotators see only the initial labelled set (``n_labelled`` items drawn with ``seed``); the
ground truth of the other items is used here only to score what they produced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from mollia.annotators.types import LabelledSet
from mollia.records import make_record, parse_record, write_record
from mollia.errors import DataError, MolliaError
from mollia.paths import results_root
from mollia.probes.table import ProbeTable
from mollia.study import fig12
from mollia.study.collect import collect, probe_set
from mollia.study.protocol import negative_label_rates
from mollia.study.probes_truth import load_probes_and_truth
from mollia.study.figures import format_example  # noqa: F401  (re-exported for the notebook)
from mollia.study.tables import accurate_detection, flag_precision


def analyse(dataset: str, probes: str, annotator: str = "molam", baselines: Sequence[str] = ("llms-l", "llms-v"),
            n_labelled: int = 50, seed: int = 0, n_items: int = 0, n_examples: int = 2,
            al_results: str | Path = "") -> dict:
    """Fit ``annotator`` and ``baselines`` on a seeded labelled set; score negatives, accuracy, examples."""
    from mollia.annotators import make_annotator

    if not probes:
        raise DataError("06_analysis needs probes (a probe cache, table, or folder of released arrays)")
    table, truth, texts = load_probes_and_truth(probes, dataset)
    if n_items and n_items < len(table):  # a seeded sample of the probed items (fast runs)
        keep = np.sort(np.random.default_rng([seed, 1]).choice(len(table), size=n_items, replace=False))
        table = table.subset(table.item_ids[keep])
        truth = truth[keep]
        texts = None if texts is None else [texts[i] for i in keep]
    n = len(table)
    if n_labelled >= n:
        raise DataError(f"n_labelled={n_labelled} but only {n} probed items")
    rng = np.random.default_rng(seed)
    labelled_pos = np.sort(rng.choice(n, size=n_labelled, replace=False))
    labelled = LabelledSet(ids=table.item_ids[labelled_pos], labels=truth[labelled_pos])
    rest = np.setdiff1d(np.arange(n), labelled_pos)

    annotations = {}
    for method in [annotator, *baselines]:
        annotations[method] = make_annotator(method).fit(table, labelled).annotate()
    accuracy = {}
    for method, ann in annotations.items():
        pos = table.positions(ann.item_ids)
        keep = np.isin(pos, rest)
        accuracy[method] = float((ann.y_plus[keep] == truth[pos[keep]]).mean())

    main = annotations[annotator]
    pos = table.positions(main.item_ids)
    keep = np.isin(pos, rest)
    negatives = negative_label_rates(main.negatives[keep], truth[pos[keep]])

    # Fig. 12: items (outside the labelled set) the annotator gets right and every baseline gets wrong
    by_row = {}
    for m, a in annotations.items():
        y = np.full(n, -1, dtype=np.int64)
        y[table.positions(a.item_ids)] = a.y_plus
        by_row[m] = y
    candidates = fig12.example_candidates(truth, by_row[annotator], [by_row[b] for b in baselines], rest)
    chosen = fig12.find_examples(truth, by_row[annotator], [by_row[b] for b in baselines], rest, n_examples, rng)
    examples = [fig12.example_record(table, int(p), truth, {m: by_row[m] for m in [*baselines, annotator]},
                                     None if texts is None else texts[p]) for p in chosen]

    al_folder = Path(al_results) if al_results else results_root() / "03_active_learning"
    collected = collect(al_folder)
    flags, accurate = flag_precision(collected), accurate_detection(collected)
    if not flags.empty:
        flags = flags[flags["dataset"] == dataset]
    if not accurate.empty:
        accurate = accurate[accurate["dataset"] == dataset]
    return make_record("analysis", dataset=dataset, probes=str(probes), probe_set=probe_set(probes),
                       models=list(table.models), annotator=annotator, baselines=list(baselines), seed=seed,
                       n_labelled=n_labelled, n_items=n, accuracy=accuracy, negative_labels=negatives,
                       n_candidates_fig12=int(len(candidates)), qualitative=examples,
                       flag_precision=flags.to_dict(orient="records") if not flags.empty else [],
                       accurate_detection=accurate.to_dict(orient="records") if not accurate.empty else [])


def negative_label_frame(result: dict) -> pd.DataFrame:
    """Table 3 of this analysis, rendered as the report renders it (`tables.table3`)."""
    from mollia.study.collect import Collected
    from mollia.study.tables import table3

    return table3(Collected(root=Path("."), al=pd.DataFrame(), analysis=[parse_record(result, "analysis result")]))[1]


def accuracy_frame(result: dict) -> pd.DataFrame:
    return pd.DataFrame({"method": list(result["accuracy"]), "accuracy": list(result["accuracy"].values())})


def flag_frame(result: dict) -> pd.DataFrame:
    """Fig. 6's two statistics per flag: the paper's accurate-detection rate and our flag precision."""
    parts = [pd.DataFrame(result.get(key) or []).assign(statistic=name)
             for key, name in (("accurate_detection", "accurate-detection rate (the paper's Fig. 6)"),
                               ("flag_precision", "flag precision (ours)"))]
    parts = [p for p in parts if "flag" in p.columns]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def save(result: dict, out_dir: str | Path) -> Path:
    return write_record(Path(out_dir) / "metrics.json", result)
