"""Fixed, seeded train/validation/test splits.

One rule everywhere (offline builds, the hub's missing validation split, a user's file without a
split column), so a split is reproducible from (labels, sizes, seed) alone, with numpy only:

1. shuffle the items with ``numpy.random.default_rng(seed).permutation``;
2. per class, in that shuffled order, the first ``q_test[c]`` items go to test, the next
   ``q_val[c]`` to validation, the rest to train;
3. the per-class quotas are proportional to class size and sum exactly to the sizes asked for
   (largest-remainder rounding, ties to the lower class index).

``groups`` (optional) keeps items that share a group (e.g. identical texts) in one split: the
rule is then applied to the groups, each labelled by its first item, and sizes count groups.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from mollia.data.dataset import EXCLUDED
from mollia.errors import DataError

# default proportions for data that comes without a split: 70% train, 10% validation, 20% test
DEFAULT_FRACTIONS = {"train": 0.7, "validation": 0.1, "test": 0.2}


def _quotas(class_sizes: np.ndarray, total: int) -> np.ndarray:
    """Largest-remainder apportionment of ``total`` over classes, proportional to their sizes."""
    n = class_sizes.sum()
    exact = class_sizes * (total / n) if n else np.zeros_like(class_sizes, dtype=float)
    base = np.floor(exact).astype(np.int64)
    remainder = exact - base
    short = total - int(base.sum())
    order = np.lexsort((np.arange(len(remainder)), -remainder))  # biggest remainder first, then class index
    base[order[:short]] += 1
    return np.minimum(base, class_sizes)


def stratified_split(labels: Sequence[int], n_test: int, n_validation: int, seed: int,
                     groups: Sequence | None = None) -> np.ndarray:
    """Split names (``"train"|"validation"|"test"``) per item, by the rule in the module docstring."""
    labels = np.asarray(labels)
    if groups is not None:
        codes, first = _group_codes(groups)
        group_split = stratified_split(labels[first], n_test, n_validation, seed)
        return group_split[codes]
    n = len(labels)
    if n_test < 0 or n_validation < 0 or n_test + n_validation > n:
        raise DataError(f"cannot split {n} items into {n_test} test and {n_validation} validation items")
    order = np.random.default_rng(seed).permutation(n)
    classes, class_of = np.unique(labels, return_inverse=True)
    sizes = np.bincount(class_of, minlength=len(classes))
    q_test = _quotas(sizes, n_test)
    q_val = _quotas(sizes - q_test, n_validation)
    split = np.full(n, "train", dtype=object)
    for c in range(len(classes)):
        members = order[class_of[order] == c]  # class c, in shuffled order
        split[members[: q_test[c]]] = "test"
        split[members[q_test[c]: q_test[c] + q_val[c]]] = "validation"
    return split


def fraction_split(labels: Sequence[int], seed: int, fractions: dict[str, float] | None = None,
                   groups: Sequence | None = None) -> np.ndarray:
    """`stratified_split` with sizes from fractions (default `DEFAULT_FRACTIONS`, rounded down)."""
    fractions = DEFAULT_FRACTIONS if fractions is None else fractions
    n = len(np.unique(np.asarray(groups), return_index=True)[1]) if groups is not None else len(labels)
    n_test = int(n * fractions["test"])
    n_validation = int(n * fractions["validation"])
    return stratified_split(labels, n_test, n_validation, seed, groups=groups)


def _group_codes(groups: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Group code per item (groups numbered in order of first appearance) and each group's first item."""
    _, first, inverse = np.unique(np.asarray(groups, dtype=object), return_index=True, return_inverse=True)
    # renumber so group k is the k-th to appear: the split then does not depend on sort order of keys
    appearance = np.argsort(first, kind="stable")
    rank = np.empty_like(appearance)
    rank[appearance] = np.arange(len(appearance))
    return rank[inverse], first[appearance]


def permutation_tail_split(n: int, n_validation: int, seed: int) -> np.ndarray:
    """``"validation"`` for the last ``n_validation`` items of ``default_rng(seed).permutation(n)``,
    ``"train"`` for the others: the hub's carve of a validation split from a train split whose
    first items in that permutation are the paper's pool (`DatasetSpec.sample_ids`)."""
    if not 0 <= n_validation < n:
        raise DataError(f"cannot carve {n_validation} validation items from {n}")
    order = np.random.default_rng(seed).permutation(n)
    split = np.full(n, "train", dtype=object)
    split[order[n - n_validation:]] = "validation"
    return split


def exclude_cross_split_duplicates(texts: Sequence[str], split: Sequence[str]) -> np.ndarray:
    """Split names where no text occurs in two splits: the test split is kept intact; any other
    item whose text is also a test item's, and any validation item whose text is also a train
    item's, becomes ``"excluded"`` (kept in the data, used by no split)."""
    texts = pd.Series(np.asarray(texts, dtype=object))
    split = np.asarray(split, dtype=object).copy()
    in_test = texts.isin(set(texts[split == "test"])).to_numpy()
    split[(split != "test") & in_test] = EXCLUDED
    in_train = texts.isin(set(texts[split == "train"])).to_numpy()
    split[(split == "validation") & in_train] = EXCLUDED
    return split
