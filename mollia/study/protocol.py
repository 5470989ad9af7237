"""The annotation protocol of Table 2, honest version (scores annotators against the ground truth).

Per seed: ``n_labelled`` (50) items are drawn at random (``numpy.random.default_rng(seed)``) as
the labelled set; each method is fitted on the probe table and that `LabelledSet` only (it never
receives the ground truth of any other item); accuracy is measured on every *other* item. The
mean and the (population, ddof=0) standard deviation over the seeds are reported.

Methods that use no labels (single LLMs, ensembles, unsupervised crowd-kit aggregators) give the
same probabilities for every seed, so they are fitted once and scored on each seed's held-out
items (the scores still differ slightly by seed, because the held-out set does).
Methods that need live probing (``da``, ``pag``) run only when their texts/prober are given in
``method_params``; otherwise their entry says ``"skipped"`` with the reason, and mean/std are None.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from mollia.annotators.registry import accepted_params, is_live, make_annotator
from mollia.annotators.types import Annotation, LabelledSet
from mollia.errors import DataError
from mollia.probes.table import ProbeTable

DEFAULT_METHODS = ("llms-v", "llms-l", "fixmatch", "snail", "mol", "molam", "ck-mv", "ck-ds", "ck-ds-seeded",
                   "ck-glad", "stack", "stack-pl")


@dataclass(frozen=True)
class SeedRun:
    """One method on one seed: its annotation of every probe row and the held-out positions."""

    method: str
    seed: int
    annotation: Annotation
    labelled_pos: np.ndarray
    eval_pos: np.ndarray
    accuracy: float
    wall_s: float


def align_ground_truth(probes: ProbeTable, ground_truth) -> np.ndarray:
    """Ground truth as an int array aligned with ``probes.item_ids``.

    Accepts an array already aligned (same length) or a pandas Series indexed by item id (joined).
    """
    if isinstance(ground_truth, pd.Series):
        missing = ~pd.Index(probes.item_ids).isin(ground_truth.index)
        if missing.any():
            raise DataError(f"ground truth has no label for item id {probes.item_ids[np.flatnonzero(missing)[0]]!r}")
        gt = ground_truth.loc[list(probes.item_ids)].to_numpy()
    else:
        gt = np.asarray(ground_truth)
        if gt.shape != (len(probes),):
            raise DataError(f"ground truth has shape {gt.shape}; expected ({len(probes)},) aligned with the probes")
    gt = gt.astype(np.int64)
    if gt.min() < 0 or gt.max() >= probes.n_labels:
        raise DataError(f"ground truth labels must be in 0..{probes.n_labels - 1}")
    return gt


def draw_labelled(probes: ProbeTable, ground_truth: np.ndarray, n_labelled: int, seed: int) -> tuple[LabelledSet, np.ndarray]:
    """The seed's labelled set (ids and their labels only) and its row positions."""
    if not 0 < n_labelled < len(probes):
        raise DataError(f"n_labelled must be in 1..{len(probes) - 1}, got {n_labelled}")
    pos = np.sort(np.random.default_rng(seed).choice(len(probes), size=n_labelled, replace=False))
    return LabelledSet(ids=np.asarray(probes.item_ids)[pos], labels=ground_truth[pos].copy()), pos


