"""Annotator names, parsed once: ``AnnotatorSpec.parse(name)``.

The paper names its two LLM ensembles LLMs-L (logits) and LLMs-V (votes); single LLMs follow the
same two letters, so a single LLM is the one-model case of an ensemble:

=========================  ==========================================================================
``llm-l:<model>``          one LLM, argmax of its z (Eq. 1)
``llm-v:<model>``          one LLM, the vote rule (argmax c, ties broken by z, argmax z where all T
                           samples were invalid)
``llms-l`` / ``llms-v``    the ensemble of every LLM of the probe table
``llms-l:<m1>+<m2>+...``   the ensemble of the named LLMs only (``llms-v:...`` likewise); ``+``
                           because lists of annotator names are comma-separated
``molam``, ``mol``, ...    a registered annotator (`registry.ANNOTATORS`)
``oracle`` ...             ground truth: only where the caller passes ``ground_truth`` names (the AL
                           loop's oracle is not a probe annotator)
=========================  ==========================================================================

``<model>`` is a model of the probe table or a unique prefix of one (``yi``). Deprecated spellings
still parse, with a `DeprecatedNameWarning` (a DeprecationWarning) naming the new one:
``llm:<model>`` -> ``llm-l:<model>``, ``llm-vote:<model>`` -> ``llm-v:<model>``.

A spec keeps the name as written (``name``): records, caches, run folders and committed results
stay keyed exactly as before; ``canonical`` is the current spelling of the same annotator.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Collection

from mollia.errors import DeprecatedNameWarning, UnknownNameError

RULES = ("logits", "vote")
SINGLE_PREFIX = {"logits": "llm-l", "vote": "llm-v"}
ENSEMBLE_PREFIX = {"logits": "llms-l", "vote": "llms-v"}
DEPRECATED_SINGLE_PREFIX = {"llm": "logits", "llm-vote": "vote"}
MODEL_SEPARATOR = "+"


@dataclass(frozen=True)
class AnnotatorSpec:
    """One parsed annotator name.

    kind: ``single`` (one LLM), ``ensemble`` (several LLMs), ``registered`` (a `registry.ANNOTATORS`
    name) or ``ground_truth``. rule: ``logits`` or ``vote`` for the LLM kinds, else None.
    models: the single LLM, or the ensemble's LLMs (empty: every LLM of the probe table).
    spelling: the prefix as written (``llm``, ``llm-vote``, ``llm-l``, ...), so ``with_models``
    keeps the caller's spelling.
    """

    name: str
    kind: str
    rule: str | None = None
    models: tuple[str, ...] = ()
    spelling: str = ""

    # -- parsing ---------------------------------------------------------------------------------
    @classmethod
    def parse(cls, name: str, *, ground_truth: Collection[str] = (), warn: bool = True) -> "AnnotatorSpec":
        """The spec of ``name``; ``UnknownNameError`` listing the valid forms for anything else.

        ``ground_truth``: names the caller treats as true labels (the AL loop's ``oracle``).
        ``warn``: emit a `DeprecatedNameWarning` for a superseded spelling (off where a name is read
        back from a record rather than written by a user).
        """
        if not isinstance(name, str) or not name.strip():
            raise UnknownNameError("annotator", repr(name), valid_forms(ground_truth))
        if name in ground_truth:
            return cls(name, "ground_truth")
        prefix, colon, rest = name.partition(":")
        if not colon:
            for rule, ensemble in ENSEMBLE_PREFIX.items():
                if name == ensemble:
                    return cls(name, "ensemble", rule, (), ensemble)
            if name in _registered_names():
                return cls(name, "registered")
            raise UnknownNameError("annotator", name, valid_forms(ground_truth))
        models = tuple(rest.split(MODEL_SEPARATOR))
        if any(not m.strip() for m in models):
            raise UnknownNameError("annotator", name, valid_forms(ground_truth))
        for rule, single in SINGLE_PREFIX.items():
            if prefix == single and len(models) == 1:
                return cls(name, "single", rule, models, prefix)
        for rule, ensemble in ENSEMBLE_PREFIX.items():
            if prefix == ensemble:
                return cls(name, "ensemble", rule, models, prefix)
        if prefix in DEPRECATED_SINGLE_PREFIX and len(models) == 1:
            spec = cls(name, "single", DEPRECATED_SINGLE_PREFIX[prefix], models, prefix)
            if warn:
                warnings.warn(f"annotator name {name!r} is deprecated: write {spec.canonical!r}",
                              DeprecatedNameWarning, stacklevel=2)
            return spec
        raise UnknownNameError("annotator", name, valid_forms(ground_truth))

    # -- derived ---------------------------------------------------------------------------------
    @property
    def canonical(self) -> str:
        """The current spelling (equal to ``name`` unless the name is deprecated)."""
        if self.kind == "single":
            return f"{SINGLE_PREFIX[self.rule]}:{self.models[0]}"
        if self.kind == "ensemble":
            base = ENSEMBLE_PREFIX[self.rule]
            return f"{base}:{MODEL_SEPARATOR.join(self.models)}" if self.models else base
        return self.name

    @property
    def deprecated(self) -> bool:
        return self.name != self.canonical

    @property
    def reads_llms_only(self) -> bool:
        """A zero-shot LLM baseline (a single LLM or an ensemble), what MoLAM is compared with."""
        return self.kind in ("single", "ensemble")

    @property
    def ground_truth(self) -> bool:
        return self.kind == "ground_truth"

    def with_models(self, models: tuple[str, ...]) -> "AnnotatorSpec":
        """The same annotator on other model names, in the spelling the name was written in."""
        if self.kind not in ("single", "ensemble"):
            raise ValueError(f"annotator {self.name!r} names no LLM")
        models = tuple(models)
        name = f"{self.spelling}:{MODEL_SEPARATOR.join(models)}" if models else self.spelling
        return replace(self, models=models, name=name)


def valid_forms(ground_truth: Collection[str] = ()) -> list[str]:
    """Every accepted form (the single LLM and ensemble forms as patterns)."""
    llm_forms = [f"{SINGLE_PREFIX[r]}:<model>" for r in RULES]
    llm_forms += [f"{ENSEMBLE_PREFIX[r]}[:<model>{MODEL_SEPARATOR}<model>...]" for r in RULES]
    return [*ground_truth, *llm_forms, *_registered_names()]


def _registered_names() -> list[str]:
    # imported here: the registry imports this module (it parses every name through it)
    from mollia.annotators.registry import ANNOTATORS

    return list(ANNOTATORS)
