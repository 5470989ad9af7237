"""Annotator names -> classes: `make_annotator(name, **params)`, `available_annotators()`.

Names (Table 2 of the paper, then ours):

================  ===========================================================================
``llm:<model>``   one LLM, argmax z (`single.py`)
``llm-vote:<m>``  one LLM, argmax c with z as fall-back (`single.py`)
``llms-v``        vote-based ensemble (`ensembles.py`)
``llms-l``        logits-based ensemble (`ensembles.py`)
``da``, ``pag``   augmentation + live re-probing + XGBoost (`augment.py`)
``snail``         SNAIL-style attention over the labelled set (`neural.py`)
``fixmatch``      FixMatch on probe features (`neural.py`)
``mol``           MoLAM without pseudo-labelling (`molam.py`)
``molam``         the paper's MoLAM (`molam.py`)
``ck-mv`` ...     crowd-kit: ``ck-mv``, ``ck-ds``, ``ck-ds-seeded``, ``ck-glad``, ``ck-mace`` (`crowd.py`)
``stack``         ours: CV-regularised log-linear pool (`stacking.py`)
``stack-pl``      ours: the pool seeding MoLAM's pseudo-labelling (`stacking.py`)
``stack-text``    ours: the pool + a text expert on the AL encoder's embeddings (`stacking.py`;
                  needs ``text_features``, which the AL loop passes)
================  ===========================================================================
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
from mollia.annotators.stacking import StackingAnnotator, TextAwareStackingAnnotator
from mollia.errors import DataError, UnknownNameError


@dataclass(frozen=True)
class AnnotatorSpec:
    factory: Callable[..., ProbeAnnotator]
    fixed: dict[str, Any] = field(default_factory=dict)
    live: bool = False  # needs texts and a model to re-probe (not runnable on released arrays alone)
    description: str = ""


ANNOTATORS: dict[str, AnnotatorSpec] = {
    "molam": AnnotatorSpec(MoLAMAnnotator, {"pseudo_labelling": True}, description="paper: XGBoost + pseudo-labelling"),
    "mol": AnnotatorSpec(MoLAMAnnotator, {"pseudo_labelling": False}, description="paper: MoLAM w/o pseudo-labelling"),
    "llms-v": AnnotatorSpec(VoteEnsemble, description="paper: vote-based LLM ensemble"),
    "llms-l": AnnotatorSpec(LogitsEnsemble, description="paper: logits-based LLM ensemble"),
    "fixmatch": AnnotatorSpec(FixMatchAnnotator, description="paper: FixMatch, residual MLP"),
    "snail": AnnotatorSpec(SNAILAnnotator, description="paper: SNAIL-style meta-learner"),
    "da": AnnotatorSpec(DAAnnotator, live=True, description="paper: vocabulary augmentation + XGBoost"),
    "pag": AnnotatorSpec(PAGAnnotator, live=True, description="paper: paraphrases + XGBoost"),
    "ck-mv": AnnotatorSpec(CrowdMajorityVote, description="crowd-kit majority vote"),
    "ck-ds": AnnotatorSpec(CrowdDawidSkene, {"seeded": False}, description="crowd-kit Dawid-Skene"),
    "ck-ds-seeded": AnnotatorSpec(CrowdDawidSkene, {"seeded": True}, description="Dawid-Skene with gold labels"),
    "ck-glad": AnnotatorSpec(CrowdGLAD, description="crowd-kit GLAD"),
    "ck-mace": AnnotatorSpec(CrowdMACE, description="crowd-kit MACE"),
    "stack": AnnotatorSpec(StackingAnnotator, {"pseudo_labelling": False}, description="ours: log-linear pool"),
    "stack-pl": AnnotatorSpec(StackingAnnotator, {"pseudo_labelling": True}, description="ours: pool + XGBoost PL"),
    "stack-text": AnnotatorSpec(TextAwareStackingAnnotator, description="ours: pool + a text expert (AL encoder embeddings)"),
}
PREFIXED = {"llm": SingleLLMLogits, "llm-vote": SingleLLMVote}


def available_annotators() -> list[str]:
    """Every annotator name (the single-LLM ones as ``llm:<model>`` / ``llm-vote:<model>``)."""
    return [*ANNOTATORS, "llm:<model>", "llm-vote:<model>"]


def spec_of(name: str) -> AnnotatorSpec:
    if ":" in name:
        prefix, model = name.split(":", 1)
        if prefix in PREFIXED and model:
            return AnnotatorSpec(PREFIXED[prefix], {"model": model}, description=f"single LLM {model}")
    if name in ANNOTATORS:
        return ANNOTATORS[name]
    raise UnknownNameError("annotator", name, available_annotators())


def accepted_params(name: str) -> set[str]:
    """Constructor parameters of ``name``'s class and its bases."""
    spec = spec_of(name)
    params: set[str] = set()
    for klass in inspect.getmro(spec.factory):
        init = klass.__dict__.get("__init__")
        if init is not None:
            params |= {p for p in inspect.signature(init).parameters if p not in ("self", "kwargs")}
    return params - set(spec.fixed)


def make_annotator(name: str, **params) -> ProbeAnnotator:
    """A new, unfitted annotator ``name`` (see the module table) with ``params``."""
    spec = spec_of(name)
    unknown = sorted(set(params) - accepted_params(name))
    if unknown:
        raise DataError(f"annotator {name!r} has no parameter(s) {unknown}; it takes {sorted(accepted_params(name))}")
    annotator = spec.factory(**spec.fixed, **params)
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
