"""Query strategies: the shared contract (distinct pool positions, never labelled ones, same rng seed
same batch), input errors, and the cheap strategies' behaviour on hand-made cases."""

import numpy as np
import pytest

from mollia.al.strategies import QueryModel, Strategy, available_strategies, make_strategy
from mollia.al.strategies.array_model import ArrayQueryModel
from mollia.al.strategies.entropy import predictive_entropy
from mollia.al.strategies.margin import top2_margin
from mollia.errors import MolliaError, UnknownNameError

ALL = ["random", "coreset", "bemps", "noise_stability", "entropy", "margin"]
# Small, fast settings; the defaults are exercised by the bench.
FAST_PARAMS = {"bemps": {"n_samples": 6}, "noise_stability": {"n_draws": 8}}


@pytest.fixture(scope="module")
def model():
    return ArrayQueryModel.synthetic(600, 16, 4, seed=3, dtype=np.float64)


def _strategy(name):
    return make_strategy(name, **FAST_PARAMS.get(name, {}))


class FixedProbaModel:
    """Predicts a fixed table of probabilities; the other protocol methods are not needed here."""

    def __init__(self, proba):
        self.proba = np.asarray(proba, dtype=float)

    def predict_proba(self, idx):
        return self.proba[idx]

    def embed(self, idx):
        raise AssertionError("not used")

    def predict_proba_samples(self, idx, n_samples, rng):
        raise AssertionError("not used")

    def perturbed_proba(self, idx, noise_scale, n_draws, rng):
        raise AssertionError("not used")


def test_registry_names():
    assert available_strategies() == sorted(ALL)
    for name in ALL:
        strategy = make_strategy(name)
        assert isinstance(strategy, Strategy) and strategy.name == name
    assert make_strategy("Noise-Stability").name == "noise_stability"


def test_unknown_strategy_and_bad_params():
    with pytest.raises(UnknownNameError, match="unknown strategy 'badge'.*coreset"):
        make_strategy("badge")
    with pytest.raises(MolliaError, match="bad parameters for strategy 'coreset'"):
        make_strategy("coreset", n_samples=3)
    with pytest.raises(MolliaError, match="n_samples"):
        make_strategy("bemps", n_samples=1)
    with pytest.raises(MolliaError, match="xprime_fraction"):
        make_strategy("bemps", xprime_fraction=0.0)
    with pytest.raises(MolliaError, match="noise_scale"):
        make_strategy("noise_stability", noise_scale=-1e-3)
    with pytest.raises(MolliaError, match="max_subset"):
        make_strategy("noise_stability", max_subset=0)


def test_array_model_implements_protocol(model):
    assert isinstance(model, QueryModel)
    idx = np.array([5, 1, 9])
    rng = np.random.default_rng(0)
    assert model.predict_proba(idx).shape == (3, 4)
    assert model.embed(idx).shape == (3, 16)
    samples = model.predict_proba_samples(idx, 7, rng)
    perturbed = model.perturbed_proba(idx, 1e-3, 5, rng)
    assert samples.shape == (7, 3, 4) and perturbed.shape == (5, 3, 4)
    np.testing.assert_allclose(samples.sum(-1), 1.0)
    # Relative noise: outputs move, but only a little at scale 1e-3.
    change = np.abs(perturbed - model.predict_proba(idx)[None]).max()
    assert 0 < change < 0.05


def test_array_model_draws_are_shared_across_rows():
    """One dropout mask / one weight draw per sample for every row: identical items agree."""
    emb = np.tile(np.linspace(-1, 1, 8), (2, 1))
    m = ArrayQueryModel(emb, np.random.default_rng(1).normal(size=(8, 3)), dropout=0.5)
    rng = np.random.default_rng(0)
    samples = m.predict_proba_samples(np.array([0, 1]), 20, rng)
    np.testing.assert_array_equal(samples[:, 0], samples[:, 1])
    assert samples[:, 0].std(axis=0).max() > 0.01  # the draws do differ between samples
    perturbed = m.perturbed_proba(np.array([0, 1]), 0.01, 4, rng)
    np.testing.assert_array_equal(perturbed[:, 0], perturbed[:, 1])


