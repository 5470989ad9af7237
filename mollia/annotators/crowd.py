"""Classic label aggregation with crowd-kit: each LLM is a worker (beyond the paper).

The workers' labels are each LLM's argmax c, with argmax z where all its T samples were invalid
(`features.vote_labels`), in crowd-kit's tidy long frame ``(task, worker, label)`` (task = probe
row position, worker = model name, label = class index).

- ``ck-mv``: `crowdkit.aggregation.MajorityVote`.
- ``ck-ds``: `crowdkit.aggregation.DawidSkene`, unsupervised (Dawid & Skene 1979).
- ``ck-ds-seeded``: Dawid-Skene with the labelled set as gold: crowd-kit's
  ``fit(data, true_labels=...)`` clamps the gold tasks' posteriors to their labels in every EM
  step, so the workers' confusion matrices are anchored by the 50 labels.
- ``ck-glad``: `crowdkit.aggregation.GLAD` (Whitehill et al. 2009).
- ``ck-mace``: `crowdkit.aggregation.MACE` (Hovy et al. 2013), seeded.

Classes no worker ever named get probability 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mollia.annotators.base import ProbeAnnotator
from mollia.annotators.features import vote_labels
from mollia.probes.table import ProbeTable


def worker_frame(table: ProbeTable) -> pd.DataFrame:
    """Tidy ``(task, worker, label)`` frame: one row per probe row and LLM."""
    labels, _ = vote_labels(table)
    n, N = labels.shape
    return pd.DataFrame({
        "task": np.repeat(np.arange(n), N),
        "worker": np.tile(np.asarray(table.models, dtype=object), n),
        "label": labels.reshape(-1),
    })


def proba_matrix(probas: pd.DataFrame, n: int, K: int) -> np.ndarray:
    """crowd-kit's (task x label) probability frame as an (n, K) array (absent labels: 0)."""
    out = np.zeros((n, K))
    frame = probas.reindex(index=np.arange(n), columns=np.arange(K)).fillna(0.0)
    out[:] = frame.to_numpy(dtype=np.float64)
    total = out.sum(axis=1, keepdims=True)
    return np.where(total > 0, out / np.where(total > 0, total, 1.0), 1.0 / K)


class CrowdKitAnnotator(ProbeAnnotator):
    """Base: subclasses return crowd-kit's probability frame from ``_aggregate``."""

    needs_labels = False

    def _fit_proba(self, table, labelled_pos, labelled_y):
        probas = self._aggregate(worker_frame(table), labelled_pos, labelled_y)
        return proba_matrix(probas, len(table), table.n_labels)

    def _aggregate(self, data: pd.DataFrame, labelled_pos: np.ndarray, labelled_y: np.ndarray) -> pd.DataFrame:
        raise NotImplementedError


class CrowdMajorityVote(CrowdKitAnnotator):
    name = "ck-mv"

    def _aggregate(self, data, labelled_pos, labelled_y):
        from crowdkit.aggregation import MajorityVote

        return MajorityVote().fit_predict_proba(data)


class CrowdDawidSkene(CrowdKitAnnotator):
    """Dawid-Skene; ``seeded=True`` passes the labelled set as crowd-kit's ``true_labels``."""

    name = "ck-ds"

    def __init__(self, n_iter: int = 100, tol: float = 1e-5, seeded: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.n_iter = n_iter
        self.tol = tol
        self.seeded = seeded
        if seeded:
            self.name = "ck-ds-seeded"
            self.needs_labels = True

    def _aggregate(self, data, labelled_pos, labelled_y):
        from crowdkit.aggregation import DawidSkene

        model = DawidSkene(n_iter=self.n_iter, tol=self.tol)
        if self.seeded:
            gold = pd.Series(labelled_y, index=labelled_pos)
            return model.fit_predict_proba(data, true_labels=gold)
        return model.fit_predict_proba(data)


class CrowdGLAD(CrowdKitAnnotator):
    name = "ck-glad"

    def __init__(self, n_iter: int = 30, tol: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.n_iter = n_iter
        self.tol = tol

    def _aggregate(self, data, labelled_pos, labelled_y):
        from crowdkit.aggregation import GLAD

        return GLAD(n_iter=self.n_iter, tol=self.tol).fit_predict_proba(data)


class CrowdMACE(CrowdKitAnnotator):
    name = "ck-mace"

    def __init__(self, n_restarts: int = 5, n_iter: int = 50, random_state: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.n_restarts = n_restarts
        self.n_iter = n_iter
        self.random_state = random_state

    def _aggregate(self, data, labelled_pos, labelled_y):
        from crowdkit.aggregation import MACE

        return MACE(n_restarts=self.n_restarts, n_iter=self.n_iter,
                    random_state=self.random_state).fit_predict_proba(data)
