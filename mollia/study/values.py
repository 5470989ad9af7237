"""What a grid's values must name: checked by `mollia grid --dry-run` (and before any real run), so
``strategy: corset`` fails at planning with the known names rather than inside a cell's log.

A parameter is checked by its name, whatever the notebook: ``dataset`` (a built-in name, one added
with ``mollia data add``, or a file), ``strategy``, ``annotator`` (+ ``baselines``), ``backbone``
(``head:`` / ``finetune:`` + a registered encoder), ``models`` (registered causal LMs), ``methods``
(comma-separated annotator names), ``variant`` (Table 4's A-D), ``label_loss``, ``human_route``.
"""

from __future__ import annotations

from typing import Any, Callable

from mollia.errors import MolliaError


def _dataset(value: Any) -> None:
    from mollia.data.registry import REGISTRY
    from mollia.data.user_registry import is_user_dataset, looks_like_path, user_dataset_names
    from mollia.errors import UnknownNameError

    if not (value in REGISTRY or is_user_dataset(value) or looks_like_path(value)):
        raise UnknownNameError("dataset", value, [*REGISTRY, *user_dataset_names()])


def _strategy(value: Any) -> None:
    from mollia.al.strategies import available_strategies
    from mollia.errors import UnknownNameError

    if value not in available_strategies():
        raise UnknownNameError("strategy", value, available_strategies())


def _annotator(value: Any) -> None:
    from mollia.al.config import GROUND_TRUTH_ANNOTATORS
    from mollia.annotators.spec import AnnotatorSpec

    AnnotatorSpec.parse(value, ground_truth=GROUND_TRUTH_ANNOTATORS)


def _backbone(value: Any) -> None:
    from mollia.al.config import BACKBONE_KINDS
    from mollia.models.registry import get, names

    kind, _, encoder = str(value).partition(":")
    if kind not in BACKBONE_KINDS or not encoder:
        raise MolliaError(f"backbone must be 'head:<encoder>' or 'finetune:<encoder>', got {value!r}")
    if get(encoder).kind != "encoder":
        raise MolliaError(f"backbone {value!r}: {encoder!r} is not an encoder; encoders: {', '.join(names('encoder'))}")


def _models(value: Any) -> None:
    from mollia.models.registry import get, names

    for name in [value] if isinstance(value, str) else list(value):
        if get(name).kind != "causal":
            raise MolliaError(f"model {name!r} is not a causal LM; causal LMs: {', '.join(names('causal'))}")


def _methods(value: Any) -> None:
    from mollia.annotators.spec import AnnotatorSpec

    for name in [m.strip() for m in str(value).split(",") if m.strip()]:
        AnnotatorSpec.parse(name)


def _each(check: Callable[[Any], None]) -> Callable[[Any], None]:
    return lambda value: [check(v) for v in ([value] if isinstance(value, str) else list(value))]


def _choice(*known: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if value not in known:
            raise MolliaError(f"{value!r} is not one of {', '.join(known)}")

    return check


CHECKS: dict[str, Callable[[Any], None]] = {
    "dataset": _dataset,
    "strategy": _strategy,
    "annotator": _annotator,
    "baselines": _each(_annotator),
    "backbone": _backbone,
    "models": _models,
    "methods": _methods,
    "variant": _choice("A", "B", "C", "D"),
    "label_loss": _choice("ce", "soft", "gce", "sce", "bootstrap"),
    "human_route": _choice("discrepancy", "disagreement", "confidence"),
}


def value_problem(name: str, value: Any) -> str | None:
    """Why ``value`` is not a valid ``name`` (None when it is, or when ``name`` is not checked here)."""
    check = CHECKS.get(name)
    if check is None:
        return None
    try:
        check(value)
    except MolliaError as exc:
        return str(exc)
    return None
