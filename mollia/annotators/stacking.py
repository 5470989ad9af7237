"""Our stronger annotator (beyond the paper): a regularised log-linear pool of the LLMs, chosen by
cross-validation on the labelled set only, optionally followed by XGBoost pseudo-labelling.

``stack`` - `LogLinearPool`: for item x and label k, the score is

    s_k(x) = b_k + sum_i ( a_i * log p_i^(k)(x) + g_i * c_i^(k)(x) )

with p_i = LLM i's z renormalised over labels (floored at 1e-6) and c_i its consistency (Eq. 3).
One weight per LLM and feature kind, shared by every label, plus a label bias: 2N + K parameters
(14 on ag_news), which 50 labels can pin down, where MoLAM's XGBoost has thousands of split
points to fit. It is a learned product of experts: a weight near 0 mutes an unreliable LLM, and
the weights double as a temperature, so the probabilities are calibrated by the log-loss fit.
The L2 strength is picked from ``l2_grid`` by stratified k-fold log-loss on the labelled items
only. A label absent from the labelled set keeps a (regularised) bias and can still be predicted
when the LLMs say so.

``stack-pl``: the pool's confident predictions on the unlabelled items (top probability >
``sigma``) seed MoLAM's pseudo-labelling loop (XGBoost on h(x), Eq. 4, Table 5's
hyperparameters), which can learn interactions the pool cannot. Only the labelled set's labels
are used anywhere: training, the CV choice of L2 and the stopping rule.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import KFold, StratifiedKFold
from threadpoolctl import threadpool_limits

from mollia.annotators.base import ProbeAnnotator, unlabelled_mask
from mollia.annotators.features import log_probabilities, softmax
from mollia.annotators.molam import MoLAM, hyperparameters_for, semi_supervised
from mollia.errors import DataError, MolliaError

DEFAULT_L2_GRID = (1e-3, 1e-2, 1e-1, 1.0)


def pool_maps(z: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Per-item feature maps (n, 2N, K): log renormalised z of each LLM, then c of each LLM."""
    return np.concatenate([log_probabilities(z), np.asarray(c, dtype=np.float64)], axis=1)