def run_protocol(probes: ProbeTable, ground_truth, methods: Sequence[str], seeds: int | Iterable[int] = 5,
                 n_labelled: int = 50, method_params: Mapping[str, Mapping[str, Any]] | None = None,
                 progress: bool = True) -> tuple[list[SeedRun], dict[str, str]]:
    """Every (method, seed) run, and {method: reason} for methods skipped (live ones without texts)."""
    from tqdm.auto import tqdm

    gt = align_ground_truth(probes, ground_truth)
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seed_list:
        raise DataError("evaluate needs at least one seed")
    method_params = dict(method_params or {})
    draws = {s: draw_labelled(probes, gt, n_labelled, s) for s in seed_list}
    runs: list[SeedRun] = []
    skipped: dict[str, str] = {}
    bar = tqdm(total=len(methods) * len(seed_list), desc=f"annotators on {probes.dataset}", disable=not progress)
    for method in methods:
        params = dict(method_params.get(method, {}))
        if is_live(method) and "texts" not in params:
            skipped[method] = "needs live probing: pass texts (and a prober) in method_params"
            bar.update(len(seed_list))
            continue
        cached: tuple[Annotation, float] | None = None
        for seed in seed_list:
            labelled, lab_pos = draws[seed]
            eval_pos = np.setdiff1d(np.arange(len(probes)), lab_pos)
            if cached is None:
                seeded = dict(params)
                if "random_state" in accepted_params(method) and "random_state" not in params:
                    seeded["random_state"] = seed
                annotator = make_annotator(method, **seeded)
                start = time.perf_counter()
                annotation = annotator.fit(probes, labelled).annotate()
                wall = time.perf_counter() - start
                if not annotator.needs_labels and "random_state" not in accepted_params(method):
                    cached = (annotation, wall)  # label-free and unseeded: identical for every seed
            else:
                annotation, wall = cached
            acc = float((annotation.y_plus[eval_pos] == gt[eval_pos]).mean())
            runs.append(SeedRun(method, seed, annotation, lab_pos, eval_pos, acc, wall))
            bar.update(1)
    bar.close()
    return runs, skipped


def summarise(runs: Sequence[SeedRun], skipped: Mapping[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """{method: {"mean", "std", "per_seed", "seeds", "wall_s"}} (std over seeds, ddof=0)."""
    out: dict[str, dict[str, Any]] = {}
    for run in runs:
        entry = out.setdefault(run.method, {"per_seed": [], "seeds": [], "wall_s": []})
        entry["per_seed"].append(run.accuracy)
        entry["seeds"].append(run.seed)
        entry["wall_s"].append(round(run.wall_s, 3))
    for entry in out.values():
        entry["mean"] = float(np.mean(entry["per_seed"]))
        entry["std"] = float(np.std(entry["per_seed"]))
    for method, reason in (skipped or {}).items():
        out[method] = {"mean": None, "std": None, "per_seed": [], "seeds": [], "wall_s": [], "skipped": reason}
    return out


def evaluate(probes: ProbeTable, ground_truth, methods: Sequence[str] = DEFAULT_METHODS,
             seeds: int | Iterable[int] = 5, n_labelled: int = 50,
             method_params: Mapping[str, Mapping[str, Any]] | None = None, progress: bool = True) -> dict:
    """Table 2 protocol: ``{method: {"mean", "std", "per_seed", ...}}`` (see the module docstring).

    ``ground_truth``: labels aligned with ``probes.item_ids`` or a Series indexed by item id; it is
    used only to draw each seed's labelled set and to score; annotators receive a `LabelledSet`.
    """
    runs, skipped = run_protocol(probes, ground_truth, list(methods), seeds, n_labelled, method_params, progress)
    return summarise(runs, skipped)


def negative_label_rates(negatives: np.ndarray, ground_truth: np.ndarray) -> dict[str, float]:
    """Table 3: true and false negative labels as shares of the label space (n * K cells).

    A *true* negative label is a negative label that is not the item's true label; a *false*
    one is the true label marked negative. Also reports the share of items with any false
    negative and the mean number of negatives per item.
    """
    negatives = np.asarray(negatives, dtype=bool)
    gt = np.asarray(ground_truth, dtype=np.int64)
    if negatives.ndim != 2 or negatives.shape[0] != len(gt):
        raise DataError(f"negative label rates: negatives {negatives.shape} vs ground truth {gt.shape}")
    n, K = negatives.shape
    is_true = np.zeros_like(negatives)
    is_true[np.arange(n), gt] = True
    false_neg = negatives & is_true
    true_neg = negatives & ~is_true
    return {
        "true_negative_rate": float(true_neg.sum() / (n * K)),
        "false_negative_rate": float(false_neg.sum() / (n * K)),
        "items_with_false_negative": float(false_neg.any(axis=1).mean()),
        "negatives_per_item": float(negatives.sum(axis=1).mean()),
        "n_items": int(n),
        "n_labels": int(K),
    }
