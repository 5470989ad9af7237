"""Per-iteration records: Fig. 6's two statistics against hand-computed values."""

import numpy as np
import pytest

from mollia.al.records import accurate_detection_rate, added_rows, flag_precision

# six annotated items, two of them wrong (items 2 and 4)
TRUTH = np.array([0, 1, 2, 0, 1, 2])
Y_PLUS = np.array([0, 1, 0, 0, 2, 2])
PREV_PROBA = np.array([[0.50, 0.45, 0.05],   # margin .05
                       [0.90, 0.05, 0.05],
                       [0.34, 0.33, 0.33],   # highest entropy, lowest margin
                       [0.80, 0.10, 0.10],
                       [0.40, 0.30, 0.30],   # second highest entropy
                       [0.70, 0.20, 0.10]])
AGREEMENT = np.array([0.9, 0.8, 0.1, 0.7, 0.05, 0.6])  # the LLMs' c[y+]: items 4 and 2 lowest


def _consistency():
    c = np.zeros((6, 1, 3))
    c[np.arange(6), 0, Y_PLUS] = AGREEMENT
    return c


def test_fig6_statistics_by_hand():
    d_anno = np.array([False, True, True, False, False, False])  # m = 2 flags: items 1 (right), 2 (wrong)
    out = added_rows(Y_PLUS, TRUTH, np.zeros((6, 3), bool), d_anno, PREV_PROBA, _consistency())
    # the paper's statistic: not flagged AND right, over all 6 annotated items
    #   discrepancy flags {1, 2}: unflagged right = {0, 3, 5}       -> 3/6
    #   entropy flags {2, 4}:      unflagged right = {0, 1, 3, 5}    -> 4/6
    #   margin flags {2, 0}:       unflagged right = {1, 3, 5}       -> 3/6
    #   consistency flags {4, 2}:  unflagged right = {0, 1, 3, 5}    -> 4/6
    assert out["accurate_detection"] == pytest.approx({"discrepancy": 3 / 6, "entropy": 4 / 6, "margin": 3 / 6,
                                                       "consistency": 4 / 6})
    # ours: wrong among the flagged
    assert out["flag_precision"] == pytest.approx({"discrepancy": 1 / 2, "entropy": 2 / 2, "margin": 1 / 2,
                                                   "consistency": 2 / 2})
    assert out["discrepancy_precision"] == pytest.approx(0.5)
    assert out["added_label_accuracy"] == pytest.approx(4 / 6)


def test_fig6_statistics_without_flags_and_without_probes():
    none_flagged = np.zeros(6, dtype=bool)
    out = added_rows(Y_PLUS, TRUTH, np.zeros((6, 3), bool), none_flagged, PREV_PROBA, None)
    # nothing flagged: every annotation is "identified as accurate"; the right ones are 4 of 6
    assert out["accurate_detection"] == {"discrepancy": pytest.approx(4 / 6), "entropy": pytest.approx(4 / 6),
                                         "margin": pytest.approx(4 / 6), "consistency": None}
    assert out["flag_precision"] is None and out["discrepancy_precision"] is None


def test_the_two_statistics_on_their_own():
    flagged = np.array([True, False, False, True])
    wrong = np.array([True, True, False, False])
    assert accurate_detection_rate(flagged, wrong) == 0.25  # only item 2 is unflagged and right
    assert flag_precision(flagged, wrong) == 0.5
    assert flag_precision(np.zeros(4, bool), wrong) is None


@pytest.mark.parametrize("seed", range(5))
def test_accurate_detection_of_older_records_is_derived_exactly(seed):
    """Records written before accurate_detection existed: collect derives it from added_label_accuracy,
    discrepancy_rate and flag_precision; it equals what added_rows records, flag by flag."""
    from mollia.study.collect import accurate_detection_from

    rng = np.random.default_rng(seed)
    n, k = 40, 4
    truth = rng.integers(0, k, n)
    y_plus = np.where(rng.random(n) < 0.7, truth, rng.integers(0, k, n))
    proba = rng.dirichlet(np.ones(k), n)
    d_anno = proba.argmax(1) != y_plus
    consistency = rng.dirichlet(np.ones(k), (n, 3))
    row = added_rows(y_plus, truth, np.zeros((n, k), bool), d_anno, proba, consistency)
    old = {key: value for key, value in row.items() if key != "accurate_detection"}
    derived = accurate_detection_from(old)
    assert derived == pytest.approx(row["accurate_detection"])
    none_flagged = added_rows(y_plus, truth, np.zeros((n, k), bool), np.zeros(n, bool), proba, consistency)
    old = {key: value for key, value in none_flagged.items() if key != "accurate_detection"}
    assert accurate_detection_from(old) == pytest.approx(none_flagged["accurate_detection"])