@pytest.mark.parametrize("name", ALL)
def test_contract_distinct_pool_positions_never_labelled(name, model):
    rng = np.random.default_rng(7)
    perm = rng.permutation(600)
    labelled, pool = np.sort(perm[:40]), perm[40:]  # an unsorted pool of dataset positions
    chosen = _strategy(name).query(model, pool, labelled, 25, np.random.default_rng(0))
    assert chosen.shape == (25,)
    assert np.unique(chosen).size == 25
    assert np.isin(chosen, pool).all()
    assert not np.isin(chosen, labelled).any()


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_batch(name, model):
    pool, labelled = np.arange(30, 600), np.arange(30)
    strategy = _strategy(name)
    first = strategy.query(model, pool, labelled, 20, np.random.default_rng(11))
    second = strategy.query(model, pool, labelled, 20, np.random.default_rng(11))
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("name", ["random", "bemps", "noise_stability"])
def test_rng_is_used(name, model):
    """The randomised strategies depend on the rng passed in (and on nothing global)."""
    pool, labelled = np.arange(30, 600), np.arange(30)
    strategy = make_strategy(name, **({"max_subset": 100} if name == "noise_stability" else {}))
    batches = {tuple(strategy.query(model, pool, labelled, 10, np.random.default_rng(s))) for s in range(4)}
    assert len(batches) > 1


@pytest.mark.parametrize("name", ALL)
def test_whole_pool_and_single_item(name, model):
    pool = np.arange(590, 600)
    strategy = _strategy(name)
    whole = strategy.query(model, pool, np.arange(10), 10, np.random.default_rng(0))
    assert sorted(whole) == list(pool)
    one = strategy.query(model, pool, np.arange(10), 1, np.random.default_rng(0))
    assert one.shape == (1,) and one[0] in pool


@pytest.mark.parametrize("name", ALL)
def test_bad_requests_raise(name, model):
    strategy = _strategy(name)
    pool, labelled, rng = np.arange(10, 20), np.arange(10), np.random.default_rng(0)
    with pytest.raises(MolliaError, match="cannot query n=11 items from a pool of 10"):
        strategy.query(model, pool, labelled, 11, rng)
    for bad_n in (0, -3):
        with pytest.raises(MolliaError, match="must be positive"):
            strategy.query(model, pool, labelled, bad_n, rng)
    for bad_n in (2.5, True, "3"):
        with pytest.raises(MolliaError, match="must be an integer"):
            strategy.query(model, pool, labelled, bad_n, rng)
    with pytest.raises(MolliaError, match="overlap"):
        strategy.query(model, pool, np.array([3, 12]), 2, rng)
    with pytest.raises(MolliaError, match="duplicate"):
        strategy.query(model, np.array([10, 11, 11]), labelled, 2, rng)
    with pytest.raises(MolliaError, match="integer positions"):
        strategy.query(model, pool.astype(float), labelled, 2, rng)
    with pytest.raises(MolliaError, match="1-d"):
        strategy.query(model, pool.reshape(2, 5), labelled, 2, rng)
    with pytest.raises(MolliaError, match="negative"):
        strategy.query(model, np.array([-1, 12]), labelled, 1, rng)
    with pytest.raises(MolliaError, match="numpy.random.Generator"):
        strategy.query(model, pool, labelled, 2, 0)
    with pytest.raises(MolliaError, match="cannot query n=1 items from a pool of 0"):
        strategy.query(model, np.array([], dtype=int), labelled, 1, rng)


def test_broken_model_output_is_named():
    bad = FixedProbaModel(np.full((5, 3), np.nan))
    with pytest.raises(MolliaError, match="predict_proba returned non-finite"):
        make_strategy("entropy").query(bad, np.arange(5), np.array([], dtype=int), 2, np.random.default_rng(0))


def test_entropy_and_margin_pick_the_most_uncertain():
    proba = np.array([
        [0.98, 0.01, 0.01],   # 0 confident
        [0.34, 0.33, 0.33],   # 1 most uncertain by both
        [0.50, 0.48, 0.02],   # 2 tiny margin, medium entropy
        [0.80, 0.15, 0.05],   # 3
        [0.90, 0.05, 0.05],   # 4
        [0.45, 0.30, 0.25],   # 5 high entropy, larger margin
    ])
    model, pool, none = FixedProbaModel(proba), np.arange(6), np.array([], dtype=int)
    rng = np.random.default_rng(0)
    entropy_order = list(np.argsort(-predictive_entropy(proba), kind="stable"))
    margin_order = list(np.argsort(top2_margin(proba), kind="stable"))
    assert entropy_order[:3] == [1, 5, 2] and margin_order[:3] == [1, 2, 5]
    assert list(make_strategy("entropy").query(model, pool, none, 3, rng)) == [1, 5, 2]
    assert list(make_strategy("margin").query(model, pool, none, 2, rng)) == [1, 2]
    # Only pool items are candidates: with 1 and 2 labelled, the next most uncertain come out.
    assert list(make_strategy("margin").query(model, np.array([0, 3, 4, 5]), np.array([1, 2]), 2, rng)) == [5, 3]


