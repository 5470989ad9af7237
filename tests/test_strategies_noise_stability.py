"""NoiseStability: features are the relative output changes under weight noise; the batch goes to
items whose outputs are unstable (near the decision boundary) and stays within the subset."""

import numpy as np

from mollia.al.strategies import make_strategy
from mollia.al.strategies.array_model import ArrayQueryModel
from mollia.al.strategies.noise_stability import output_change_features


def boundary_model():
    """Two classes split by the sign of x0. Items 0..49 lie near the boundary (|x0| <= 0.3),
    items 50..299 far from it (|x0| >= 4): only the former change under small weight noise."""
    rng = np.random.default_rng(0)
    near = np.column_stack([rng.uniform(-0.3, 0.3, 50), rng.uniform(-1, 1, 50)])
    far_x0 = rng.uniform(4, 6, 250) * rng.choice([-1, 1], 250)
    far = np.column_stack([far_x0, rng.uniform(-1, 1, 250)])
    weights = np.array([[2.0, -2.0], [0.1, -0.1]])
    return ArrayQueryModel(np.vstack([near, far]), weights)


def test_output_change_features_layout_and_scale():
    proba = np.array([[0.6, 0.4], [1.0, 0.0]])
    perturbed = np.array([[[0.61, 0.39], [1.0, 0.0]], [[0.58, 0.42], [0.99, 0.01]]])
    feats = output_change_features(proba, perturbed)
    norm0 = np.hypot(0.6, 0.4)
    np.testing.assert_allclose(feats[0], np.array([0.01, -0.01, -0.02, 0.02]) / norm0)
    np.testing.assert_allclose(feats[1], [0.0, 0.0, -0.01, 0.01])


def test_noise_stability_picks_unstable_items():
    model = boundary_model()
    chosen = make_strategy("noise_stability", n_draws=10).query(
        model, np.arange(300), np.array([], dtype=int), 10, np.random.default_rng(0))
    assert (chosen < 50).all()
    # The first pick is the largest output change (the zero vector is the first centre).
    proba = model.predict_proba(np.arange(300))
    perturbed = model.perturbed_proba(np.arange(300), 1e-3, 10, np.random.default_rng(0))
    largest = np.linalg.norm(output_change_features(proba, perturbed), axis=1).argmax()
    assert largest < 50


def test_noise_stability_beats_random_on_uncertainty():
    model = ArrayQueryModel.synthetic(2000, 32, 4, seed=2, dtype=np.float64)
    pool = np.arange(2000)
    chosen = make_strategy("noise_stability", n_draws=10).query(
        model, pool, np.array([], dtype=int), 40, np.random.default_rng(0))
    proba = model.predict_proba(pool)
    top = np.sort(proba, axis=1)
    margin = top[:, -1] - top[:, -2]
    assert margin[chosen].mean() < np.quantile(margin, 0.25)


class SpyModel(ArrayQueryModel):
    """Records which positions the strategy asked about."""

    def perturbed_proba(self, idx, noise_scale, n_draws, rng):
        self.asked = (np.array(idx), noise_scale, n_draws)
        return super().perturbed_proba(idx, noise_scale, n_draws, rng)


def test_noise_stability_uses_a_random_subset_and_its_parameters():
    base = boundary_model()
    spy = SpyModel(base.embeddings, base.weights)
    pool = np.arange(20, 300)
    chosen = make_strategy("noise_stability", max_subset=100, n_draws=3, noise_scale=0.01).query(
        spy, pool, np.arange(20), 10, np.random.default_rng(4))
    asked, scale, draws = spy.asked
    assert asked.size == 100 and np.unique(asked).size == 100 and np.isin(asked, pool).all()
    assert (scale, draws) == (0.01, 3)
    assert np.isin(chosen, asked).all()
    make_strategy("noise_stability", max_subset=100).query(spy, pool, np.arange(20), 10, np.random.default_rng(5))
    assert not np.array_equal(spy.asked[0], asked)  # another rng, another subset
