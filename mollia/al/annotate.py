"""Annotators inside the AL loop: the oracle (ground truth) and adapters to ``mollia.annotators``.

A non-oracle annotator is fitted ONCE, on the probes of the pool and the initial labelled set's
labels only (a `LabelledSet`: nothing else of the ground truth ever reaches it), and then labels
the whole pool in one call; the loop reads the labels of the items it queries from that
annotation (equivalent to labelling each queried batch, since the fitted annotator is fixed, and
it makes resuming exact: the annotation is stored with the run's state).
No LLM runs here: annotators read the probe table.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from mollia.al.config import ORACLE
from mollia.annotators.types import Annotation, LabelledSet
from mollia.errors import DataError
from mollia.probes.table import ProbeTable

AnnotatorFactory = Callable[..., object]


def oracle_annotation(item_ids: np.ndarray, labels: np.ndarray, n_labels: int) -> Annotation:
    """Ground truth as an annotation: one-hot probabilities and NO negative labels (a human oracle
    gives the label, not a list of excluded ones; so negative learning is a no-op with the oracle)."""
    labels = np.asarray(labels, dtype=np.int64)
    proba = np.eye(n_labels)[labels]
    return Annotation(ORACLE, np.asarray(item_ids), labels, proba, np.zeros_like(proba, dtype=bool))


def annotate_pool(annotator: str, pool_ids: np.ndarray, initial: LabelledSet, probes: ProbeTable | None,
                  n_labels: int, ground_truth: Callable[[np.ndarray], np.ndarray],
                  params: dict | None = None, factory: AnnotatorFactory | None = None) -> Annotation:
    """Labels (y+, probabilities, y-) of every id in ``pool_ids`` by ``annotator``.

    ``ground_truth(ids)`` is called ONLY for the oracle. Other annotators get ``probes`` restricted
    to the pool (the unlabelled data MoLAM's pseudo-labelling may use) and ``initial``.
    ``factory`` replaces ``mollia.annotators.make_annotator`` (tests).
    """
    pool_ids = np.asarray(pool_ids)
    if annotator == ORACLE:
        return oracle_annotation(pool_ids, ground_truth(pool_ids), n_labels)
    if probes is None:
        raise DataError(f"annotator {annotator!r} reads LLM probes: give --probes (a probe table or the "
                        "released arrays); only 'oracle' runs without them")
    if probes.n_labels != n_labels:
        raise DataError(f"probe table has {probes.n_labels} labels {list(probes.label_names)}, the dataset {n_labels}")
    if factory is None:
        from mollia.annotators import make_annotator as factory
    table = probes.subset(pool_ids)
    model = factory(annotator, **(params or {}))
    model.fit(table, initial)
    ann = model.annotate(pool_ids)
    if len(ann) != len(pool_ids) or not np.array_equal(np.asarray(ann.item_ids), pool_ids):
        ann = ann.subset(pool_ids)
    if ann.proba.shape[1] != n_labels:
        raise DataError(f"annotator {annotator!r} returned {ann.proba.shape[1]} classes, expected {n_labels}")
    return ann
