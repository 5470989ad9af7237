"""Paired differences over seeds and the verdict rule of claims.md, against hand-computed values."""

import math

import pytest

from mollia.study.stats import PairedDifference, mean_interval, paired_difference, verdict


def test_paired_difference_matches_a_hand_computed_t_interval():
    # differences .02 .03 .01 .04 .00: mean .02, sd sqrt(.001 / 4) = .0158114, t(.975, 4) = 2.776445,
    # half width 2.776445 * .0158114 / sqrt(5) = .0196324
    a = {0: 0.72, 1: 0.73, 2: 0.71, 3: 0.74, 4: 0.70, 9: 0.99}  # seed 9 has no partner: left out
    b = {0: 0.70, 1: 0.70, 2: 0.70, 3: 0.70, 4: 0.70, 7: 0.10}
    d = paired_difference(a, b)
    assert d.n == 5 and d.mean == pytest.approx(0.02)
    assert d.low == pytest.approx(0.02 - 0.0196324, abs=1e-6) and d.high == pytest.approx(0.02 + 0.0196324, abs=1e-6)
    assert verdict(d) == "holds"  # the interval [.0004, .0396] lies above 0
    assert verdict(d, threshold=0.01) == "inconclusive"  # ... but not above .01
    assert verdict(paired_difference(b, a)) == "does not hold"


def test_verdicts_need_five_seeds_enough_items_and_something_to_measure():
    four = paired_difference({s: 0.9 for s in range(4)}, {s: 0.1 for s in range(4)})
    assert four.n == 4 and verdict(four) == "inconclusive (4 paired seeds < 5)"
    five = paired_difference({s: 0.5 + 0.01 * s for s in range(5)}, {s: 0.5 for s in range(5)})
    assert verdict(five) == "holds"
    assert verdict(five, n_eval=5) == "n/a (5 evaluation items < 100: an illustration)"
    assert verdict(five, n_eval=100) == "holds"
    assert verdict(five, vacuous="no negative labels at all") == "n/a (no negative labels at all)"
    # a spread that straddles 0: mean +.002, differences -.02 .. +.03
    mixed = mean_interval([-0.02, 0.03, 0.01, -0.01, 0.0])
    assert mixed.low < 0 < mixed.high and verdict(mixed) == "inconclusive"


def test_degenerate_samples():
    same = mean_interval([0.01] * 5)  # no spread: the interval is the point
    assert (same.low, same.high) == (0.01, 0.01) and verdict(same) == "holds"
    one = mean_interval([0.3])
    assert one.n == 1 and math.isnan(one.low) and verdict(one).startswith("inconclusive")
    none = paired_difference({}, {0: 1.0})
    assert none.n == 0 and none.text() == "–"
    assert PairedDifference(5, 0.02, 0.0004, 0.0396).text() == "+0.020 [+0.000, +0.040]"
