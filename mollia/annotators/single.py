"""Single-LLM annotators (Table 2, "Single LLM"): zero-shot, no training.

- ``llm-l:<model>`` (deprecated spelling ``llm:<model>``): argmax of the model's z (Eq. 1); probabilities = z renormalised over labels.
- ``llm-v:<model>`` (deprecated spelling ``llm-vote:<model>``): the vote rule (`features.vote_scores`: argmax c, ties broken by z, argmax z
  where all T samples were invalid); probabilities = those scores renormalised.

``<model>`` is a model name of the probe table, or a unique prefix of one (e.g. ``gemma``).
"""

from __future__ import annotations

import numpy as np

from mollia.annotators.base import ProbeAnnotator
from mollia.annotators.features import normalised_z, vote_scores
from mollia.errors import UnknownNameError
from mollia.probes.table import ProbeTable


def resolve_model(table: ProbeTable, model: str) -> int:
    """Index of ``model`` in ``table.models``: exact name, else a unique case-insensitive prefix."""
    if model in table.models:
        return table.models.index(model)
    hits = [i for i, m in enumerate(table.models) if m.lower().startswith(model.lower())]
    if len(hits) == 1:
        return hits[0]
    raise UnknownNameError("model of this probe table", model, table.models)


class SingleLLMLogits(ProbeAnnotator):
    """``llm-l:<model>``: argmax z of one LLM."""

    needs_labels = False

    def __init__(self, model: str, **kwargs):
        super().__init__(**kwargs)
        self.model = model
        self.name = f"llm-l:{model}"

    def _fit_proba(self, table, labelled_pos, labelled_y):
        j = resolve_model(table, self.model)
        return normalised_z(table.z[:, j, :])


class SingleLLMVote(ProbeAnnotator):
    """``llm-v:<model>``: argmax c of one LLM, argmax z where every sample was invalid."""

    needs_labels = False

    def __init__(self, model: str, **kwargs):
        super().__init__(**kwargs)
        self.model = model
        self.name = f"llm-v:{model}"

    def _fit_proba(self, table, labelled_pos, labelled_y):
        j = resolve_model(table, self.model)
        return vote_proba(table.c[:, j, :], table.z[:, j, :])


def vote_proba(c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The vote rule's scores (`features.vote_scores`) renormalised; shape (n, K)."""
    scores = vote_scores(c, z)
    return scores / scores.sum(axis=1, keepdims=True)
