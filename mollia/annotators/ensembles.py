"""LLM-ensemble annotators (Table 2, "LLM Ensem."): zero-shot aggregation of the N LLMs.

- ``llms-v`` (vote-based): each LLM's label is its vote (`features.vote_labels`: argmax c, ties
  broken by its z, argmax z where all its samples were invalid); the majority label wins. Ties between labels with the same
  number of votes go to the one with the larger summed z (each LLM's z renormalised, so an LLM
  whose raw z sums above 1 does not weigh more). Probabilities = vote shares, nudged by z by at
  most 1e-3 so that their argmax is the tie-broken label.
- ``llms-l`` (logits-based): the mean over LLMs of z (raw, as released: ``normalise=False``, the
  paper's aggregation; ``normalise=True`` renormalises each LLM's z first). Probabilities = the
  mean renormalised over labels.

Both take ``models``: the LLMs to aggregate (names or unique prefixes, as ``llms-v:gemma+yi``);
empty (the default) = every LLM of the probe table.
"""

from __future__ import annotations

import numpy as np

from mollia.annotators.base import ProbeAnnotator
from mollia.annotators.features import normalised_z, vote_labels
from mollia.annotators.single import resolve_model

# vote counts differ by >= 1 between a winner and a loser; the z nudge is below that
MAJORITY_TIE_BREAK = 1e-3


def vote_counts(table) -> np.ndarray:
    labels, _ = vote_labels(table)
    n, K = len(table), table.n_labels
    counts = np.zeros((n, K))
    for j in range(labels.shape[1]):
        counts[np.arange(n), labels[:, j]] += 1
    return counts


class _Ensemble(ProbeAnnotator):
    needs_labels = False

    def __init__(self, models: tuple[str, ...] = (), **kwargs):
        super().__init__(**kwargs)
        self.models = tuple(models)

    def _members(self, table):
        """The probe table restricted to ``models`` (all of it without)."""
        if not self.models:
            return table
        return table.select_models(list(dict.fromkeys(table.models[resolve_model(table, m)] for m in self.models)))


class VoteEnsemble(_Ensemble):
    """``llms-v``: majority over the N LLMs' argmax c, ties broken by summed (renormalised) z."""

    name = "llms-v"

    def _fit_proba(self, table, labelled_pos, labelled_y):
        table = self._members(table)
        counts = vote_counts(table)
        z_sum = normalised_z(table.z).sum(axis=1) / table.n_models  # in [0, 1]
        scores = counts + MAJORITY_TIE_BREAK * z_sum
        return scores / scores.sum(axis=1, keepdims=True)


class LogitsEnsemble(_Ensemble):
    """``llms-l``: argmax of the mean z over LLMs."""

    name = "llms-l"

    def __init__(self, normalise: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.normalise = normalise

    def _fit_proba(self, table, labelled_pos, labelled_y):
        table = self._members(table)
        z = normalised_z(table.z) if self.normalise else np.clip(table.z, 0.0, None)
        return normalised_z(z.mean(axis=1))
