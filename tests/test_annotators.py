"""Annotators: MoLAM estimator, baselines, crowd-kit, stacking, negative labels (fast, small data)."""

from __future__ import annotations

import numpy as np
import pytest

from mollia.annotators import MoLAM, PAPER_HYPERPARAMETERS, available_annotators, make_annotator
from mollia.annotators.crowd import worker_frame
from mollia.annotators.features import vote_labels
from mollia.annotators.negatives import negative_labels
from mollia.annotators.molam import semi_supervised
from mollia.study.protocol import negative_label_rates
from mollia.annotators.stacking import LogLinearPool, pool_maps
from mollia.annotators.types import Annotation, LabelledSet
from mollia.errors import DataError, MolliaError, UnknownNameError
from mollia.probes.paper import load_released
from mollia.probes.table import ProbeTable


def synthetic_table(n=300, N=3, K=3, seed=0, noise=0.25):
    """Probes of N noisy LLMs around a hidden truth; returns (table, truth)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, K, n)
    z = rng.dirichlet(np.ones(K), size=(n, N)) * noise
    z[np.arange(n), :, truth] += 1 - noise
    z /= z.sum(-1, keepdims=True)
    c = np.zeros((n, N, K))
    for j in range(N):
        draws = np.array([rng.multinomial(10, p) for p in z[:, j]]) / 10
        c[:, j] = draws
    ids = np.arange(1000, 1000 + n)
    table = ProbeTable("synthetic", tuple(f"l{k}" for k in range(K)), tuple(f"m{j}" for j in range(N)), ids, z, c)
    return table, truth


def labelled_from(table, truth, n=30, seed=0):
    pos = np.sort(np.random.default_rng(seed).choice(len(table), n, replace=False))
    return LabelledSet(table.item_ids[pos], truth[pos]), pos


@pytest.fixture(scope="module")
def trec_small(paper_dir):
    released = load_released(paper_dir / "probes", "trec")
    keep = np.random.default_rng(1).choice(len(released.table), 500, replace=False)
    return released.table.subset(released.table.item_ids[keep]), released.ground_truth[keep]


# -- MoLAM estimator -----------------------------------------------------------------------------
def test_molam_follows_sklearn_conventions_and_table5():
    est = MoLAM.for_dataset("trec", n_estimators=20)
    assert est.get_params()["learning_rate"] == 0.05 and est.get_params()["max_depth"] == 6
    assert not [k for k in vars(est) if k.endswith("_")]  # __init__ stores parameters only
    assert PAPER_HYPERPARAMETERS["ag_news"] == {"learning_rate": 0.07, "max_depth": 5, "n_estimators": 300}
    assert PAPER_HYPERPARAMETERS["imdb"]["learning_rate"] == 0.01
    assert PAPER_HYPERPARAMETERS["pubmed-20k-rct"] == {"learning_rate": 0.01, "max_depth": 3, "n_estimators": 500}
    table, truth = synthetic_table()
    X = table.features()
    assert est.fit(*semi_supervised(X[:40], truth[:40], X[40:])) is est
    proba = est.predict_proba(X)
    assert proba.shape == (len(X), 3) and np.allclose(proba.sum(1), 1)
    assert (est.predict(X) == proba.argmax(1)).all()
    assert est.model_.booster_.get_params()["n_jobs"] == 1


def test_molam_pseudo_labelling_adds_confident_items_then_stops():
    table, truth = synthetic_table(n=400)
    X = table.features()
    est = MoLAM(n_estimators=30, learning_rate=0.3, max_pseudo_iterations=5).fit(*semi_supervised(X[:40], truth[:40], X[40:]))
    assert est.n_pseudo_labelled_ > 100
    assert 1 <= est.n_iter_ <= 5 and len(est.history_) == est.n_iter_
    assert est.termination_condition_ in ("no_change", "max_iter")
    # SelfTrainingClassifier's bookkeeping: labelled rows at round 0, pseudo-labelled ones at their round
    assert (est.labeled_iter_[:40] == 0).all() and (est.labeled_iter_[40:] != 0).all()
    assert (est.labeled_iter_[40:] > 0).sum() == est.n_pseudo_labelled_
    assert np.array_equal(est.transduction_[:40], truth[:40]) and (est.transduction_[40:][est.labeled_iter_[40:] < 0] == -1).all()
    assert sum(est.history_) == est.n_pseudo_labelled_
    mol = MoLAM(n_estimators=30, learning_rate=0.3, pseudo_labelling=False).fit(*semi_supervised(X[:40], truth[:40], X[40:]))
    assert mol.n_pseudo_labelled_ == 0 and mol.n_iter_ == 0
    # deterministic
    again = MoLAM(n_estimators=30, learning_rate=0.3, max_pseudo_iterations=5).fit(*semi_supervised(X[:40], truth[:40], X[40:]))
    assert np.array_equal(again.predict_proba(X), est.predict_proba(X))


def test_molam_handles_a_class_missing_from_the_labelled_set():
    table, truth = synthetic_table(n=200, K=4)
    X = table.features()
    keep = np.flatnonzero(truth != 2)[:40]
    est = MoLAM(n_estimators=20, n_classes=4).fit(*semi_supervised(X[keep], truth[keep], X))
    proba = est.predict_proba(X)
    assert proba.shape == (200, 4) and (proba[:, 2] == 0).all() and np.allclose(proba.sum(1), 1)
    only = MoLAM(n_estimators=5, n_classes=4, pseudo_labelling=False).fit(X[:5], np.full(5, 3))
    assert (only.predict(X) == 3).all()
    with pytest.raises(DataError):
        MoLAM(n_classes=2).fit(X[:10], np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0]))
    with pytest.raises(ValueError, match="sigma"):  # sklearn's parameter validation
        MoLAM(sigma=1.5).fit(X[:10], truth[:10])
    with pytest.raises(DataError, match="unlabelled"):
        MoLAM().fit(X[:10], np.full(10, -1))


def test_molam_negative_labels_read_z_from_h():
    table, _ = synthetic_table(n=50)
    est = MoLAM(n_estimators=5, pseudo_labelling=False).fit(table.features()[:20], np.arange(20) % 3)
    assert np.array_equal(est.negative_labels(table.features()), negative_labels(table.z))


# -- negative labels (Eq. 5) ----------------------------------------------------------------------
def test_negative_labels_eq5_all_and_mean_rules():
    z = np.array([[[0.0005, 0.9995, 0.0], [0.002, 0.998, 0.0]]])  # one item, 2 LLMs, 3 labels
    assert negative_labels(z).tolist() == [[False, False, True]]  # label 0: one LLM above delta
    assert negative_labels(z, rule="mean").tolist() == [[False, False, True]]
    z2 = np.array([[[0.0005, 0.9, 0.0995], [0.0014, 0.9, 0.0986]]])
    assert negative_labels(z2, rule="all")[0, 0] == np.False_
    assert negative_labels(z2, rule="mean")[0, 0] == np.True_  # mean 0.00095 <= delta
    with pytest.raises(UnknownNameError):
        negative_labels(z, rule="median")
    rates = negative_label_rates(np.array([[False, False, True], [True, False, False]]), np.array([1, 0]))
    assert rates["true_negative_rate"] == pytest.approx(1 / 6)
    assert rates["false_negative_rate"] == pytest.approx(1 / 6)
    assert rates["items_with_false_negative"] == 0.5


# -- zero-shot baselines ------------------------------------------------------------------------------
def test_vote_falls_back_to_z_when_every_sample_was_invalid():
    z = np.array([[[0.1, 0.2, 0.7]], [[0.6, 0.3, 0.1]]])
    c = np.array([[[0.0, 0.0, 0.0]], [[0.0, 0.8, 0.0]]])
    table = ProbeTable("t", ("a", "b", "c"), ("m",), np.array([1, 2]), z, c)
    labels, fell_back = vote_labels(table)
    assert labels[:, 0].tolist() == [2, 1] and fell_back[:, 0].tolist() == [True, False]
    ann = make_annotator("llm-v:m").fit(table, LabelledSet(np.array([], dtype=int), np.array([], dtype=int))).annotate()
    assert ann.y_plus.tolist() == [2, 1]
    assert make_annotator("llm-l:m").fit(table, LabelledSet(np.array([1]), np.array([2]))).annotate().y_plus.tolist() == [2, 0]


def test_vote_ensemble_breaks_ties_by_summed_z():
    # two LLMs disagree (1 vote each for labels 0 and 1); LLM 2 (z high on label 1) breaks the tie
    z = np.array([[[0.5, 0.4, 0.1], [0.05, 0.9, 0.05]]])
    c = np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    table = ProbeTable("t", ("a", "b", "c"), ("m1", "m2"), np.array([7]), z, c)
    empty = LabelledSet(np.array([], dtype=int), np.array([], dtype=int))
    ann = make_annotator("llms-v").fit(table, empty).annotate()
    assert ann.y_plus.tolist() == [1] and ann.proba[0, 0] == pytest.approx(0.5, abs=1e-3)
    assert make_annotator("llms-l").fit(table, empty).annotate().y_plus.tolist() == [1]


def test_single_llm_names_resolve_by_prefix_and_fail_clearly():
    table, truth = synthetic_table(n=20)
    lab, _ = labelled_from(table, truth, 5)
    assert make_annotator("llm-l:m1").fit(table, lab).annotate().method == "llm-l:m1"
    with pytest.raises(UnknownNameError, match="m1"):
        make_annotator("llm-l:m").fit(table, lab)  # ambiguous prefix
    with pytest.raises(UnknownNameError):
        make_annotator("nonsense")
    with pytest.raises(DataError, match="no parameter"):
        make_annotator("molam", colour="red")
    for name in ("molam", "mol", "llms-v", "llms-l", "fixmatch", "snail", "da", "pag", "ck-mv", "ck-ds",
                 "ck-ds-seeded", "ck-glad", "stack", "stack-pl", "llm-l:<model>", "llm-v:<model>"):
        assert name in available_annotators()


def test_labelled_set_is_checked_against_the_table():
    table, truth = synthetic_table(n=20)
    with pytest.raises(DataError, match="no probes for id"):
        make_annotator("stack").fit(table, LabelledSet(np.array([5]), np.array([0])))
    with pytest.raises(DataError, match="labels must be integers"):
        make_annotator("stack").fit(table, LabelledSet(table.item_ids[:2], np.array([0, 7])))
    with pytest.raises(DataError, match="empty labelled set"):
        make_annotator("molam").fit(table, LabelledSet(np.array([], dtype=int), np.array([], dtype=int)))
    with pytest.raises(MolliaError, match="before annotate"):
        make_annotator("stack").annotate()


# -- crowd-kit ---------------------------------------------------------------------------------------
def test_crowdkit_aggregators_and_seeded_dawid_skene_uses_gold(trec_small):
    table, truth = trec_small
    frame = worker_frame(table)
    assert list(frame.columns) == ["task", "worker", "label"] and len(frame) == len(table) * table.n_models
    lab, pos = labelled_from(table, truth, 50)
    accs = {}
    for name in ("ck-mv", "ck-ds", "ck-ds-seeded"):
        ann = make_annotator(name).fit(table, lab).annotate()
        assert ann.proba.shape == (len(table), 6) and np.allclose(ann.proba.sum(1), 1)
        accs[name] = (ann.y_plus == truth).mean()
        if name == "ck-ds-seeded":
            assert (ann.y_plus[pos] == truth[pos]).all()  # gold tasks clamped to their labels
    assert min(accs.values()) > 0.6, accs


# -- stacking --------------------------------------------------------------------------------------
def test_log_linear_pool_recovers_a_reliable_llm_and_chooses_l2_by_cv():
    rng = np.random.default_rng(0)
    n, K = 400, 3
    truth = rng.integers(0, K, n)
    good = np.full((n, K), 0.05)
    good[np.arange(n), truth] = 0.9
    bad = rng.dirichlet(np.ones(K), size=n)
    z = np.stack([good, bad], axis=1)
    c = np.zeros_like(z)
    F = pool_maps(z, c)
    pool = LogLinearPool(l2_grid=(1e-3, 1e-1, 10.0)).fit(F[:50], truth[:50])
    assert set(pool.cv_scores_) == {1e-3, 1e-1, 10.0} and pool.l2_ in pool.cv_scores_
    assert pool.coef_[0] > abs(pool.coef_[1])  # the reliable LLM weighs more
    assert (pool.predict(F) == truth).mean() > 0.95


def test_stack_annotators_beat_chance_and_are_deterministic(trec_small):
    table, truth = trec_small
    lab, pos = labelled_from(table, truth, 50)
    mask = np.ones(len(table), bool)
    mask[pos] = False
    a = make_annotator("stack").fit(table, lab).annotate()
    b = make_annotator("stack").fit(table, lab).annotate()
    assert np.array_equal(a.proba, b.proba)
    assert (a.y_plus[mask] == truth[mask]).mean() > 0.7
    pl = make_annotator("stack-pl", n_jobs=1, n_estimators=30, max_pseudo_iterations=2).fit(table, lab)
    assert (pl.annotate().y_plus[mask] == truth[mask]).mean() > 0.7
    assert pl.molam_.n_classes_ == 6


# -- neural baselines -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["fixmatch", "snail"])
def test_neural_baselines_learn_and_are_seeded(trec_small, name):
    table, truth = trec_small
    lab, pos = labelled_from(table, truth, 50)
    mask = np.ones(len(table), bool)
    mask[pos] = False
    a = make_annotator(name, steps=60, random_state=3).fit(table, lab).annotate()
    b = make_annotator(name, steps=60, random_state=3).fit(table, lab).annotate()
    assert np.array_equal(a.proba, b.proba)
    assert np.allclose(a.proba.sum(1), 1)
    assert (a.y_plus[mask] == truth[mask]).mean() > 0.4  # chance is ~0.2 on trec


def test_fixmatch_strong_augmentation_drops_whole_llm_blocks():
    import torch

    fm = make_annotator("fixmatch", block_drop=0.5, strong_noise=0.0)
    x = torch.ones((200, 5 * 2 * 3))
    out = fm.strong(x, 5, torch.Generator().manual_seed(0)).reshape(200, 5, 6)
    per_block = out.sum(-1)
    assert set(torch.unique(per_block).tolist()) <= {0.0, 6.0}  # a block is kept or dropped whole
    assert (per_block > 0).any(dim=1).all()  # never every LLM dropped
    assert 0.3 < (per_block == 0).float().mean() < 0.7


def test_one_vote_rule_everywhere():
    """llm-vote, each LLM's vote inside llms-v / crowd-kit, and notebook 01's argmax-c predictions are one
    rule: argmax c, a tie in c broken by z, argmax z where every sample was invalid."""
    import numpy as np

    from mollia.annotators import make_annotator
    from mollia.annotators.features import vote_labels
    from mollia.annotators.types import LabelledSet
    from mollia.probes.table import ProbeTable
    from mollia.study.probing import predictions

    c = np.array([[[0.5, 0.5, 0.0]], [[0.0, 0.0, 0.0]], [[0.2, 0.6, 0.2]]])
    z = np.array([[[0.1, 0.7, 0.2]], [[0.2, 0.1, 0.6]], [[0.9, 0.05, 0.05]]])
    table = ProbeTable("toy", ("a", "b", "c"), ("m",), np.array([1, 2, 3]), z, c)
    expected = [1, 2, 1]  # tie 0/1 -> z says 1; all invalid -> argmax z = 2; plain vote 1
    assert vote_labels(table)[0][:, 0].tolist() == expected
    assert predictions(table, "c")[:, 0].tolist() == expected
    none = LabelledSet(np.array([], dtype=int), np.array([], dtype=int))
    for name in ("llm-v:m", "llms-v"):
        assert make_annotator(name).fit(table, none).annotate().y_plus.tolist() == expected, name


def test_annotation_save_load_round_trip_and_a_clear_error(tmp_path):
    import numpy as np

    from mollia.errors import CacheError

    proba = np.array([[0.7, 0.3], [0.2, 0.8]])
    ann = Annotation("molam", np.array([5, 9]), proba.argmax(1), proba, proba < 0.25)
    back = Annotation.load(ann.save(tmp_path / "a" / "ann.npz"))
    assert back.method == "molam" and back.item_ids.tolist() == [5, 9]
    assert np.array_equal(back.proba, proba) and np.array_equal(back.negatives, ann.negatives)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(CacheError, match="bad.npz"):
        Annotation.load(tmp_path / "bad.npz")
