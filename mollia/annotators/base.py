"""The annotator interface shared by every method: ``fit(probes, labelled)`` then ``annotate(ids)``.

An annotator receives a `ProbeTable` (no labels) and a `LabelledSet` (the initial labelled set:
the only labels it may see) and returns an `Annotation` (y+, probabilities, y-). Annotators are
transductive: ``fit`` scores every probe row once (semi-supervised methods use the unlabelled
rows' *features*, never labels); ``annotate`` returns any subset. Labelled items get the model's
own prediction like every other row (the evaluation protocol scores only the other items).

Negative labels y- are the same for every method: Eq. 5 on the probes (`negatives.py`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from mollia.annotators.negatives import DEFAULT_DELTA, negative_labels
from mollia.annotators.types import Annotation, LabelledSet
from mollia.errors import DataError, MolliaError
from mollia.probes.table import ProbeTable


class ProbeAnnotator:
    """Base class. Subclasses implement ``_fit_proba(table, labelled_pos, labelled_y) -> (n, K)``.

    ``needs_labels``: whether the method trains on the labelled set (zero-shot ones do not).
    """

    name = "annotator"
    needs_labels = True

    def __init__(self, delta: float = DEFAULT_DELTA, negative_rule: str = "all"):
        self.delta = delta
        self.negative_rule = negative_rule

    # -- public interface -----------------------------------------------------------------
    def fit(self, probes: ProbeTable, labelled: LabelledSet) -> "ProbeAnnotator":
        if not isinstance(probes, ProbeTable):
            raise DataError(f"{self.name}: probes must be a ProbeTable, got {type(probes).__name__}")
        if not isinstance(labelled, LabelledSet):
            raise DataError(f"{self.name}: labelled must be a LabelledSet, got {type(labelled).__name__}")
        pos, y = labelled_positions(probes, labelled)
        if self.needs_labels and len(pos) == 0:
            raise DataError(f"{self.name}: needs at least one labelled item, got an empty labelled set")
        proba = np.asarray(self._fit_proba(probes, pos, y), dtype=np.float64)
        if proba.shape != (len(probes), probes.n_labels):
            raise MolliaError(f"{self.name}: produced probabilities of shape {proba.shape}, "
                              f"expected {(len(probes), probes.n_labels)}")
        self.item_ids_ = np.asarray(probes.item_ids)
        self.proba_ = proba
        self.y_plus_ = proba.argmax(axis=1).astype(np.int64)
        self.negatives_ = negative_labels(probes.z_eq5, self.delta, self.negative_rule)
        return self

    def annotate(self, ids: Sequence | None = None) -> Annotation:
        if not hasattr(self, "proba_"):
            raise MolliaError(f"{self.name}: call fit(probes, labelled) before annotate()")
        full = Annotation(self.name, self.item_ids_, self.y_plus_, self.proba_, self.negatives_)
        return full if ids is None else full.subset(ids)

    # -- subclass hook ------------------------------------------------------------------------
    def _fit_proba(self, table: ProbeTable, labelled_pos: np.ndarray, labelled_y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        params = {k: v for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_")}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in params.items())})"


def labelled_positions(probes: ProbeTable, labelled: LabelledSet) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the labelled ids in ``probes`` and their labels, checked."""
    y = np.asarray(labelled.labels)
    if len(y) and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= probes.n_labels):
        raise DataError(f"labelled set: labels must be integers in 0..{probes.n_labels - 1} "
                        f"({list(probes.label_names)}), got {sorted(set(y.tolist()))[:10]}")
    pos = probes.positions(labelled.ids) if len(y) else np.zeros(0, dtype=np.int64)
    return pos.astype(np.int64), y.astype(np.int64)


def unlabelled_mask(n: int, labelled_pos: np.ndarray) -> np.ndarray:
    mask = np.ones(n, dtype=bool)
    mask[labelled_pos] = False
    return mask