class LogLinearPool(BaseEstimator, ClassifierMixin):
    """Multinomial logit with label-shared per-map weights: s_k = b_k + sum_m w_m F[m, k].

    ``fit(F, y)`` with F of shape (n, M, K). ``l2`` None chooses it from ``l2_grid`` by
    ``cv``-fold log-loss on (F, y). Fitted: ``coef_`` (M,), ``intercept_`` (K,), ``l2_``,
    ``cv_scores_`` ({l2: mean held-out log-loss}).
    """

    def __init__(self, l2: float | None = None, l2_grid=DEFAULT_L2_GRID, cv: int = 5, n_classes: int | None = None,
                 random_state: int = 0):
        self.l2 = l2
        self.l2_grid = l2_grid
        self.cv = cv
        self.n_classes = n_classes
        self.random_state = random_state

    @staticmethod
    def _solve(F: np.ndarray, y: np.ndarray, K: int, l2: float, sample_weight: np.ndarray | None = None) -> np.ndarray:
        n, M, _ = F.shape
        onehot = np.zeros((n, K))
        onehot[np.arange(n), y] = 1.0
        sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        sw = sw / sw.sum()

        def loss_grad(theta):
            w, b = theta[:M], theta[M:]
            scores = np.einsum("nmk,m->nk", F, w) + b
            scores -= scores.max(axis=1, keepdims=True)
            log_p = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
            loss = -(sw * (onehot * log_p).sum(axis=1)).sum() + l2 * (theta @ theta)
            resid = (np.exp(log_p) - onehot) * sw[:, None]
            grad = np.concatenate([np.einsum("nk,nmk->m", resid, F), resid.sum(axis=0)]) + 2 * l2 * theta
            return loss, grad

        return minimize(loss_grad, np.zeros(M + K), jac=True, method="L-BFGS-B").x

    def fit(self, F: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> "LogLinearPool":
        F = np.asarray(F, dtype=np.float64)
        y = np.asarray(y, dtype=np.int64)
        if F.ndim != 3 or len(F) != len(y) or len(y) == 0:
            raise DataError(f"log-linear pool: need F of shape (n, M, K) matching y, got {F.shape} and {y.shape}")
        K = int(self.n_classes) if self.n_classes is not None else F.shape[2]
        if F.shape[2] != K or y.min() < 0 or y.max() >= K:
            raise DataError(f"log-linear pool: labels must be in 0..{K - 1} and F must have K = {K} columns")
        self.n_classes_ = K
        self.cv_scores_: dict[float, float] = {}
        # one BLAS thread: L-BFGS-B's tiny BLAS calls spin badly on a busy multi-core box
        with threadpool_limits(limits=1):
            self.l2_ = float(self.l2) if self.l2 is not None else self._choose_l2(F, y, K)
            theta = self._solve(F, y, K, self.l2_, sample_weight)
        self.coef_, self.intercept_ = theta[: F.shape[1]], theta[F.shape[1]:]
        return self

    def _choose_l2(self, F: np.ndarray, y: np.ndarray, K: int) -> float:
        counts = np.bincount(y, minlength=K)
        n_splits = min(int(self.cv), len(y))
        if n_splits < 2:
            return float(self.l2_grid[len(self.l2_grid) // 2])
        present = counts[counts > 0]
        if present.min() >= n_splits:
            splitter = StratifiedKFold(n_splits, shuffle=True, random_state=self.random_state)
        else:  # a class rarer than the folds: plain shuffled folds
            splitter = KFold(n_splits, shuffle=True, random_state=self.random_state)
        folds = list(splitter.split(np.zeros(len(y)), y))
        for l2 in self.l2_grid:
            losses = []
            for train, test in folds:
                theta = self._solve(F[train], y[train], K, float(l2))
                scores = np.einsum("nmk,m->nk", F[test], theta[: F.shape[1]]) + theta[F.shape[1]:]
                p = softmax(scores)
                losses.append(-np.log(np.clip(p[np.arange(len(test)), y[test]], 1e-12, None)).mean())
            self.cv_scores_[float(l2)] = float(np.mean(losses))
        return min(self.cv_scores_, key=self.cv_scores_.get)

    def decision_function(self, F: np.ndarray) -> np.ndarray:
        if not hasattr(self, "coef_"):
            raise MolliaError("log-linear pool: fit before predicting")
        return np.einsum("nmk,m->nk", np.asarray(F, dtype=np.float64), self.coef_) + self.intercept_

    def predict_proba(self, F: np.ndarray) -> np.ndarray:
        return softmax(self.decision_function(F))

    def predict(self, F: np.ndarray) -> np.ndarray:
        return self.predict_proba(F).argmax(axis=1)


class StackingAnnotator(ProbeAnnotator):
    """``stack`` (log-linear pool) and ``stack-pl`` (pool-seeded XGBoost pseudo-labelling)."""

    def __init__(self, pseudo_labelling: bool = False, sigma: float = 0.9, l2: float | None = None,
                 l2_grid=DEFAULT_L2_GRID, cv: int = 5, dataset: str | None = None, max_pseudo_iterations: int = 10,
                 n_estimators: int | None = None, n_jobs: int = 1, random_state: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.pseudo_labelling = pseudo_labelling
        self.n_estimators = n_estimators
        self.sigma = sigma
        self.l2 = l2
        self.l2_grid = l2_grid
        self.cv = cv
        self.dataset = dataset
        self.max_pseudo_iterations = max_pseudo_iterations
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.name = "stack-pl" if pseudo_labelling else "stack"

    def _fit_proba(self, table, labelled_pos, labelled_y):
        F = pool_maps(table.z, table.c)
        K = table.n_labels
        self.pool_ = LogLinearPool(self.l2, self.l2_grid, self.cv, K, self.random_state).fit(F[labelled_pos], labelled_y)
        proba = self.pool_.predict_proba(F)
        if not self.pseudo_labelling:
            return proba
        unl = np.flatnonzero(unlabelled_mask(len(table), labelled_pos))
        seeds = unl[proba[unl].max(axis=1) > self.sigma]
        X = table.features()
        X_seed = np.concatenate([X[labelled_pos], X[seeds]])
        y_seed = np.concatenate([labelled_y, proba[seeds].argmax(axis=1)])
        rest = np.setdiff1d(unl, seeds)
        hp = hyperparameters_for(self.dataset or table.dataset)
        if self.n_estimators is not None:
            hp["n_estimators"] = int(self.n_estimators)
        self.molam_ = MoLAM(**hp, sigma=self.sigma, n_classes=K,
                            max_pseudo_iterations=self.max_pseudo_iterations, n_jobs=self.n_jobs,
                            random_state=self.random_state).fit(*semi_supervised(X_seed, y_seed, X[rest]))
        return self.molam_.predict_proba(X)


def _expand_proba(proba: np.ndarray, classes: np.ndarray, n_classes: int, floor: float = 1e-6) -> np.ndarray:
    """A classifier's probabilities over the classes it saw -> all K columns (absent ones at ``floor``)."""
    out = np.full((len(proba), n_classes), floor)
    out[:, classes] = np.maximum(proba, floor)
    return out / out.sum(axis=1, keepdims=True)


def text_expert_log_proba(X: np.ndarray, labelled_pos: np.ndarray, labelled_y: np.ndarray, n_classes: int,
                          c_grid=(0.1, 1.0, 10.0, 100.0), cv: int = 5, random_state: int = 0) -> np.ndarray:
    """log p_text(k|x) (n, K) of a multinomial logistic regression on text embeddings ``X`` (n, d),
    trained on the labelled rows only. C is chosen from ``c_grid`` by k-fold log-loss on the labelled
    rows; the labelled rows get their OUT-OF-FOLD probabilities (a weight fitted on them must not see
    the text expert's in-sample fit), every other row the fit on all labelled rows."""
    from sklearn.linear_model import LogisticRegression

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(labelled_y, dtype=np.int64)
    if len(np.unique(y)) < 2:  # one class seen: the text expert has nothing to say
        return np.full((len(X), n_classes), -np.log(n_classes))
    n_splits = max(2, min(int(cv), len(y)))
    counts = np.bincount(y)
    present = counts[counts > 0]
    splitter = (StratifiedKFold(n_splits, shuffle=True, random_state=random_state) if present.min() >= n_splits
                else KFold(n_splits, shuffle=True, random_state=random_state))
    folds = list(splitter.split(np.zeros(len(y)), y))
    XL = X[labelled_pos]

    def fit(C, rows):
        return LogisticRegression(C=C, max_iter=2000).fit(XL[rows], y[rows])

    with threadpool_limits(limits=1):
        oof_by_c = {}
        for C in c_grid:
            oof = np.zeros((len(y), n_classes))
            for train, test in folds:
                if len(np.unique(y[train])) < 2:
                    oof[test] = 1.0 / n_classes
                    continue
                model = fit(C, train)
                oof[test] = _expand_proba(model.predict_proba(XL[test]), model.classes_, n_classes)
            oof_by_c[C] = oof
        best = min(c_grid, key=lambda C: -np.log(oof_by_c[C][np.arange(len(y)), y]).mean())
        full = fit(best, np.arange(len(y)))
        proba = _expand_proba(full.predict_proba(X), full.classes_, n_classes)
    proba[labelled_pos] = oof_by_c[best]
    return np.log(proba)


class TextAwareStackingAnnotator(StackingAnnotator):
    """``stack-text`` (ours, beyond the paper): the log-linear pool with one more expert, a text
    classifier on the AL encoder's embeddings (`text_expert_log_proba`), whose log-probabilities
    enter as one more feature map with its own weight. Everything (the text classifier, its C, the
    pool's weights and L2) is fitted on the labelled set only; the loop passes ``text_features``
    (n, d) aligned with the probe table's rows."""

    needs_text_features = True

    def __init__(self, text_features: np.ndarray | None = None, text_c_grid=(0.1, 1.0, 10.0, 100.0), **kwargs):
        super().__init__(pseudo_labelling=False, **kwargs)
        self.text_features = text_features
        self.text_c_grid = text_c_grid
        self.name = "stack-text"

    def _fit_proba(self, table, labelled_pos, labelled_y):
        if self.text_features is None or len(self.text_features) != len(table):
            got = None if self.text_features is None else len(self.text_features)
            raise DataError(f"stack-text needs text_features with one row per probe row ({len(table)}), got {got}")
        K = table.n_labels
        log_text = text_expert_log_proba(self.text_features, labelled_pos, labelled_y, K, self.text_c_grid,
                                         self.cv, self.random_state)
        F = np.concatenate([pool_maps(table.z, table.c), log_text[:, None, :]], axis=1)
        self.pool_ = LogLinearPool(self.l2, self.l2_grid, self.cv, K, self.random_state).fit(F[labelled_pos], labelled_y)
        return self.pool_.predict_proba(F)

    def __repr__(self) -> str:
        return f"TextAwareStackingAnnotator(l2={self.l2!r}, cv={self.cv!r}, text_c_grid={self.text_c_grid!r})"
