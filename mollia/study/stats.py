"""Paired comparisons over seeds, and the verdict rule of ``claims.md``.

A claim compares two arms run with the SAME seeds (same initial labelled set, same queries'
random stream): the evidence is the mean of the per-seed differences with its 95% Student-t
interval (``scipy.stats.ttest_1samp(...).confidence_interval``). The verdict is mechanical:

* ``n/a``: the statistic is vacuous (e.g. no negative labels at all) or computed on fewer than
  `MIN_EVAL_ITEMS` evaluation items (an illustration, not evidence);
* ``inconclusive``: fewer than `MIN_SEEDS` paired seeds, or the interval contains the threshold;
* ``holds`` / ``does not hold``: the whole interval lies on the claimed / the other side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np
from scipy import stats

MIN_SEEDS = 5
MIN_EVAL_ITEMS = 100
CONFIDENCE = 0.95


@dataclass(frozen=True)
class PairedDifference:
    """Mean of ``a - b`` over the ``n`` seeds both arms ran, with its 95% t interval."""

    n: int
    mean: float
    low: float
    high: float

    def text(self, digits: int = 3) -> str:
        if self.n == 0:
            return "–"
        return f"{self.mean:+.{digits}f} [{self.low:+.{digits}f}, {self.high:+.{digits}f}]"


def mean_interval(values) -> PairedDifference:
    """Mean of ``values`` with its 95% Student-t interval (a single value or zero spread: the
    interval is the point itself when n > 1, undefined (nan) when n == 1)."""
    x = np.asarray([v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))],
                   dtype=float)
    n = len(x)
    if n == 0:
        return PairedDifference(0, math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if n == 1:
        return PairedDifference(1, mean, math.nan, math.nan)
    if np.allclose(x, x[0], rtol=0.0, atol=1e-15):  # no spread: t is undefined, the interval is the point
        return PairedDifference(n, mean, mean, mean)
    low, high = stats.ttest_1samp(x, 0.0).confidence_interval(CONFIDENCE)
    return PairedDifference(n, mean, float(low), float(high))


def paired_difference(a: Mapping, b: Mapping) -> PairedDifference:
    """``a`` and ``b`` map seed -> value; the difference ``a[s] - b[s]`` over the seeds both have."""
    common = sorted(set(a) & set(b))
    return mean_interval([float(a[s]) - float(b[s]) for s in common])


def verdict(diff: PairedDifference, threshold: float = 0.0, *, n_eval: int | None = None,
            vacuous: str | None = None) -> str:
    """The verdict for a claim "the difference is above ``threshold``" (see the module docstring)."""
    if vacuous:
        return f"n/a ({vacuous})"
    if n_eval is not None and n_eval < MIN_EVAL_ITEMS:
        return f"n/a ({n_eval} evaluation items < {MIN_EVAL_ITEMS}: an illustration)"
    if diff.n < MIN_SEEDS:
        return f"inconclusive ({diff.n} paired seeds < {MIN_SEEDS})"
    if diff.low > threshold:
        return "holds"
    if diff.high < threshold:
        return "does not hold"
    return "inconclusive"
