"""Noisy-label losses (mollia.al.noisy) and the human-budget router (mollia.al.budget) against
values computed by hand."""

import math

import numpy as np
import pytest
import torch

from mollia.al.budget import doubt_scores, route_to_human
from mollia.al.loss import robust_loss
from mollia.al.noisy import (TrainingObjective, forget_rate, generalized_cross_entropy, hard_bootstrap,
                             small_loss_keep, soft_cross_entropy, symmetric_cross_entropy)
from mollia.errors import MolliaError

LOGITS = torch.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]])
TARGETS = torch.tensor([0, 1])


def _softmax(row):
    e = [math.exp(v) for v in row]
    return [v / sum(e) for v in e]


P0, P1 = _softmax([2.0, 0.5, -1.0]), _softmax([0.0, 1.0, 3.0])


def test_soft_cross_entropy_by_hand():
    t = torch.tensor([[0.7, 0.2, 0.1], [0.0, 0.5, 0.5]])
    expected = [-(0.7 * math.log(P0[0]) + 0.2 * math.log(P0[1]) + 0.1 * math.log(P0[2])),
                -(0.5 * math.log(P1[1]) + 0.5 * math.log(P1[2]))]
    assert soft_cross_entropy(LOGITS, t).tolist() == pytest.approx(expected, rel=1e-6)
    # a one-hot posterior is plain CE
    onehot = torch.eye(3)[TARGETS]
    assert soft_cross_entropy(LOGITS, onehot).tolist() == pytest.approx([-math.log(P0[0]), -math.log(P1[1])], rel=1e-6)


def test_gce_by_hand_and_limits():
    q = 0.7
    expected = [(1 - P0[0] ** q) / q, (1 - P1[1] ** q) / q]
    assert generalized_cross_entropy(LOGITS, TARGETS, q).tolist() == pytest.approx(expected, rel=1e-6)
    # q = 1 is MAE-like: 1 - p_y
    assert generalized_cross_entropy(LOGITS, TARGETS, 1.0).tolist() == pytest.approx([1 - P0[0], 1 - P1[1]], rel=1e-6)
    # q -> 0 approaches CE
    small = generalized_cross_entropy(LOGITS, TARGETS, 1e-4).tolist()
    assert small == pytest.approx([-math.log(P0[0]), -math.log(P1[1])], rel=1e-3)
    with pytest.raises(MolliaError, match="q must be"):
        generalized_cross_entropy(LOGITS, TARGETS, 0.0)


def test_sce_by_hand():
    a, b, A = 0.1, 1.0, -4.0
    # RCE = -sum_k p_k log t_k with log 0 = A: only the wrong classes count, each -A * p_k
    rce0 = -(P0[1] * A + P0[2] * A)
    rce1 = -(P1[0] * A + P1[2] * A)
    expected = [a * -math.log(P0[0]) + b * rce0, a * -math.log(P1[1]) + b * rce1]
    assert symmetric_cross_entropy(LOGITS, TARGETS, a, b, A).tolist() == pytest.approx(expected, rel=1e-6)
    with pytest.raises(MolliaError, match="negative"):
        symmetric_cross_entropy(LOGITS, TARGETS, log_zero=0.0)


def test_hard_bootstrap_by_hand():
    beta = 0.8
    # item 0: model argmax 0 = y -> plain CE; item 1: argmax 2 != y = 1
    expected = [-math.log(P0[0]), -(beta * math.log(P1[1]) + (1 - beta) * math.log(P1[2]))]
    assert hard_bootstrap(LOGITS, TARGETS, beta).tolist() == pytest.approx(expected, rel=1e-6)


def test_small_loss_selection_drops_the_largest_untrusted_losses():
    loss = torch.tensor([5.0, 1.0, 9.0, 3.0, 7.0])
    trusted = torch.tensor([False, False, True, False, False])
    # 4 untrusted items, forget .5 -> drop 2: the losses 7 and 5; the trusted 9 is kept
    keep = small_loss_keep(loss, trusted, 0.5)
    assert keep.tolist() == [False, True, True, True, False]
    assert small_loss_keep(loss, trusted, 0.0).all()
    assert forget_rate(0, 0.4, 10) == 0.0 and forget_rate(5, 0.4, 10) == pytest.approx(0.2)
    assert forget_rate(30, 0.4, 10) == pytest.approx(0.4)


def test_objective_ce_equals_the_papers_robust_loss():
    weights = torch.tensor([1.0, 0.5])
    neg = torch.tensor([[False, True, True], [True, False, False]])
    ours = TrainingObjective("ce")(LOGITS, TARGETS, weights, neg, 0.7)
    assert float(ours) == pytest.approx(float(robust_loss(LOGITS, TARGETS, weights, neg, 0.7)), rel=1e-6)


