"""The study's named AL configurations: Table 4's ablation variants and the sensitivity sweeps.

Notebooks 04 and 05 run one configuration each (the grid sweeps them); the report groups runs by
the same names, read back from each run's recorded parameters.
"""

from __future__ import annotations

from typing import Any

from mollia.errors import UnknownNameError
from mollia.study.paper import TABLE4

# Table 4: MoLAM always on; (negative learning, annotation discrepancy)
ABLATION_VARIANTS: dict[str, tuple[bool, bool]] = dict(TABLE4)
ABLATION_LABELS = {"A": "A: NL + AD", "B": "B: NL only", "C": "C: AD only", "D": "D: neither"}


def ablation_switches(variant: str) -> dict[str, bool]:
    """``{"negative_learning", "discrepancy"}`` of a Table 4 variant (A-D)."""
    key = str(variant).upper()
    if key not in ABLATION_VARIANTS:
        raise UnknownNameError("ablation variant", variant, ABLATION_VARIANTS)
    nl, ad = ABLATION_VARIANTS[key]
    return {"negative_learning": nl, "discrepancy": ad}


def variant_of(params: dict[str, Any]) -> str:
    """The Table 4 variant letter of a run's parameters."""
    pair = (bool(params.get("negative_learning", True)), bool(params.get("discrepancy", True)))
    return next(k for k, v in ABLATION_VARIANTS.items() if v == pair)


def al_config(**params: Any):
    """An `ALConfig` from notebook parameters (``probes=""``, ``pool_size=0`` mean none)."""
    from mollia.al.config import ALConfig

    return ALConfig.from_notebook(**params)
