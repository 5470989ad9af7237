"""BEMPS with the CoreMSE acquisition (Tan, Du & Buntine, "Bayesian estimate of mean proper scores for
diversity-enhanced active learning", IEEE TPAMI 2023; NeurIPS 2021), batch version as in the
authors' code (github.com/davidtw999/BEMPS).

Posterior samples ``P[x, e, y] = p(y | theta_e, x)`` (``e = 1..E``, uniform weights 1/E) come from
``model.predict_proba_samples``. For a candidate ``x`` with hypothetical label ``y`` the posterior
re-weights to ``w[x, y, e] = P[x, e, y] / sum_f P[x, f, y]``, and the updated predictive on an
evaluation point ``x'`` is ``q[x, y, x', yh] = sum_e w[x, y, e] P[x', e, yh]``. The authors' score
matrix is

    rr[x, x'] = sum_y p(y | L, x) * sum_e sum_yh (P[x', e, yh] - q[x, y, x', yh])^2,

with ``p(y | L, x) = mean_e P[x, e, y]`` and ``x'`` a random fraction (0.0939) of the pool. Summed
over ``x'`` it ranks the candidates by expected reduction of the MSE of the predictive (the
x-independent posterior variance is common to all candidates); the top 50% are clustered by
k-means on their L2-normalised ``rr[x, :]`` rows and the point nearest each centroid is picked.

Speed. Expanding the square, ``rr[x, :]`` is affine in per-candidate features of size E + E(E+1)/2:
``rr[x, x'] = a[x'] - 2 sum_e v[x, e] g[e, x'] + E sum_{e,f} z[x, e, f] h[e, f, x']``. So
``rr = F @ C`` with ``F`` (pool, 1 + E + E(E+1)/2) and ``C`` (that, |X'|), never materialising
the (pool x |X'|) matrix (1e5 x 9.4e3 at 100k). With the small Gram matrix
``C C^T = U diag(lam) U^T``, norms and Euclidean distances of ``rr`` rows are exactly those of the
low-dimensional rows of ``F U diag(sqrt(lam))``, so k-means on the latter is k-means on the
former. ``tests/test_strategies_bemps.py`` checks ``rr`` against a direct transcription of the
authors' tensor code.

What "exact" covers. The scores ``rr`` (and the ranking by their sum) are exact: the same numbers
as the authors' tensors, to float rounding. The batch is NOT the authors' batch: k-means is a
seeded local search (one initialisation, run in float32 on the equivalent low-dimensional rows),
and duplicate nearest points are resolved by taking the next nearest (`nearest_distinct`) where
the authors' code fills the batch at random; the same seed gives the same batch here, not the one
their code would pick.

Posterior samples. The BEMPS authors draw the E models of the posterior as a deep ensemble
(independently trained networks); here they are E Monte-Carlo-dropout masks of the one trained
model's head (``predict_proba_samples``), which is one training instead of E but a narrower
posterior (the encoder is shared; only the head's units are dropped), so CoreMSE's disagreement
terms are smaller than an ensemble's would be.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning

from mollia.al.strategies.base import QueryModel, Strategy, check_model_output, is_int, is_real
from mollia.errors import MolliaError

_POSTERIOR_FLOOR = 1e-7  # the authors' clamp on sum_e P[x, e, y]


def _pair_products(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``out[pair, x] = sum_y left[e, y, x] * right[f, y, x]`` over the pairs e <= f (E, K, m) layout,
    accumulated one class at a time to keep the temporary at (pairs, m)."""
    upper_e, upper_f = np.triu_indices(left.shape[0])
    out = np.zeros((upper_e.size, left.shape[2]))
    for y in range(left.shape[1]):
        out += left[upper_e, y] * right[upper_f, y]
    return out


def _candidate_features(p_e_y_x: np.ndarray) -> np.ndarray:
    """``F^T`` (1 + E + E(E+1)/2, m): rows 1, v[e, x], z[e, f, x] (e <= f) from candidate samples
    laid out (E, K, m). ``z`` and ``h`` are symmetric in (e, f), so the upper triangle suffices;
    the factor 2 of the off-diagonal terms sits in ``_evaluation_coefficients``."""
    p_y = p_e_y_x.mean(axis=0)                                            # p(y | L, x)   (K, m)
    w = p_e_y_x / np.maximum(p_e_y_x.sum(axis=0), _POSTERIOR_FLOOR)      # p(theta_e | L, x, y)
    weighted = w * p_y[None]
    v = weighted.sum(axis=1)                                              # (E, m)
    z = _pair_products(weighted, w)                                       # (pairs, m)
    return np.concatenate([np.ones((1, p_e_y_x.shape[2])), v, z], axis=0)


def _evaluation_coefficients(p_e_y_xp: np.ndarray) -> np.ndarray:
    """``C`` (1 + E + E(E+1)/2, |X'|): rows a[x'], -2 g[e, x'], E c_ef h[e, f, x'] (e <= f,
    c_ef = 1 on the diagonal, 2 off it) from the X' samples laid out (E, K, |X'|)."""
    e = p_e_y_xp.shape[0]
    total = p_e_y_xp.sum(axis=0)                                          # sum_e P   (K, X')
    a = np.square(p_e_y_xp).sum(axis=(0, 1))
    g = (p_e_y_xp * total[None]).sum(axis=1)                              # (E, X')
    upper_e, upper_f = np.triu_indices(e)
    h = _pair_products(p_e_y_xp, p_e_y_xp) * np.where(upper_e == upper_f, 1.0, 2.0)[:, None]
    return np.concatenate([a[None, :], -2.0 * g, float(e) * h], axis=0)


