"""Annotators stage: MoLAM, the Table 2 baselines, crowd-kit aggregators (library code only).

Reads a `ProbeTable` and a `LabelledSet`; writes `Annotation`s. Never sees a pool label.

``make_annotator(name, **params)`` -> object with ``fit(probes, labelled)`` and
``annotate(ids=None) -> Annotation``; ``available_annotators()``; the estimator `MoLAM`.
Scoring them against ground truth (Table 2's protocol) is the study's: `mollia.study.protocol`.
"""

from mollia.annotators.molam import MoLAM, PAPER_HYPERPARAMETERS
from mollia.annotators.negatives import negative_labels
from mollia.annotators.registry import available_annotators, make_annotator
from mollia.annotators.types import Annotation, LabelledSet

__all__ = ["Annotation", "LabelledSet", "MoLAM", "PAPER_HYPERPARAMETERS", "available_annotators",
           "make_annotator", "negative_labels"]
