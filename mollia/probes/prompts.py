"""Prompts for zero-shot LLM classification (the paper's "Prompt design" appendix).

Every dataset gets one user turn laid out as the authors' prompts are::

    - Goal -
    Classify the given <thing> based on the following <categories>: {labels}

    Task: Determine the most appropriate <category> for the <thing>. Your response should only be
    one of these labels: {labels}, with no additional text or explanation.

    ######
    <Field>: {text}
    ######

    Output:

with ``<Field>`` = ``Article`` (ag_news, bbc_news), ``Review`` (imdb, rotten_tomatoes),
``Question`` (trec) and ``Sentence`` (pubmed-20k-rct). Any other dataset gets `GENERIC_TEMPLATE`,
built the same way from its label names. A template is a plain string with two placeholders,
``{labels}`` (the label names joined by ", ", in the dataset's label order) and ``{text}``;
callers may pass their own. Placeholders are substituted literally (not ``str.format``), so
braces in a text or a template are safe.

The user turn goes through the model's chat template when its tokenizer has one
(`render_prompt`); a base model without a template sees the plain text, whose final
``Output:`` invites the label as a continuation.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Sequence

from mollia.errors import DataError

LABELS_PLACEHOLDER = "{labels}"
TEXT_PLACEHOLDER = "{text}"
_DELIMITER = "#" * 24


def _template(goal: str, task: str, field: str) -> str:
    return (
        "- Goal -\n"
        f"{goal}\n\n"
        f"Task: {task} Your response should only be one of these labels: {{labels}}, "
        "with no additional text or explanation.\n\n"
        f"{_DELIMITER}\n{field}: {{text}}\n{_DELIMITER}\n\n"
        "Output:"
    )


_NEWS = _template(
    "Classify the given news article based on the following topics: {labels}",
    "Determine the most appropriate topic for the article.",
    "Article",
)
_REVIEW = _template(
    "Classify the sentiment of the given movie review based on the following categories: {labels}",
    "Determine the sentiment expressed by the review.",
    "Review",
)

DATASET_TEMPLATES: dict[str, str] = {
    "ag_news": _NEWS,
    "bbc_news": _NEWS,  # offline stand-in for AG News
    "imdb": _REVIEW,
    "rotten_tomatoes": _REVIEW,  # offline stand-in for IMDB
    "trec": _template(
        "Classify the given question based on the following categories: {labels}",
        "Determine the most appropriate category for the question, i.e. the type of answer it asks for.",
        "Question",
    ),
    "pubmed-20k-rct": _template(
        "Classify the given sentence from the abstract of a medical paper based on the following "
        "rhetorical roles: {labels}",
        "Determine the most appropriate role of the sentence in the abstract.",
        "Sentence",
    ),
}

GENERIC_TEMPLATE = _template(
    "Classify the given text based on the following categories: {labels}",
    "Determine the most appropriate category for the text.",
    "Text",
)

_PLACEHOLDER_RE = re.compile(r"\{(labels|text)\}")


def _dataset_name(dataset: Any) -> str:
    """Accept a dataset name or anything with a ``name`` (e.g. a `Dataset`)."""
    name = dataset if isinstance(dataset, str) else getattr(dataset, "name", None)
    if not isinstance(name, str) or not name:
        raise DataError(f"expected a dataset name, got {dataset!r}")
    return name


def template_for(dataset: Any) -> str:
    """The prompt template of ``dataset`` (a name or a `Dataset`); `GENERIC_TEMPLATE` when unknown."""
    return DATASET_TEMPLATES.get(_dataset_name(dataset), GENERIC_TEMPLATE)


def validate_template(template: str) -> str:
    """Check that ``template`` is a string holding ``{text}``; return it."""
    if not isinstance(template, str) or not template.strip():
        raise DataError(f"prompt template must be a non-empty string, got {template!r}")
    if TEXT_PLACEHOLDER not in template:
        raise DataError(f"prompt template has no {TEXT_PLACEHOLDER} placeholder: {template[:80]!r}")
    return template


def format_labels(label_names: Sequence[str]) -> str:
    """Label names as they appear in a prompt: in order, joined by ", "."""
    names = [str(n) for n in label_names] if label_names is not None else []
    if len(names) < 2 or any(not n.strip() for n in names):
        raise DataError(f"a prompt needs >= 2 non-empty label names, got {label_names!r}")
    if len(set(names)) != len(names):
        raise DataError(f"duplicate label names in {names}")
    return ", ".join(names)


def fill_template(template: str, label_names: Sequence[str], text: str) -> str:
    """Substitute ``{labels}`` and ``{text}`` in one pass (a text holding "{labels}" stays as is)."""
    validate_template(template)
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"cannot prompt with an empty or non-string text: {text!r}")
    values = {"labels": format_labels(label_names), "text": text.strip()}
    return _PLACEHOLDER_RE.sub(lambda m: values[m.group(1)], template)


def user_prompt(dataset: Any, label_names: Sequence[str], text: str, template: str | None = None) -> str:
    """The user turn asking for ``text``'s label: ``template`` if given, else `template_for(dataset)`."""
    return fill_template(template if template is not None else template_for(dataset), label_names, text)


def has_chat_template(tokenizer: Any) -> bool:
    return getattr(tokenizer, "chat_template", None) is not None


def render_prompt(tokenizer: Any, user_text: str) -> str:
    """``user_text`` as the model should see it: one user turn through the tokenizer's chat template
    with the generation prompt appended (instruct models), or the plain text (base models).

    The result is a string: tokenize it with ``add_special_tokens=False`` when it came from a chat
    template (the template already holds BOS where the model wants one).
    """
    if not isinstance(user_text, str) or not user_text.strip():
        raise DataError(f"cannot render an empty prompt: {user_text!r}")
    if not has_chat_template(tokenizer):
        return user_text
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": user_text}], tokenize=False, add_generation_prompt=True
    )
    if not isinstance(rendered, str):  # some tokenizers return a list for batched input
        raise DataError(f"chat template of {type(tokenizer).__name__} returned {type(rendered).__name__}, not str")
    return rendered


def prompt_hash(template: str) -> str:
    """Stable short id of a template (first 12 hex digits of its UTF-8 sha256), for cache keys."""
    validate_template(template)
    return hashlib.sha256(template.encode("utf-8")).hexdigest()[:12]