def test_objective_trusted_items_get_plain_ce_and_are_never_dropped():
    weights = torch.ones(2)
    neg = torch.zeros(2, 3, dtype=torch.bool)
    trusted = torch.tensor([True, False])
    q = 0.7
    got = TrainingObjective("gce", gce_q=q)(LOGITS, TARGETS, weights, neg, 0.0, trusted=trusted)
    assert float(got) == pytest.approx((-math.log(P0[0]) + (1 - P1[1] ** q) / q) / 2, rel=1e-6)
    # small-loss selection at full ramp drops the one untrusted item (forget .6 of 1 -> 1)
    obj = TrainingObjective("ce", small_loss_forget=0.6, small_loss_ramp=1)
    got = obj(LOGITS, TARGETS, weights, neg, 0.0, trusted=trusted, epoch=5)
    assert float(got) == pytest.approx(-math.log(P0[0]), rel=1e-6)


def test_objective_soft_with_weights_by_hand():
    soft = torch.tensor([[0.6, 0.4, 0.0], [0.1, 0.8, 0.1]])
    w = torch.tensor([0.9, 0.3])
    got = TrainingObjective("soft")(LOGITS, TARGETS, w, torch.zeros(2, 3, dtype=torch.bool), 0.0, soft=soft)
    i0 = -(0.6 * math.log(P0[0]) + 0.4 * math.log(P0[1]))
    i1 = -(0.1 * math.log(P1[0]) + 0.8 * math.log(P1[1]) + 0.1 * math.log(P1[2]))
    assert float(got) == pytest.approx((0.9 * i0 + 0.3 * i1) / 2, rel=1e-6)
    with pytest.raises(MolliaError, match="soft targets"):
        TrainingObjective("soft")(LOGITS, TARGETS, w, torch.zeros(2, 3, dtype=torch.bool), 0.0)
    with pytest.raises(MolliaError, match="unknown label loss"):
        TrainingObjective("mae")


@pytest.mark.parametrize("loss", ["ce", "soft", "gce", "sce", "bootstrap"])
def test_every_objective_has_gradients(loss):
    logits = LOGITS.clone().requires_grad_(True)
    soft = torch.tensor([[0.6, 0.4, 0.0], [0.1, 0.8, 0.1]])
    out = TrainingObjective(loss)(logits, TARGETS, torch.ones(2), torch.zeros(2, 3, dtype=torch.bool), 0.0, soft=soft)
    out.backward()
    assert torch.isfinite(logits.grad).all() and float(logits.grad.abs().sum()) > 0


# -- the human-budget router ------------------------------------------------------------------

def test_doubt_scores_by_hand():
    y = np.array([0, 2, 1])
    model = np.array([[0.9, 0.05, 0.05], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6]])
    assert doubt_scores("discrepancy", y, model_proba=model) == pytest.approx([0.1, 0.8, 0.8])
    ann = np.array([[0.6, 0.2, 0.2], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3]])
    assert doubt_scores("confidence", y, annotator_proba=ann) == pytest.approx([0.4, 0.2, 0.6])
    c = np.zeros((3, 2, 3))
    c[0, :, 0] = [1.0, 1.0]          # both LLMs said 0 every time
    c[1, 0, 2], c[1, 1, 0] = 1.0, 1.0  # one said 2, one said 0
    c[2, 0, 1], c[2, 1, 1] = 0.5, 0.0  # half of one LLM's samples
    assert doubt_scores("disagreement", y, consistency=c) == pytest.approx([0.0, 0.5, 0.75])
    with pytest.raises(MolliaError, match="needs the LLMs"):
        doubt_scores("disagreement", y)
    with pytest.raises(MolliaError, match="unknown human route"):
        doubt_scores("loudest", y, model_proba=model)


@pytest.mark.parametrize("h", [0, 1, 3, 5, 50, 60])
def test_router_never_sends_more_than_h_and_takes_the_most_doubtful(h):
    rng = np.random.default_rng(h)
    scores = rng.random(50)
    chosen = route_to_human(scores, h)
    assert len(chosen) == min(h, 50) and len(set(chosen.tolist())) == len(chosen)
    if 0 < h < 50:
        assert scores[chosen].min() >= np.delete(scores, chosen).max()


def test_router_ties_keep_batch_order_and_rejects_bad_budgets():
    assert route_to_human(np.array([1.0, 1.0, 0.0, 1.0]), 2).tolist() == [0, 1]
    with pytest.raises(MolliaError, match="non-negative"):
        route_to_human(np.ones(3), -1)
    with pytest.raises(MolliaError, match="NaN"):
        route_to_human(np.array([np.nan, 1.0]), 1)
