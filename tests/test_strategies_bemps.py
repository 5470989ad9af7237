"""BEMPS / CoreMSE: the score matrix equals the definition in the authors' code, the fast k-means
coordinates are exact, and the batch prefers informative, diverse candidates."""

import numpy as np
import pytest

from mollia.al.strategies import make_strategy
from mollia.al.strategies.array_model import ArrayQueryModel
from mollia.al.strategies.bemps import (_candidate_features, _evaluation_coefficients,
                                        cluster_coordinates, coremse_scores)
from mollia.al.strategies.entropy import predictive_entropy


def reference_rr(p_x_e_y, xp_rows):
    """CoreMSE scores straight from the definition (the authors' bemps_coremse_batch): for each
    candidate x, label y and evaluation point x', the posterior over samples re-weighted by
    P(y|theta_e,x), the updated predictive q, and the unweighted sum over samples and classes of
    (P(yh|theta_e,x') - q)^2, averaged over y with p(y|L,x). Materialises everything."""
    p_x_e_y = np.asarray(p_x_e_y, dtype=np.float64)
    n_e = p_x_e_y.shape[1]
    p_xp = p_x_e_y[xp_rows]                                               # (X', E, Yh)
    prior_weighted = p_x_e_y / n_e                                        # pr_ThetaL * P
    w = prior_weighted / np.maximum(prior_weighted.sum(axis=1, keepdims=True), 1e-7)  # (X, E, Y)
    q = np.einsum("xey,peh->xpyh", w, p_xp)                               # (X, X', Y, Yh)
    sq = (p_xp[None, :, None, :, :] - q[:, :, :, None, :]) ** 2           # (X, X', Y, E, Yh)
    core = sq.sum(axis=(-1, -2))                                          # (X, X', Y)
    p_y = prior_weighted.sum(axis=1)                                      # (X, Y)
    return (p_y[:, None, :] * core).sum(-1)                               # (X, X')


def random_samples(rng, n_e=5, m=30, k=4):
    """Posterior samples (E, m, K) with real disagreement between samples."""
    return rng.dirichlet(np.full(k, 0.7), size=(n_e, m))


def test_scores_match_the_authors_definition():
    rng = np.random.default_rng(0)
    samples = random_samples(rng)
    xp_rows = np.array([1, 4, 7, 20, 29])
    expected = reference_rr(samples.transpose(1, 0, 2), xp_rows)
    np.testing.assert_allclose(coremse_scores(samples, xp_rows), expected, rtol=1e-10, atol=1e-12)


def test_cluster_coordinates_preserve_normalised_distances():
    rng = np.random.default_rng(1)
    samples = random_samples(rng, n_e=4, m=40, k=3)
    p_e_y_x = np.ascontiguousarray(samples.transpose(0, 2, 1))
    features = _candidate_features(p_e_y_x).T
    coeffs = _evaluation_coefficients(p_e_y_x[:, :, np.arange(0, 40, 2)])
    rr = features @ coeffs
    rr /= np.linalg.norm(rr, axis=1, keepdims=True)
    coords = cluster_coordinates(features, coeffs)
    assert coords.shape[1] <= features.shape[1] < rr.shape[1]
    gram_full, gram_low = rr @ rr.T, coords @ coords.T
    np.testing.assert_allclose(gram_low, gram_full, atol=1e-9)


class TwoFactorModel:
    """Posterior samples of a hand-made model with two unknown binary parameters b1, b2 (one
    joint draw per sample). Items 0..59 depend on b1, items 60..119 on b2 (the model is unsure
    about them), items 120..399 are predicted confidently whatever the parameters."""

    n_items = 400

    def __init__(self):
        jitter = np.random.default_rng(5).uniform(-0.03, 0.03, size=self.n_items)
        self.high = 0.85 + jitter

    def predict_proba_samples(self, idx, n_samples, rng):
        b1 = np.arange(n_samples) % 2                 # independent, balanced bits across samples
        b2 = (np.arange(n_samples) // 2) % 2
        out = np.empty((n_samples, len(idx), 2))
        for j, item in enumerate(idx):
            hi = self.high[item]
            bit = b1 if item < 60 else b2 if item < 120 else np.zeros(n_samples, dtype=int)
            if item >= 120:
                hi = 0.97
            out[:, j, 0] = np.where(bit == 0, hi, 1 - hi)
            out[:, j, 1] = 1 - out[:, j, 0]
        return out

    def predict_proba(self, idx):
        raise AssertionError("BEMPS reads posterior samples only")

    embed = perturbed_proba = predict_proba


def test_bemps_ranks_the_uncertain_items_first():
    model, pool = TwoFactorModel(), np.arange(400)
    strategy = make_strategy("bemps", n_samples=8, top_fraction=0.3, xprime_fraction=0.25)
    chosen = strategy.query(model, pool, np.array([], dtype=int), 120, np.random.default_rng(0))
    assert set(chosen) == set(range(120))  # n == top 30%: the ranking itself is returned


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bemps_batch_is_diverse(seed):
    """Two picks out of the informative items: one per unknown parameter, not two of a kind."""
    model, pool = TwoFactorModel(), np.arange(400)
    strategy = make_strategy("bemps", n_samples=8, top_fraction=0.3, xprime_fraction=0.25)
    chosen = strategy.query(model, pool, np.array([], dtype=int), 2, np.random.default_rng(seed))
    assert sorted(int(c) // 60 for c in chosen) == [0, 1]


def test_bemps_prefers_uncertain_points_of_a_real_model():
    model = ArrayQueryModel.synthetic(3000, 32, 4, seed=0, dtype=np.float64, dropout=0.3)
    pool = np.arange(50, 3000)
    chosen = make_strategy("bemps").query(model, pool, np.arange(50), 30, np.random.default_rng(0))
    entropy = predictive_entropy(model.predict_proba(pool))
    chosen_entropy = predictive_entropy(model.predict_proba(chosen))
    assert chosen_entropy.mean() > np.quantile(entropy, 0.5)
