"""Map an LLM's free-text answer to a label index, or `INVALID` (-1): the parse behind c (Eq. 2-3).

The rule, in order (all matching is on lower-cased word tokens, so case, quotes, punctuation and
markdown such as ``**bold**``, ```code```, ``# headings`` and ``- bullets`` never matter):

1. **Whole answer.** If the whole answer is one *form* of one label, that label. A label's forms
   are its name (and plural), its *synonyms* (say "sci/tech", "science" or "tech" for
   science/technology, "num" or "number" for numeric), and *answer-only forms*: words that name a
   label only when they are the entire answer or an entire list item (TREC sub-categories such as
   "date" -> numeric, "country" -> location; an unambiguous prefix of >= 3 letters of a
   one-word label name, "abbr" -> abbreviation).
2. **Answer cue.** If the answer holds a cue ("output:", "answer:", "the answer is", "label:",
   "the category for the question "..." is", "the response is", "falls under"), only the text after
   the *last* cue is read: its first sentence if that names any label, else all of it, else (it
   names none) the whole answer. "The answer is: **Location**." -> location; an echoed prompt that
   ends "Output: entity" -> entity.
3. **Bare lines.** Lines that are exactly a label's name or synonym (a label alone on its line,
   e.g. "numeric" followed by a line of explanation) decide, when they all name the same label; if
   they name different labels ("numeric\nlocation") the answer is INVALID.
4. **Mentions.** Otherwise the labels named are every mention of a name or synonym anywhere in
   the text (a mention right after a negation such as "not"/"nor" is dropped), plus every list item
   (split at , ; & "and" "or", outside parentheses) that is a whole form: "human, date" names
   human and numeric. Exactly one label named -> that label ("human (implied)" -> human); none, or
   two or more ("human, entity", the label list echoed back) -> INVALID. Never the first of
   several: the parser does not guess.

Synonym tables: `LABEL_SYNONYMS` / `LABEL_ANSWER_FORMS` are keyed by label *name*, so they serve
every dataset that uses that name; `DATASET_SYNONYMS` groups them per dataset. For any label set,
compound names also yield their parts ("science/technology" -> "science", "technology"). A form
claimed by two labels of the same set, or equal to another label's name, is dropped (e.g. "tech"
stays with bbc_news's label "tech" and never points to another label). Callers add their own
synonyms with ``synonyms={label_name: [forms...]}`` and may switch the built-in tables off.

The authors' original parser counted a generation only when it equalled a label name exactly
(after lower-casing); every such generation parses to the same label here (see
docs/parser_report.md for what this parser recovers beyond that on the released TREC generations).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping, Sequence

import numpy as np

from mollia.errors import DataError

INVALID = -1

# label name -> forms that name the label anywhere in an answer
LABEL_SYNONYMS: dict[str, tuple[str, ...]] = {
    # trec (coarse classes of Li & Roth's taxonomy, with their dataset codes)
    "abbreviation": ("abbr", "abbrev", "abbreviated", "acronym"),
    "entity": ("enty", "ent"),
    "description": ("desc", "descriptive"),
    "human": ("hum", "person", "human being"),
    "location": ("loc",),
    "numeric": ("num", "number", "numerical", "numeric value", "numerical value", "quantity"),
    # ag_news
    "world": ("world news", "politics"),
    "sports": ("sport",),
    "business": ("business news",),
    "science/technology": ("sci/tech", "sci tech", "scitech", "science and technology",
                           "science & technology", "science", "technology", "tech"),
    # imdb / rotten_tomatoes
    "negative": ("neg", "negative sentiment"),
    "positive": ("pos", "positive sentiment"),
    # bbc_news
    "entertainment": ("showbiz",),
    "sport": ("sports",),
    "tech": ("technology", "sci/tech", "science/technology"),
    # pubmed-20k-rct
    "background": ("bg",),
    "conclusion": ("conclusions",),
    "method": ("methods", "methodology"),
    "objective": ("objectives",),
    "result": ("results",),
}

# label name -> forms that name the label only as the entire answer (sub-categories of TREC's
# fine taxonomy, which models often answer with; too common as plain words to count elsewhere).
# Question words ("who", "when", "where") are deliberately absent: a model that starts echoing
# the question ('The answer would be "When') has not answered.
LABEL_ANSWER_FORMS: dict[str, tuple[str, ...]] = {
    "abbreviation": ("expansion", "abbreviation expansion"),
    "entity": ("animal", "body", "body part", "color", "colour", "creative", "creative work", "disease",
               "medicine", "event", "historical event", "food", "instrument", "language", "letter", "plant",
               "product", "religion", "sport", "substance", "symbol", "technique", "term", "vehicle", "word", "thing",
               "object", "currency", "book", "film", "movie", "song", "album", "invention"),
    "description": ("definition", "manner", "reason", "meaning"),
    "human": ("people", "individual", "group", "title", "organization", "organisation", "author", "historical figure",
              "character"),
    "location": ("place", "city", "country", "state", "mountain", "place name", "geography", "continent"),
    "numeric": ("date", "year", "time", "count", "money", "price", "cost", "salary", "distance", "speed",
                "temperature", "percent", "percentage", "size", "weight", "height", "length", "period",
                "duration", "age", "amount", "code", "order", "number value"),
    # ag_news
    "world": ("international", "global", "world affairs"),
    "business": ("economy", "finance", "economics"),
    # imdb / rotten_tomatoes
    "negative": ("rotten", "bad", "unfavorable", "unfavourable"),
    "positive": ("fresh", "good", "favorable", "favourable"),
    # pubmed-20k-rct
    "background": ("introduction", "context"),
    "method": ("design", "study design", "materials and methods"),
    "objective": ("aim", "aims", "purpose", "goal", "objective of the study"),
    "result": ("finding", "findings", "outcome", "outcomes"),
    "conclusion": ("discussion", "summary"),
}

DATASET_LABELS: dict[str, tuple[str, ...]] = {
    "trec": ("abbreviation", "entity", "description", "human", "location", "numeric"),
    "ag_news": ("world", "sports", "business", "science/technology"),
    "imdb": ("negative", "positive"),
    "rotten_tomatoes": ("negative", "positive"),
    "bbc_news": ("business", "entertainment", "politics", "sport", "tech"),
    "pubmed-20k-rct": ("background", "conclusion", "method", "objective", "result"),
}

# per-dataset view of the tables above: {dataset: {label: (synonyms...)}}
DATASET_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    ds: {label: LABEL_SYNONYMS.get(label, ()) for label in labels} for ds, labels in DATASET_LABELS.items()
}

_NEGATIONS = frozenset({"not", "no", "non", "neither", "nor", "never", "without"})
_ARTICLES = frozenset({"a", "an", "the"})
# what introduces the answer: "output:", "answer is", "the category for the question "..." is",
# "the response is", "falls under the category"; a quoted span may sit between noun and verb, a
# sentence end may not
_CUE_RE = re.compile(
    r"\b(?:output|answer|category|label|classification|class|sentiment|topic|prediction)\b"
    r"(?:\s+(?:for|of)\b(?:\"[^\"\n]*\"|[^\".\n]){0,200}?)?"
    r"\s*(?:\bis\b|\bwould\s+be\b|\bshould\s+be\b|=|:|\s-\s)"
    r"|\bresponse\s*(?:\bis\b|:)"
    r"|\b(?:falls|belongs)\s+(?:in|into|under|to)\b(?:\s+the)?(?:\s+category)?"
)
_FIRST_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|\n")
_BRACKETED_RE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_SEGMENT_RE = re.compile(r"[,;&|\n]|\band\b|\bor\b")
_LIST_MARK_RE = re.compile(r"^\s*(?:[-*+\u2022>]+|\d+[.)])\s+")
_TOKEN_RE = re.compile(r"[^\W_]+")


def _tokens(text: str) -> tuple[str, ...]:
    text = text.lower().replace("n't", " not").replace("\u2019", "'")
    return tuple(_TOKEN_RE.findall(text))


def _plural_variants(form: tuple[str, ...]) -> set[tuple[str, ...]]:
    """The form and the plural of its last word (entity -> entities, location -> locations)."""
    last = form[-1]
    plurals = {last + "s", last + "es"}
    if last.endswith("y"):
        plurals.add(last[:-1] + "ies")
    return {form} | {form[:-1] + (p,) for p in plurals if not last.endswith("s") or p == last + "es"}


def _negated(tokens: tuple[str, ...], i: int) -> bool:
    """Whether the word before position ``i`` (skipping articles) is a negation: "not a location"."""
    j = i - 1
    while j >= 0 and tokens[j] in _ARTICLES:
        j -= 1
    return j >= 0 and tokens[j] in _NEGATIONS


@dataclass(frozen=True)
class _Matcher:
    label_names: tuple[str, ...]
    mention_forms: dict[tuple[str, ...], int]  # token sequence -> label index
    answer_forms: dict[tuple[str, ...], int]   # includes mention_forms
    max_len: int

    def whole(self, tokens: tuple[str, ...]) -> int:
        return self.answer_forms.get(tokens, INVALID) if tokens else INVALID

    def mentions(self, tokens: tuple[str, ...]) -> set[int]:
        """Distinct labels mentioned (longest form first at each position; negated ones dropped)."""
        found: set[int] = set()
        i, n = 0, len(tokens)
        while i < n:
            for length in range(min(self.max_len, n - i), 0, -1):
                label = self.mention_forms.get(tokens[i:i + length])
                if label is not None:
                    if not _negated(tokens, i):
                        found.add(label)
                    i += length
                    break
            else:
                i += 1
        return found

    def parse(self, text: str) -> int:
        if not isinstance(text, str):
            return INVALID
        label = self.whole(_tokens(text))
        if label != INVALID:
            return label
        cues = list(_CUE_RE.finditer(text.lower()))
        if cues:
            tail = text[cues[-1].end():].strip()
            first = _FIRST_SENTENCE_RE.split(tail, maxsplit=1)[0]
            for part in (first, tail):
                found = self.labels_named(part)
                if found:
                    return found.pop() if len(found) == 1 else INVALID
        found = self.labels_named(text)
        return found.pop() if len(found) == 1 else INVALID

    def labels_named(self, text: str) -> set[int]:
        """Rules 3-4: labels of bare lines if any; else mentions, plus list items that are an
        answer-only form ("human, date" names human and numeric)."""
        bare = set()
        for line in text.splitlines():
            line = _LIST_MARK_RE.sub("", line).strip()
            label = self.mention_forms.get(_tokens(line)) if not line.endswith(":") else None
            if label is not None:
                bare.add(label)
        if bare:
            return bare
        found = self.mentions(_tokens(text))
        for segment in _SEGMENT_RE.split(_BRACKETED_RE.sub(" ", text.lower())):
            label = self.whole(_tokens(_LIST_MARK_RE.sub("", segment)))
            if label != INVALID:
                found.add(label)
        return found


def _freeze(synonyms: Mapping[str, Iterable[str]] | None) -> tuple:
    if synonyms is None:
        return ()
    if not isinstance(synonyms, Mapping):
        raise DataError(f"synonyms must map a label name to a list of forms, got {type(synonyms).__name__}")
    frozen = []
    for label, forms in synonyms.items():
        if isinstance(forms, str):
            forms = (forms,)
        frozen.append((str(label), tuple(str(f) for f in forms)))
    return tuple(sorted(frozen))


def _prefixes(name: str) -> set[tuple[str, ...]]:
    toks = _tokens(name)
    if len(toks) != 1:
        return set()
    word = toks[0]
    return {(word[:k],) for k in range(3, len(word))}


@lru_cache(maxsize=256)
def build_matcher(label_names: tuple[str, ...], extra: tuple = (), use_defaults: bool = True) -> _Matcher:
    """Compile the forms of a label set (cached: parsing many answers compiles once)."""
    if len(label_names) < 2 or len(set(label_names)) != len(label_names):
        raise DataError(f"need >= 2 distinct label names, got {list(label_names)}")
    names = {_tokens(n): k for k, n in enumerate(label_names)}
    if any(len(t) == 0 for t in names) or len(names) != len(label_names):
        raise DataError(f"label names must hold letters or digits and differ as words: {list(label_names)}")
    unknown = [lab for lab, _ in extra if lab not in label_names]
    if unknown:
        raise DataError(f"synonyms for unknown label(s) {unknown}; labels are {list(label_names)}")
    extra_by_label = dict(extra)

    def collect(tier: str) -> dict[tuple[str, ...], int]:
        claims: dict[tuple[str, ...], set[int]] = {}
        for k, name in enumerate(label_names):
            forms: set[tuple[str, ...]] = set()
            if tier == "mention":
                forms |= _plural_variants(_tokens(name))
                parts = [p for p in re.split(r"\s*(?:/|&|\band\b|\bor\b|,)\s*", name.lower()) if p.strip()]
                if len(parts) > 1:
                    forms |= {_tokens(p) for p in parts}
                if use_defaults:
                    forms |= {_tokens(s) for s in LABEL_SYNONYMS.get(name.lower(), ())}
                forms |= {_tokens(s) for s in extra_by_label.get(name, ())}
            elif use_defaults:
                forms |= {_tokens(s) for s in LABEL_ANSWER_FORMS.get(name.lower(), ())}
                forms |= _prefixes(name)
            for form in forms:
                if form:
                    claims.setdefault(form, set()).add(k)
        # a form two labels claim, or another label's own name, names nobody
        return {f: ks.pop() for f, ks in claims.items() if len(ks) == 1 and names.get(f, next(iter(ks))) in ks}

    mention = collect("mention")
    mention.update(names)  # a label's own name always wins
    answer = {f: k for f, k in collect("answer").items() if f not in mention}
    answer.update(mention)
    return _Matcher(tuple(label_names), mention, answer, max(len(f) for f in mention))


def parse_answer(text: str, label_names: Sequence[str], synonyms: Mapping[str, Iterable[str]] | None = None,
                 *, use_defaults: bool = True) -> int:
    """Index into ``label_names`` of the label ``text`` names, or `INVALID` (-1); see the module doc."""
    matcher = build_matcher(tuple(str(n) for n in label_names), _freeze(synonyms), use_defaults)
    return matcher.parse(text)


def parse_answers(texts: Iterable[str], label_names: Sequence[str],
                  synonyms: Mapping[str, Iterable[str]] | None = None, *, use_defaults: bool = True) -> np.ndarray:
    """`parse_answer` over many texts (compiles once, parses each distinct text once): int64 array."""
    matcher = build_matcher(tuple(str(n) for n in label_names), _freeze(synonyms), use_defaults)
    memo: dict[str, int] = {}
    out = []
    for t in texts:
        if t not in memo:
            memo[t] = matcher.parse(t)
        out.append(memo[t])
    return np.asarray(out, dtype=np.int64)


def vote_shares(answers: np.ndarray, n_labels: int) -> np.ndarray:
    """c (Eq. 3) from parsed answers of shape (..., T): share of the T samples naming each label;
    INVALID samples count for nothing, so a row sums to at most 1."""
    answers = np.asarray(answers)
    T = answers.shape[-1]
    onehot = (answers[..., None] == np.arange(n_labels)).astype(np.float64)
    return onehot.sum(axis=-2) / T