def coremse_scores(samples: np.ndarray, xp_rows: np.ndarray) -> np.ndarray:
    """The full ``rr[x, x']`` matrix (m, |X'|) of the authors' code from posterior ``samples``
    (E, m, K) and the rows ``xp_rows`` used as X'; for small inputs and tests."""
    p_e_y_x = np.ascontiguousarray(np.asarray(samples, dtype=np.float64).transpose(0, 2, 1))
    return _candidate_features(p_e_y_x).T @ _evaluation_coefficients(p_e_y_x[:, :, xp_rows])


def cluster_coordinates(features: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """Rows with the same norms and pairwise distances as the L2-normalised rows of
    ``rr = features @ coeffs`` ((m, p) @ (p, |X'|)), in at most p dimensions.

    With the Gram matrix ``C C^T = U diag(lam) U^T``, every inner product
    ``rr_i . rr_j = F_i C C^T F_j^T = (F_i U sqrt(lam)) . (F_j U sqrt(lam))``; eigenvalues below
    1e-12 of the largest (float rounding) are dropped. Normalisation as torch ``normalize``
    (eps 1e-12), the authors' choice.
    """
    lam, u = np.linalg.eigh(coeffs @ coeffs.T)
    keep = lam > max(lam[-1], 0.0) * 1e-12
    coords = features @ (u[:, keep] * np.sqrt(lam[keep]))
    if coords.shape[1] == 0:  # every rr row is zero: no information, one flat axis
        coords = np.zeros((features.shape[0], 1))
    return coords / np.maximum(np.linalg.norm(coords, axis=1, keepdims=True), 1e-12)


def nearest_distinct(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """For each centre in turn, the nearest point not taken by an earlier centre (so the batch
    has exactly ``len(centres)`` distinct points; the authors' code fills duplicates at random)."""
    d2 = ((centres ** 2).sum(1)[:, None] - 2.0 * centres @ points.T + (points ** 2).sum(1)[None, :])
    taken = np.zeros(points.shape[0], dtype=bool)
    chosen = np.empty(centres.shape[0], dtype=np.int64)
    for c in range(centres.shape[0]):
        row = np.where(taken, np.inf, d2[c])
        chosen[c] = int(np.argmin(row))
        taken[chosen[c]] = True
    return chosen


class BEMPS(Strategy):
    """CoreMSE batch acquisition.

    Parameters: ``n_samples`` posterior samples (MC dropout / ensemble members),
    ``xprime_fraction`` the share of the pool used as evaluation points X' (0.0939 as in the
    BEMPS experiments), ``top_fraction`` the share of candidates kept before clustering (0.5),
    ``max_kmeans_iter`` k-means iterations.
    """

    name = "bemps"

    def __init__(self, n_samples: int = 10, xprime_fraction: float = 0.0939,
                 top_fraction: float = 0.5, max_kmeans_iter: int = 300):
        self.n_samples = n_samples
        self.xprime_fraction = xprime_fraction
        self.top_fraction = top_fraction
        self.max_kmeans_iter = max_kmeans_iter

    def check_params(self) -> None:
        if not is_int(self.n_samples) or self.n_samples < 2:
            raise MolliaError(f"bemps n_samples must be an integer >= 2, got {self.n_samples!r}")
        for name in ("xprime_fraction", "top_fraction"):
            value = getattr(self, name)
            if not is_real(value) or not 0.0 < value <= 1.0:
                raise MolliaError(f"bemps {name} must be in (0, 1], got {value!r}")
        if not is_int(self.max_kmeans_iter) or self.max_kmeans_iter < 1:
            raise MolliaError(f"bemps max_kmeans_iter must be a positive integer, got {self.max_kmeans_iter!r}")

    def _select(self, model: QueryModel, pool_idx: np.ndarray, labelled_idx: np.ndarray,
                n: int, rng: np.random.Generator) -> np.ndarray:
        m = pool_idx.size
        samples = np.asarray(model.predict_proba_samples(pool_idx, self.n_samples, rng))
        check_model_output(samples, (self.n_samples, m, samples.shape[-1]), "predict_proba_samples")
        # (E, K, m) layout: every reduction below runs over long contiguous rows of m.
        p_e_y_x = np.ascontiguousarray(samples.transpose(0, 2, 1), dtype=np.float64)

        n_xp = max(1, int(round(m * self.xprime_fraction)))
        xp_rows = np.sort(rng.choice(m, size=n_xp, replace=False))
        features_t = _candidate_features(p_e_y_x)                         # (1+E+E(E+1)/2, m)
        coeffs = _evaluation_coefficients(p_e_y_x[:, :, xp_rows])         # (1+E+E(E+1)/2, X')

        # Rank by rr summed over X' (cheap: sum the coefficient columns first).
        total = coeffs.sum(axis=1) @ features_t
        n_top = min(m, max(n, int(round(m * self.top_fraction))))
        top = np.lexsort((np.arange(m), -total))[:n_top]
        if n == n_top:
            return top
        # k-means precision is ample in float32, which halves its work.
        coords = cluster_coordinates(features_t[:, top].T, coeffs).astype(np.float32)
        kmeans = KMeans(n_clusters=n, n_init=1, max_iter=self.max_kmeans_iter,
                        random_state=int(rng.integers(2**31 - 1)))
        with warnings.catch_warnings():
            # Fewer distinct rows than n (duplicated items): sklearn warns, nearest_distinct copes.
            warnings.simplefilter("ignore", ConvergenceWarning)
            kmeans.fit(coords)
        return top[nearest_distinct(coords, kmeans.cluster_centers_)]
