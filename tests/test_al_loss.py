"""The robust loss (paper Eqs. 7-9) against hand computations, and the lambda schedule."""

import math

import numpy as np
import pytest
import torch

from mollia.al.loss import (discrepancy_weights, lambda_schedule, log_one_minus_softmax,
                            negative_learning_loss, robust_loss)
from mollia.errors import MolliaError


def _softmax(row):
    e = [math.exp(v) for v in row]
    return [v / sum(e) for v in e]


def test_eq7_negative_loss_by_hand():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]])
    neg = torch.tensor([[False, True, True], [True, False, False]])
    p0, p1 = _softmax([2.0, 0.5, -1.0]), _softmax([0.0, 1.0, 3.0])
    expected = [-(math.log(1 - p0[1]) + math.log(1 - p0[2])), -math.log(1 - p1[0])]
    got = negative_learning_loss(logits, neg)
    assert got.tolist() == pytest.approx(expected, rel=1e-6)


def test_eq9_full_loss_by_hand():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]])
    targets = torch.tensor([0, 1])
    weights = torch.tensor([1.0, 0.5])  # the second item is discrepant: W_d = alpha (Eq. 8)
    neg = torch.tensor([[False, True, True], [True, False, False]])
    lam = 0.7
    p0, p1 = _softmax([2.0, 0.5, -1.0]), _softmax([0.0, 1.0, 3.0])
    item0 = 1.0 * -math.log(p0[0]) + lam * -(math.log(1 - p0[1]) + math.log(1 - p0[2]))
    item1 = 0.5 * -math.log(p1[1]) + lam * -math.log(1 - p1[0])
    got = robust_loss(logits, targets, weights, neg, lam)
    assert float(got) == pytest.approx((item0 + item1) / 2, rel=1e-6)


def test_without_negatives_and_weights_it_is_cross_entropy():
    logits = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    targets = torch.tensor([0, 1, 2, 3, 0])
    got = robust_loss(logits, targets, torch.ones(5), torch.zeros(5, 4, dtype=torch.bool), 1.0)
    assert float(got) == pytest.approx(float(torch.nn.functional.cross_entropy(logits, targets)), rel=1e-6)


def test_negative_equal_to_target_is_ignored():
    logits = torch.tensor([[1.0, 0.0]])
    with_conflict = robust_loss(logits, torch.tensor([0]), torch.ones(1), torch.tensor([[True, False]]), 1.0)
    plain = robust_loss(logits, torch.tensor([0]), torch.ones(1), torch.tensor([[False, False]]), 1.0)
    assert float(with_conflict) == pytest.approx(float(plain))


def test_log_one_minus_softmax_is_stable_when_p_is_one():
    logits = torch.tensor([[100.0, 0.0, 0.0]], requires_grad=True)
    out = log_one_minus_softmax(logits)
    assert torch.isfinite(out).all()
    assert float(out.detach()[0, 0]) == pytest.approx(math.log(2) - 100.0, rel=1e-5)  # log(2e^0 / e^100) approx
    out[0, 0].backward()
    assert torch.isfinite(logits.grad).all()


def test_negative_learning_pushes_probability_away():
    logits = torch.zeros(1, 3, requires_grad=True)
    negative_learning_loss(logits, torch.tensor([[False, False, True]])).sum().backward()
    assert logits.grad[0, 2] > 0 and logits.grad[0, 0] < 0  # descent lowers class 2, raises the others


def test_discrepancy_weights_eq8():
    assert discrepancy_weights(np.array([0, 1, 1, 0]), 0.5).tolist() == [1.0, 0.5, 0.5, 1.0]
    with pytest.raises(MolliaError):
        discrepancy_weights(np.array([1]), 0.0)


def test_lambda_is_linear_from_start_to_end():
    lams = [lambda_schedule(i, 10, 0.4, 1.0) for i in range(0, 11)]
    assert lams[1] == pytest.approx(0.4) and lams[10] == pytest.approx(1.0)
    assert np.allclose(np.diff(lams[1:]), 0.6 / 9)
    assert lambda_schedule(1, 1, 0.2, 0.9) == pytest.approx(0.2)


