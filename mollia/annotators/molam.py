"""MoLAM, the paper's annotation model (Eqs. 4-6), as a scikit-learn-style estimator.

XGBoost on h(x) = [z_1, c_1, ..., z_N, c_N] (Eq. 4), trained on the labelled set only, then
pseudo-labelling: unlabelled items whose top probability exceeds ``sigma`` (0.9) join the
training set with their predicted label and the model is refit, until no new item joins (at
most ``max_pseudo_iterations`` refits, default 10: on the released probes the loop stops by
itself after a few rounds; the cap only bounds the worst case). An item that joined keeps the
label it joined with. y+ = argmax of the final probabilities; y- by Eq. 5 (`negatives.py`).

Hyperparameters: the paper's Table 5 per dataset (`PAPER_HYPERPARAMETERS`, via
``MoLAM.for_dataset(name)``); other datasets get `DEFAULT_HYPERPARAMETERS` (ours, not the paper's).

Classes missing from the labelled set: XGBoost needs contiguous class ids, so MoLAM trains on the
classes present (re-encoded) and gives the absent ones probability 0: it cannot invent a class it
has never seen (on trec, 50 random items often miss the rare "abbreviation" class). With a single
class present it predicts that class with probability 1.
"""

from __future__ import annotations

import numpy as np
import xgboost as xgb
from sklearn.base import BaseEstimator, ClassifierMixin

from mollia.annotators.base import ProbeAnnotator, unlabelled_mask
from mollia.annotators.negatives import DEFAULT_DELTA, negative_labels
from mollia.errors import DataError, MolliaError

# Table 5 of the paper: XGBoost hyperparameters of MoLAM per dataset.
PAPER_HYPERPARAMETERS: dict[str, dict[str, float | int]] = {
    "ag_news": {"learning_rate": 0.07, "max_depth": 5, "n_estimators": 300},
    "imdb": {"learning_rate": 0.01, "max_depth": 5, "n_estimators": 300},
    "trec": {"learning_rate": 0.05, "max_depth": 6, "n_estimators": 300},
    "pubmed-20k-rct": {"learning_rate": 0.01, "max_depth": 3, "n_estimators": 500},
}
# for datasets the paper did not use (our choice: the middle of Table 5)
DEFAULT_HYPERPARAMETERS: dict[str, float | int] = {"learning_rate": 0.05, "max_depth": 5, "n_estimators": 300}
DEFAULT_SIGMA = 0.9


def hyperparameters_for(dataset: str | None) -> dict[str, float | int]:
    """Table 5's row for ``dataset`` (a copy), or the defaults for any other dataset."""
    return dict(PAPER_HYPERPARAMETERS.get(dataset or "", DEFAULT_HYPERPARAMETERS))


class XGBProbeClassifier(BaseEstimator, ClassifierMixin):
    """XGBoost over a fixed label space 0..n_classes-1 that tolerates absent classes.

    Absent classes get probability 0 (see the module docstring).
    """

    def __init__(self, n_classes: int, learning_rate: float = 0.05, max_depth: int = 5, n_estimators: int = 300,
                 n_jobs: int = 1, random_state: int = 0):
        self.n_classes = n_classes
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.n_estimators = n_estimators
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> "XGBProbeClassifier":
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.int64)
        if len(X) != len(y) or len(y) == 0:
            raise DataError(f"XGBoost annotator: {len(X)} feature rows for {len(y)} labels")
        if y.min() < 0 or y.max() >= self.n_classes:
            raise DataError(f"XGBoost annotator: labels must be in 0..{self.n_classes - 1}, got {sorted(set(y.tolist()))}")
        self.classes_present_ = np.unique(y)
        self.n_features_in_ = X.shape[1]
        if len(self.classes_present_) == 1:
            self.booster_ = None
            return self
        encoded = np.searchsorted(self.classes_present_, y)
        self.booster_ = xgb.XGBClassifier(
            n_estimators=int(self.n_estimators), learning_rate=float(self.learning_rate), max_depth=int(self.max_depth),
            n_jobs=int(self.n_jobs), random_state=int(self.random_state), tree_method="hist", verbosity=0,
        )
        self.booster_.fit(X, encoded, sample_weight=sample_weight)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if not hasattr(self, "classes_present_"):
            raise MolliaError("XGBoost annotator: fit before predict_proba")
        X = np.asarray(X, dtype=np.float64)
        proba = np.zeros((len(X), self.n_classes))
        if self.booster_ is None:
            proba[:, self.classes_present_[0]] = 1.0
        else:
            proba[:, self.classes_present_] = self.booster_.predict_proba(X)
        return proba

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.predict_proba(X).argmax(axis=1)


