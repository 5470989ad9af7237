"""Annotators stage: MoLAM, the Table 2 baselines, crowd-kit aggregators, the evaluation protocol.

Reads a `ProbeTable` and a `LabelledSet`; writes `Annotation`s. Never sees a pool label.
"""

from mollia.annotators.types import Annotation, LabelledSet

__all__ = ["Annotation", "LabelledSet"]