def test_eq7_reductions_sum_as_printed_and_mean_as_the_authors_code_by_hand():
    """Three items: two negatives, none, one. 'sum' = the paper's Eq. 7 summed over y-, averaged
    over all B items; 'mean' = the authors' code: mean over y- per item, averaged over the items
    that have any, added to the batch mean of W_d * CE."""
    logits = torch.tensor([[2.0, 0.5, -1.0], [1.0, 1.0, 0.0], [0.0, 1.0, 3.0]])
    targets = torch.tensor([0, 1, 2])
    weights = torch.tensor([1.0, 0.5, 1.0])
    neg = torch.tensor([[False, True, True], [False, False, False], [True, False, False]])
    lam = 0.7
    p = [_softmax([2.0, 0.5, -1.0]), _softmax([1.0, 1.0, 0.0]), _softmax([0.0, 1.0, 3.0])]
    ce = [-math.log(p[0][0]), -math.log(p[1][1]), -math.log(p[2][2])]
    nl0 = [-math.log(1 - p[0][1]), -math.log(1 - p[0][2])]
    nl2 = [-math.log(1 - p[2][0])]
    weighted_ce = [1.0 * ce[0], 0.5 * ce[1], 1.0 * ce[2]]
    expected_sum = (weighted_ce[0] + lam * sum(nl0) + weighted_ce[1] + weighted_ce[2] + lam * sum(nl2)) / 3
    expected_mean = sum(weighted_ce) / 3 + lam * ((sum(nl0) / 2 + nl2[0]) / 2)
    assert float(robust_loss(logits, targets, weights, neg, lam)) == pytest.approx(expected_sum, rel=1e-6)
    assert float(robust_loss(logits, targets, weights, neg, lam, "sum")) == pytest.approx(expected_sum, rel=1e-6)
    assert float(robust_loss(logits, targets, weights, neg, lam, "mean")) == pytest.approx(expected_mean, rel=1e-6)
    assert expected_sum != pytest.approx(expected_mean, rel=1e-3)  # the two really differ here
    no_neg = torch.zeros(3, 3, dtype=torch.bool)
    assert float(robust_loss(logits, targets, weights, no_neg, lam, "mean")) == pytest.approx(sum(weighted_ce) / 3)
    with pytest.raises(MolliaError, match="negative_reduction"):
        robust_loss(logits, targets, weights, neg, lam, "median")


def test_negative_reduction_reaches_training_and_is_validated():
    from mollia.al.backbones import make_backbone
    from mollia.al.config import ALConfig, ConfigError
    from mollia.al.noisy import TrainingObjective

    with pytest.raises(ConfigError, match="negative_reduction"):
        ALConfig(negative_reduction="avg")
    assert "negative_reduction" not in ALConfig().to_params()  # default: params of older runs still match
    assert ALConfig(negative_reduction="mean").to_params()["negative_reduction"] == "mean"
    assert ALConfig(negative_reduction="mean").training_objective().negative_reduction == "mean"
    rng = np.random.default_rng(0)
    labels = np.arange(40) % 3
    feats = (np.eye(3)[labels] @ rng.normal(size=(3, 4)) + rng.normal(size=(40, 4))).astype(np.float32)
    config = ALConfig(hidden_size=8, lr=1e-2, epochs=10, patience=10)  # (AdamW's first steps are sign-like)
    model = make_backbone(config, "synthetic", ["t"] * 40, 3, embed_fn=lambda texts: feats)
    neg = np.zeros((40, 3), bool)  # two negatives on even items, none on odd ones: sum != mean
    neg[0::2] = True
    neg[np.arange(40), labels] = False
    fits = {}
    for reduction in ("sum", "mean"):
        model.fit(np.arange(30), labels[:30], np.ones(30), neg[:30], 1.0, np.arange(30, 40), labels[30:], seed=0,
                  objective=TrainingObjective(negative_reduction=reduction))
        fits[reduction] = model.predict_proba(np.arange(40))
    assert not np.allclose(fits["sum"], fits["mean"])  # the option changes what is trained


def test_the_training_objective_equals_robust_loss_for_both_reductions():
    from mollia.al.noisy import TrainingObjective

    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(6, 4, generator=gen)
    targets = torch.tensor([0, 1, 2, 3, 0, 1])
    weights = torch.tensor([1.0, 0.5, 1.0, 1.0, 0.5, 1.0])
    neg = torch.tensor([[0, 1, 1, 0], [0, 0, 0, 0], [1, 1, 0, 1], [0, 0, 0, 0], [0, 0, 1, 0], [1, 0, 1, 1]]).bool()
    for reduction in ("sum", "mean"):
        got = TrainingObjective(negative_reduction=reduction)(logits, targets, weights, neg, 0.6)
        assert float(got) == pytest.approx(float(robust_loss(logits, targets, weights, neg, 0.6, reduction)), rel=1e-6)
