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

from numbers import Integral, Real

import numpy as np
import xgboost as xgb
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

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


class MoLAM(ClassifierMixin, BaseEstimator):
    """Mixture-of-LLMs annotation model (Eqs. 4-6): XGBoost on h(x) with pseudo-labelling, as a
    scikit-learn semi-supervised classifier (the convention of ``SelfTrainingClassifier``).

    ``fit(X, y)``: X are h(x) rows (Eq. 4); ``y`` holds the labels of the labelled rows and ``-1``
    for the unlabelled ones, which (with ``pseudo_labelling=True``) feed the pseudo-labelling loop
    (threshold ``sigma``). Without pseudo-labelling it is the paper's MoL ablation. ``n_classes``
    fixes the label space to 0..n_classes-1 (needed when the labelled rows miss a class: it then
    gets probability 0); None takes the labels present (``classes_``), which may be any sortable
    values.

    Fitted: ``classes_``, ``n_features_in_``, ``model_`` (`XGBProbeClassifier`), ``transduction_``
    (the label each training row ended with: its own, its pseudo-label, or -1),
    ``labeled_iter_`` (0 for labelled rows, k for rows pseudo-labelled in round k, -1 never),
    ``n_iter_`` (refits after the first), ``termination_condition_`` (``"no_change"``,
    ``"max_iter"``, ``"all_labeled"``), ``n_pseudo_labelled_``, ``history_`` (rows joining per round).
    """

    _parameter_constraints: dict = {
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_depth": [Interval(Integral, 1, None, closed="left")],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "sigma": [Interval(Real, 0, 1, closed="neither")],
        "pseudo_labelling": ["boolean"],
        "max_pseudo_iterations": [Interval(Integral, 0, None, closed="left")],
        "n_classes": [Interval(Integral, 1, None, closed="left"), None],
        "delta": [Interval(Real, 0, None, closed="neither")],
        "negative_rule": [StrOptions({"all", "mean"})],
        "n_jobs": [Integral],
        "random_state": ["random_state"],
    }

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
        seed = self.random_state
        if not isinstance(seed, (int, np.integer)):  # a Generator / RandomState / None: one fixed draw
            seed = int(check_random_state(seed).randint(np.iinfo(np.int32).max))
        return XGBProbeClassifier(len(self.classes_), self.learning_rate, self.max_depth, self.n_estimators,
                                  self.n_jobs, int(seed))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y) -> "MoLAM":
        """Fit on the labelled rows of (X, y) (``y == -1`` marks unlabelled rows), then pseudo-label."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        unlabelled = (y == -1) if y.dtype.kind in "iuf" else np.zeros(len(y), dtype=bool)
        if unlabelled.all():
            raise DataError("MoLAM: every row is unlabelled (y == -1); it needs labelled rows")
        y_labelled = y[~unlabelled]
        check_classification_targets(y_labelled)
        if self.n_classes is not None:
            if y.dtype.kind not in "iuf" or not np.array_equal(y_labelled, np.round(y_labelled)) \
                    or y_labelled.min() < 0 or y_labelled.max() >= self.n_classes:
                raise DataError(f"MoLAM: with n_classes={self.n_classes} the labels must be integers in "
                                f"0..{self.n_classes - 1}, got {sorted(set(np.unique(y_labelled).tolist()))}")
            self.classes_ = np.arange(int(self.n_classes))
        else:
            self.classes_ = np.unique(y_labelled)
        self.n_classes_ = len(self.classes_)
        X_labelled, X_unlabelled = X[~unlabelled], X[unlabelled]
        encoded = np.searchsorted(self.classes_, y_labelled).astype(np.int64)
        self.model_ = self._new_model().fit(X_labelled, encoded)
        self.history_: list[int] = []
        self.labeled_iter_ = np.where(unlabelled, -1, 0)
        pseudo_y = np.full(len(X_unlabelled), -1, dtype=np.int64)
        joined = np.zeros(len(X_unlabelled), dtype=bool)
        self.termination_condition_ = "all_labeled" if len(X_unlabelled) == 0 else "max_iter"
        if self.pseudo_labelling and len(X_unlabelled):
            for round_ in range(1, int(self.max_pseudo_iterations) + 1):
                proba = self.model_.predict_proba(X_unlabelled)
                new = ~joined & (proba.max(axis=1) > self.sigma)
                if not new.any():
                    self.termination_condition_ = "no_change"
                    break
                pseudo_y[new] = proba[new].argmax(axis=1)
                joined |= new
                self.history_.append(int(new.sum()))
                self.labeled_iter_[np.flatnonzero(unlabelled)[new]] = round_
                self.model_ = self._new_model().fit(np.concatenate([X_labelled, X_unlabelled[joined]]),
                                                    np.concatenate([encoded, pseudo_y[joined]]))
                if joined.all():
                    self.termination_condition_ = "all_labeled"
                    break
        elif len(X_unlabelled):
            self.termination_condition_ = "no_change"  # MoL: nothing is pseudo-labelled
        self.n_iter_ = len(self.history_)
        self.n_pseudo_labelled_ = int(joined.sum())
        transduction = np.full(len(y), -1, dtype=np.int64)
        transduction[~unlabelled] = encoded
        transduction[np.flatnonzero(unlabelled)[joined]] = pseudo_y[joined]
        self.transduction_ = np.where(transduction >= 0, self.classes_[np.maximum(transduction, 0)], -1) \
            if self.classes_.dtype.kind in "iuf" else self.classes_[np.maximum(transduction, 0)]
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.model_.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        """y+ (Eq. 6): the class of largest probability."""
        check_is_fitted(self)
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def negative_labels(self, X) -> np.ndarray:
        """y- (Eq. 5) from the z blocks of h(x) rows: boolean (n, K) over ``classes_``."""
        check_is_fitted(self)
        X = np.asarray(X, dtype=np.float64)
        K = self.n_classes_
        if X.shape[1] % (2 * K):
            raise DataError(f"MoLAM: {X.shape[1]} features is not a multiple of 2K = {2 * K}")
        z = X.reshape(len(X), -1, 2, K)[:, :, 0, :]
        return negative_labels(z, self.delta, self.negative_rule)


def semi_supervised(X_labelled: np.ndarray, y: np.ndarray, X_unlabelled: np.ndarray | None = None):
    """(X, y) for `MoLAM.fit`: the labelled rows first, then the unlabelled ones with y = -1."""
    X_labelled = np.asarray(X_labelled, dtype=np.float64)
    if X_unlabelled is None or len(X_unlabelled) == 0:
        return X_labelled, np.asarray(y)
    X_unlabelled = np.asarray(X_unlabelled, dtype=np.float64)
    if X_unlabelled.ndim != 2 or X_labelled.ndim != 2 or X_unlabelled.shape[1] != X_labelled.shape[1]:
        raise DataError(f"MoLAM: unlabelled features {X_unlabelled.shape} do not match labelled {X_labelled.shape}")
    return (np.concatenate([X_labelled, X_unlabelled]),
            np.concatenate([np.asarray(y, dtype=np.int64), np.full(len(X_unlabelled), -1, dtype=np.int64)]))


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
                                random_state=self.random_state).fit(*semi_supervised(X[labelled_pos], labelled_y, X[unl]))
        return self.estimator_.predict_proba(X)
