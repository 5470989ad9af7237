"""Annotator names -> classes: `make_annotator(name, **params)`, `available_annotators()`.

Every name is parsed once by `spec.AnnotatorSpec.parse` (the grammar, the deprecated spellings and
the error listing the valid forms live there). Names (Table 2 of the paper, then ours):

=========================  ===========================================================================
``llm-l:<model>``          one LLM, argmax z (`single.py`; deprecated spelling ``llm:<model>``)
``llm-v:<model>``          one LLM, argmax c with z as fall-back (`single.py`; was ``llm-vote:<model>``)
``llms-v``                 vote-based ensemble (`ensembles.py`); ``llms-v:<m1>+<m2>`` on those LLMs only
``llms-l``                 logits-based ensemble (`ensembles.py`); ``llms-l:<m1>+<m2>`` likewise
``da``, ``pag``            augmentation + live re-probing + XGBoost (`augment.py`)
``snail``                  SNAIL-style attention over the labelled set (`neural.py`)
``fixmatch``               FixMatch on probe features (`neural.py`)
``mol``                    MoLAM without pseudo-labelling (`molam.py`)
``molam``                  the paper's MoLAM (`molam.py`)
``ck-mv`` ...              crowd-kit: ``ck-mv``, ``ck-ds``, ``ck-ds-seeded``, ``ck-glad``, ``ck-mace`` (`crowd.py`)
``stack``                  ours: CV-regularised log-linear pool (`stacking.py`)
``stack-pl``               ours: the pool seeding MoLAM's pseudo-labelling (`stacking.py`)
``stack-text``             ours: the pool + a text expert on the AL encoder's embeddings (`stacking.py`;
                           needs ``text_features``, which the AL loop passes)
=========================  ===========================================================================
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

from mollia.annotators.augment import DAAnnotator, PAGAnnotator
from mollia.annotators.base import ProbeAnnotator
from mollia.annotators.crowd import CrowdDawidSkene, CrowdGLAD, CrowdMACE, CrowdMajorityVote
from mollia.annotators.ensembles import LogitsEnsemble, VoteEnsemble
from mollia.annotators.molam import MoLAMAnnotator
from mollia.annotators.neural import FixMatchAnnotator, SNAILAnnotator
from mollia.annotators.single import SingleLLMLogits, SingleLLMVote
from mollia.annotators.spec import ENSEMBLE_PREFIX, AnnotatorSpec, valid_forms
from mollia.annotators.stacking import StackingAnnotator, TextAwareStackingAnnotator
from mollia.errors import DataError, UnknownNameError


@dataclass(frozen=True)
class AnnotatorEntry:
    """How to build one annotator: its class and the constructor arguments its name fixes."""

    factory: Callable[..., ProbeAnnotator]
    fixed: dict[str, Any] = field(default_factory=dict)
    live: bool = False  # needs texts and a model to re-probe (not runnable on released arrays alone)
    description: str = ""


ANNOTATORS: dict[str, AnnotatorEntry] = {
    "molam": AnnotatorEntry(MoLAMAnnotator, {"pseudo_labelling": True}, description="paper: XGBoost + pseudo-labelling"),
    "mol": AnnotatorEntry(MoLAMAnnotator, {"pseudo_labelling": False}, description="paper: MoLAM w/o pseudo-labelling"),
    "fixmatch": AnnotatorEntry(FixMatchAnnotator, description="paper: FixMatch, residual MLP"),
    "snail": AnnotatorEntry(SNAILAnnotator, description="paper: SNAIL-style meta-learner"),
    "da": AnnotatorEntry(DAAnnotator, live=True, description="paper: vocabulary augmentation + XGBoost"),
    "pag": AnnotatorEntry(PAGAnnotator, live=True, description="paper: paraphrases + XGBoost"),
    "ck-mv": AnnotatorEntry(CrowdMajorityVote, description="crowd-kit majority vote"),
    "ck-ds": AnnotatorEntry(CrowdDawidSkene, {"seeded": False}, description="crowd-kit Dawid-Skene"),
    "ck-ds-seeded": AnnotatorEntry(CrowdDawidSkene, {"seeded": True}, description="Dawid-Skene with gold labels"),
    "ck-glad": AnnotatorEntry(CrowdGLAD, description="crowd-kit GLAD"),
    "ck-mace": AnnotatorEntry(CrowdMACE, description="crowd-kit MACE"),
    "stack": AnnotatorEntry(StackingAnnotator, {"pseudo_labelling": False}, description="ours: log-linear pool"),
    "stack-pl": AnnotatorEntry(StackingAnnotator, {"pseudo_labelling": True}, description="ours: pool + XGBoost PL"),
    "stack-text": AnnotatorEntry(TextAwareStackingAnnotator, description="ours: pool + a text expert (AL encoder embeddings)"),
}
LLM_CLASSES = {("single", "logits"): SingleLLMLogits, ("single", "vote"): SingleLLMVote,
               ("ensemble", "logits"): LogitsEnsemble, ("ensemble", "vote"): VoteEnsemble}


def available_annotators() -> list[str]:
    """Every annotator name: the ensembles and registered names, the single LLMs as patterns."""
    return [*ENSEMBLE_PREFIX.values(), *ANNOTATORS, *(f for f in valid_forms() if "<" in f)]


def spec_of(name: str) -> AnnotatorEntry:
    """How to build ``name`` (parsed by `AnnotatorSpec.parse`: a deprecated spelling warns)."""
    return entry_of(AnnotatorSpec.parse(name))


def entry_of(spec: AnnotatorSpec) -> AnnotatorEntry:
    if spec.kind == "registered":
        return ANNOTATORS[spec.name]
    if spec.kind not in ("single", "ensemble"):
        raise UnknownNameError("annotator", spec.name, available_annotators())
    factory = LLM_CLASSES[spec.kind, spec.rule]
    if spec.kind == "single":
        return AnnotatorEntry(factory, {"model": spec.models[0]}, description=f"single LLM {spec.models[0]}")
    what = "every LLM" if not spec.models else " + ".join(spec.models)
    return AnnotatorEntry(factory, {"models": spec.models}, description=f"{spec.rule}-based ensemble of {what}")


def accepted_params(name: str) -> set[str]:
    """Constructor parameters of ``name``'s class and its bases."""
    return _accepted(spec_of(name))


def _accepted(entry: AnnotatorEntry) -> set[str]:
    params: set[str] = set()
    for klass in inspect.getmro(entry.factory):
        init = klass.__dict__.get("__init__")
        if init is not None:
            params |= {p for p in inspect.signature(init).parameters if p not in ("self", "kwargs")}
    return params - set(entry.fixed)


def make_annotator(name: str, **params) -> ProbeAnnotator:
    """A new, unfitted annotator ``name`` (see the module table) with ``params``; it keeps the name
    as written (a deprecated spelling builds the same annotator, with a warning)."""
    entry = spec_of(name)
    accepted = _accepted(entry)
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise DataError(f"annotator {name!r} has no parameter(s) {unknown}; it takes {sorted(accepted)}")
    annotator = entry.factory(**entry.fixed, **params)
    annotator.name = name
    return annotator


def needs_text_features(name: str) -> bool:
    """Whether ``name`` reads text embeddings beside the probes (``stack-text``); False for a name
    this registry does not know (a caller's own annotator factory)."""
    try:
        return bool(getattr(spec_of(name).factory, "needs_text_features", False))
    except UnknownNameError:
        return False


def is_live(name: str) -> bool:
    return spec_of(name).live