class MoLAM(BaseEstimator, ClassifierMixin):
    """Mixture-of-LLMs annotation model (Eqs. 4-6): XGBoost on h(x) with pseudo-labelling.

    ``fit(X_labelled, y, X_unlabelled=None)``: X are h(x) rows (Eq. 4); with ``X_unlabelled`` and
    ``pseudo_labelling=True`` it runs the pseudo-labelling loop (threshold ``sigma``). Without
    pseudo-labelling it is the paper's MoL ablation. ``n_classes`` fixes K (needed when the
    labelled set misses a class); None takes ``max(y) + 1``.

    Fitted state: ``model_`` (`XGBProbeClassifier`), ``n_classes_``, ``pseudo_iterations_``
    (refits after the first), ``n_pseudo_labelled_``, ``history_`` (items joining per round).
    """

    def __init__(self, learning_rate: float = DEFAULT_HYPERPARAMETERS["learning_rate"],
                 max_depth: int = DEFAULT_HYPERPARAMETERS["max_depth"],
                 n_estimators: int = DEFAULT_HYPERPARAMETERS["n_estimators"], sigma: float = DEFAULT_SIGMA,
                 pseudo_labelling: bool = True, max_pseudo_iterations: int = 10, n_classes: int | None = None,
                 delta: float = DEFAULT_DELTA, negative_rule: str = "all", n_jobs: int = 1, random_state: int = 0):
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.n_estimators = n_estimators
        self.sigma = sigma
        self.pseudo_labelling = pseudo_labelling
        self.max_pseudo_iterations = max_pseudo_iterations
        self.n_classes = n_classes
        self.delta = delta
        self.negative_rule = negative_rule
        self.n_jobs = n_jobs
        self.random_state = random_state

    @classmethod
    def for_dataset(cls, dataset: str, **params) -> "MoLAM":
        """MoLAM with Table 5's hyperparameters for ``dataset`` (other params override)."""
        return cls(**{**hyperparameters_for(dataset), **params})

    def _new_model(self) -> XGBProbeClassifier:
        return XGBProbeClassifier(self.n_classes_, self.learning_rate, self.max_depth, self.n_estimators,
                                  self.n_jobs, self.random_state)

    def fit(self, X_labelled: np.ndarray, y: np.ndarray, X_unlabelled: np.ndarray | None = None) -> "MoLAM":
        X_labelled = np.asarray(X_labelled, dtype=np.float64)
        y = np.asarray(y, dtype=np.int64)
        if X_labelled.ndim != 2 or len(X_labelled) != len(y) or len(y) == 0:
            raise DataError(f"MoLAM: need a 2-d labelled feature array matching y, got {X_labelled.shape} and {y.shape}")
        if not 0.0 < self.sigma < 1.0:
            raise DataError(f"MoLAM: sigma must be in (0, 1), got {self.sigma}")
        self.n_classes_ = int(self.n_classes) if self.n_classes is not None else int(y.max()) + 1
        self.model_ = self._new_model().fit(X_labelled, y)
        self.history_: list[int] = []
        self.pseudo_iterations_ = 0
        self.n_pseudo_labelled_ = 0
        if not self.pseudo_labelling or X_unlabelled is None or len(X_unlabelled) == 0:
            return self
        X_unlabelled = np.asarray(X_unlabelled, dtype=np.float64)
        if X_unlabelled.ndim != 2 or X_unlabelled.shape[1] != X_labelled.shape[1]:
            raise DataError(f"MoLAM: unlabelled features {X_unlabelled.shape} do not match labelled {X_labelled.shape}")
        joined = np.zeros(len(X_unlabelled), dtype=bool)
        pseudo_y = np.zeros(len(X_unlabelled), dtype=np.int64)
        for _ in range(int(self.max_pseudo_iterations)):
            proba = self.model_.predict_proba(X_unlabelled)
            new = ~joined & (proba.max(axis=1) > self.sigma)
            if not new.any():
                break
            pseudo_y[new] = proba[new].argmax(axis=1)
            joined |= new
            self.history_.append(int(new.sum()))
            X_train = np.concatenate([X_labelled, X_unlabelled[joined]])
            y_train = np.concatenate([y, pseudo_y[joined]])
            self.model_ = self._new_model().fit(X_train, y_train)
            self.pseudo_iterations_ += 1
        self.n_pseudo_labelled_ = int(joined.sum())
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if not hasattr(self, "model_"):
            raise MolliaError("MoLAM: fit before predict_proba")
        return self.model_.predict_proba(X)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """y+ (Eq. 6): argmax of the class probabilities."""
        return self.predict_proba(X).argmax(axis=1)

    def negative_labels(self, X: np.ndarray) -> np.ndarray:
        """y- (Eq. 5) from the z blocks of h(x) rows: boolean (n, K)."""
        if not hasattr(self, "n_classes_"):
            raise MolliaError("MoLAM: fit before negative_labels")
        X = np.asarray(X, dtype=np.float64)
        K = self.n_classes_
        if X.shape[1] % (2 * K):
            raise DataError(f"MoLAM: {X.shape[1]} features is not a multiple of 2K = {2 * K}")
        z = X.reshape(len(X), -1, 2, K)[:, :, 0, :]
        return negative_labels(z, self.delta, self.negative_rule)