def test_entropy_handles_zero_probabilities():
    assert np.isfinite(predictive_entropy(np.array([[1.0, 0.0], [0.5, 0.5]]))).all()


def test_coreset_picks_far_points():
    """Labelled items sit in one cluster; the far-away isolated points must be chosen first, in
    farthest-first order, and a duplicate of a labelled point never."""
    rng = np.random.default_rng(0)
    cluster = rng.normal(scale=0.1, size=(50, 2))
    far = np.array([[10.0, 0.0], [0.0, -6.0], [-3.0, 3.0]])
    emb = np.vstack([cluster, far, cluster[:1]])            # 50 cluster, 3 far, 1 duplicate
    model = ArrayQueryModel(emb, np.eye(2))
    labelled = np.arange(10)
    pool = np.arange(10, 54)
    chosen = make_strategy("coreset").query(model, pool, labelled, 3, np.random.default_rng(0))
    assert list(chosen) == [50, 51, 52]
    # Distances to the chosen set count too: after (10,0) the point (0,-6) is farthest (≈11.7 vs 6).
    chosen5 = make_strategy("coreset").query(model, pool, labelled, 5, np.random.default_rng(0))
    assert list(chosen5[:3]) == [50, 51, 52] and 53 not in chosen5


def test_coreset_without_labelled_items_spreads_out():
    emb = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [10.0]])
    model = ArrayQueryModel(emb, np.ones((1, 2)))
    chosen = make_strategy("coreset").query(model, np.arange(6), np.array([], dtype=int), 3,
                                            np.random.default_rng(0))
    # One point from each of the three groups, whatever the random first centre.
    groups = {0: 0, 1: 0, 2: 0, 3: 1, 4: 1, 5: 2}
    assert sorted(groups[int(c)] for c in chosen) == [0, 1, 2]


def test_coreset_chunking_does_not_change_the_answer():
    model = ArrayQueryModel.synthetic(500, 8, 3, seed=1, dtype=np.float64)
    pool, labelled = np.arange(20, 500), np.arange(20)
    a = make_strategy("coreset").query(model, pool, labelled, 15, np.random.default_rng(0))
    b = make_strategy("coreset", chunk_rows=7).query(model, pool, labelled, 15, np.random.default_rng(0))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ALL)
def test_identical_items_still_give_distinct_positions(name):
    """Duplicated items (equal embeddings and outputs) must not make a strategy repeat a pick."""
    emb = np.tile(np.array([[0.3, -0.2, 0.5]]), (30, 1))
    emb[25:] = [[2.0, 1.0, -1.0]]
    model = ArrayQueryModel(emb, np.random.default_rng(0).normal(size=(3, 3)), dropout=0.2)
    chosen = _strategy(name).query(model, np.arange(3, 30), np.arange(3), 8, np.random.default_rng(0))
    assert np.unique(chosen).size == 8 and np.isin(chosen, np.arange(3, 30)).all()


def test_entropy_and_margin_are_one_confidence_strategy_with_a_score_hook():
    from mollia.al.strategies.confidence import ConfidenceSampling
    from mollia.al.strategies.entropy import EntropySampling
    from mollia.al.strategies.margin import MarginSampling

    assert issubclass(EntropySampling, ConfidenceSampling) and issubclass(MarginSampling, ConfidenceSampling)

    class LeastConfidence(ConfidenceSampling):
        name = "least_confidence"

        def uncertainty(self, proba):
            return 1 - proba.max(axis=1)

    class Fixed:
        def predict_proba(self, idx):
            table = np.array([[0.9, 0.1], [0.55, 0.45], [0.7, 0.3], [0.5, 0.5]])
            return table[np.asarray(idx)]

    rng = np.random.default_rng(0)
    pool, none = np.arange(4), np.array([], dtype=int)
    assert LeastConfidence().query(Fixed(), pool, none, 2, rng).tolist() == [3, 1]
    assert EntropySampling().query(Fixed(), pool, none, 2, rng).tolist() == [3, 1]
    assert MarginSampling().query(Fixed(), pool, none, 2, rng).tolist() == [3, 1]
