"""Notebook 00, the tour: the whole pipeline on a few hundred TREC questions, every stage's object
shown. The notebook calls these; they only choose inputs, score against ground truth and summarise.

Probes come from the paper's released arrays where they are found (the grid's
``paper_probes_dir()``: ``$MOLLIA_PAPER_PROBES``, ``$MOLLIA_HOME/paper-probes`` or where
``mollia probe download-released`` puts them), else from the tiny offline LLMs probed live on the
same questions (slower: minutes for 200 questions on 2 cores, after a one-time model fetch). A path
given as ``probes`` may also be a probe cache (the demo's live probes, when the released arrays are
absent).
The tour's AL runs are a demonstration on a small pool, not evidence: they are written under its
own ``out_dir`` and the report skips ``00_tour`` (`mollia.study.collect.SKIP_PARTS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from mollia.annotators.types import Annotation, LabelledSet
from mollia.data import Dataset
from mollia.errors import DataError
from mollia.probes.table import ProbeTable


@dataclass(frozen=True)
class TourProbes:
    table: ProbeTable
    path: str  # what the AL loop records as its probes (released folder or live cache)
    source: str  # one sentence for the reader


def released_probes_dir() -> Path | None:
    """The grid's paper-probes folder where it holds the released TREC arrays, else None."""
    from mollia.probes.paper import find_released_files
    from mollia.study.grid import paper_probes_dir

    folder = paper_probes_dir()
    try:
        find_released_files(folder, "trec")
    except (DataError, OSError):
        return None
    return folder


def tour_probes(dataset: Dataset, n: int, probes: str = "", live_models: Sequence[str] = ("smollm2-135m-instruct",),
                T: int = 3, seed: int = 0, device: str = "cpu") -> TourProbes:
    """Probes of ``n`` pool questions. ``probes`` a path: the released arrays or a probe cache there
    (its first ``n`` rows that lie in the pool); empty: the paper's released arrays where they are
    found (first ``n`` pool rows, the authors' own sample order), else live; ``"live"``: the first
    ``n`` of the pool sample probed live with ``live_models``."""
    folder = None
    if probes and probes != "live":
        folder = Path(probes)
    elif not probes and dataset.name == "trec":
        folder = released_probes_dir()
    if folder is not None:
        from mollia.probes.replay import load_probes

        table = load_probes(folder, dataset.name)  # released arrays, a probe cache or a table file
        pool = set(dataset.frame.loc[dataset.frame["split"] == "train", "id"].tolist())
        ids = [i for i in table.item_ids.tolist() if i in pool][:n]
        if len(ids) < n:
            raise DataError(f"only {len(ids)} probed items of {folder} lie in the pool of {dataset.name!r}; "
                            f"asked for n={n}")
        released = any(meta.get("source") == "paper-release" for meta in table.per_model.values())
        what = (f"the paper's {len(table.models)} 7-9B LLMs (released arrays)" if released
                else f"{', '.join(table.models)} (probe cache)")
        return TourProbes(table.subset(ids), str(folder), f"replayed: {what} from {folder}, first {n} pool rows")
    from mollia.paths import results_root
    from mollia.probes.engine import pool_for_probing, probe_dataset

    cache = results_root() / "probes" / "tour"
    table = probe_dataset(pool_for_probing(dataset, n), list(live_models), T=T, seed=seed, cache_dir=cache,
                          device=device)
    return TourProbes(table, str(cache), f"probed live: {', '.join(live_models)} on the first {n} pool questions, "
                                         f"T={T}")


def probe_summary(table: ProbeTable) -> pd.DataFrame:
    """One row per LLM: what its z and c hold over the tour's questions."""
    rows = []
    for i, model in enumerate(table.models):
        z, c = table.z[:, i, :], table.c[:, i, :]
        rows.append({"LLM": model, "mean sum of z": z.sum(1).mean(), "mean sum of c": c.sum(1).mean(),
                     "items with every sample invalid": float((c.sum(1) == 0).mean())})
    return pd.DataFrame(rows).set_index("LLM").round(3)


def probe_example(table: ProbeTable, dataset: Dataset, position: int = 0) -> tuple[str, pd.DataFrame]:
    """(the question and its true label, a frame of z_i and c_i per LLM over the K labels) for one row."""
    item = table.item_ids[position]
    row = dataset.frame.loc[dataset.frame["id"] == item].iloc[0]
    frame = pd.DataFrame({(m, part): (table.z if part == "z" else table.c)[position, i, :]
                          for i, m in enumerate(table.models) for part in ("z", "c")}, index=list(table.label_names)).T
    return f"{row['text']!r} (true label: {dataset.label_names[int(row['label'])]})", frame.round(3)


def truth_of(table: ProbeTable, dataset: Dataset) -> np.ndarray:
    """Ground truth of the table's rows, from the dataset (for scoring only)."""
    labels = pd.Series(dataset.labels, index=dataset.frame["id"].to_numpy())
    return labels.loc[list(table.item_ids)].to_numpy()


def initial_labels(table: ProbeTable, dataset: Dataset, n_labelled: int, seed: int) -> LabelledSet:
    """``n_labelled`` random rows (``default_rng(seed)``) with their true labels: all an annotator sees."""
    if not 0 < n_labelled < len(table):
        raise DataError(f"n_labelled must be between 1 and {len(table) - 1}, got {n_labelled}")
    pos = np.sort(np.random.default_rng(seed).choice(len(table), n_labelled, replace=False))
    return LabelledSet(ids=table.item_ids[pos], labels=truth_of(table, dataset)[pos])


def score_annotations(annotations: Mapping[str, Annotation], table: ProbeTable, dataset: Dataset,
                      labelled: LabelledSet) -> pd.DataFrame:
    """Accuracy of y+ on the rows outside the labelled set, and the negative labels y- (Eq. 5) as
    shares of the label space: true negatives and false negatives (Table 3's statistics)."""
    truth = truth_of(table, dataset)
    held_out = ~np.isin(table.item_ids, labelled.ids)
    rows = {}
    for name, ann in annotations.items():
        ann = ann.subset(table.item_ids)
        true_label = np.eye(ann.proba.shape[1], dtype=bool)[truth]
        rows[name] = {"accuracy (held out)": float((ann.y_plus[held_out] == truth[held_out]).mean()),
                      "true negative labels": float((ann.negatives & ~true_label).mean()),
                      "false negative labels": float((ann.negatives & true_label).mean()),
                      "held-out items": int(held_out.sum())}
    return pd.DataFrame(rows).T.astype({"held-out items": int})


def al_summary(runs: Mapping[str, dict]) -> pd.DataFrame:
    """micro-F1 per iteration (rows) and annotator (columns), with the labels each annotator added."""
    frames = []
    for name, metrics in runs.items():
        rows = pd.DataFrame(metrics["rows"])
        frames.append(rows.set_index("n_labelled")[["micro_f1"]].rename(columns={"micro_f1": name}))
    table = pd.concat(frames, axis=1)
    table.index.name = "labelled items"
    return table.round(3)


def save(out_dir: str | Path, **fields) -> Path:
    """``out_dir/metrics.json``, a record of kind 'tour' (the report skips it: a demonstration)."""
    from mollia.records import make_record, write_record

    return write_record(Path(out_dir) / "metrics.json", make_record("tour", **fields))