class MoLAMAnnotator(ProbeAnnotator):
    """``molam`` (with pseudo-labelling) and ``mol`` (without: the paper's MoL ablation).

    Hyperparameters: Table 5's for ``dataset`` (default: the probe table's dataset), each
    overridable. The unlabelled rows of the probe table are the pseudo-labelling pool.
    """

    def __init__(self, pseudo_labelling: bool = True, dataset: str | None = None, learning_rate: float | None = None,
                 max_depth: int | None = None, n_estimators: int | None = None, sigma: float = DEFAULT_SIGMA,
                 max_pseudo_iterations: int = 10, n_jobs: int = 1, random_state: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.pseudo_labelling = pseudo_labelling
        self.dataset = dataset
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.n_estimators = n_estimators
        self.sigma = sigma
        self.max_pseudo_iterations = max_pseudo_iterations
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.name = "molam" if pseudo_labelling else "mol"

    def hyperparameters(self, dataset: str | None) -> dict[str, float | int]:
        hp = hyperparameters_for(self.dataset or dataset)
        for key in ("learning_rate", "max_depth", "n_estimators"):
            if getattr(self, key) is not None:
                hp[key] = getattr(self, key)
        return hp

    def _fit_proba(self, table, labelled_pos, labelled_y):
        X = table.features()
        unl = unlabelled_mask(len(table), labelled_pos)
        self.estimator_ = MoLAM(**self.hyperparameters(table.dataset), sigma=self.sigma,
                                pseudo_labelling=self.pseudo_labelling,
                                max_pseudo_iterations=self.max_pseudo_iterations, n_classes=table.n_labels,
                                delta=self.delta, negative_rule=self.negative_rule, n_jobs=self.n_jobs,
                                random_state=self.random_state).fit(X[labelled_pos], labelled_y, X[unl])
        return self.estimator_.predict_proba(X)
