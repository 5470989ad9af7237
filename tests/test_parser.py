"""The answer parser: hand-written cases for every rule, and the paper's real TREC generations."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mollia.errors import DataError
from mollia.probes.parser import (
    DATASET_SYNONYMS,
    INVALID,
    build_matcher,
    parse_answer,
    parse_answers,
    vote_shares,
)

TREC = ["abbreviation", "entity", "description", "human", "location", "numeric"]
AG = ["world", "sports", "business", "science/technology"]
BBC = ["business", "entertainment", "politics", "sport", "tech"]
SENT = ["negative", "positive"]
PUBMED = ["background", "conclusion", "method", "objective", "result"]


def lab(text, labels=TREC, **kw):
    k = parse_answer(text, labels, **kw)
    return None if k == INVALID else labels[k]


@pytest.mark.parametrize("text, expected", [
    # case, quotes, punctuation, whitespace
    ("location", "location"), ("Location", "location"), ("LOCATION", "location"), ("  location.\n", "location"),
    ('"numeric"', "numeric"), ("'human'", "human"), ("“Entity”", "entity"), ("description!", "description"),
    # markdown
    ("**Entity**", "entity"), ("`num`", "numeric"), ("# Human", "human"), ("- location", "location"),
    ("* **Description**", "description"), ("1. numeric", "numeric"), ("> abbreviation", "abbreviation"),
    # surrounding words and answer cues
    ("The answer is: Location.", "location"), ("Answer: human", "human"), ("Output:\nentity", "entity"),
    ("Category: numeric", "numeric"), ("I would say numeric.", "numeric"),
    ("The most appropriate category for the question \"Who is Zeus?\" is \"human\".", "human"),
    ("The question falls under the category of location.", "location"),
    ("Output: entity\n\nExplanation: the question asks about a thing, not a human.", "entity"),
    # plurals and abbreviations / synonyms
    ("entities", "entity"), ("locations", "location"), ("abbr", "abbreviation"), ("abbrev", "abbreviation"),
    ("acronym", "abbreviation"), ("num", "numeric"), ("number", "numeric"), ("desc", "description"),
    ("loc", "location"), ("hum", "human"), ("person", "human"), ("enty", "entity"), ("numerical value", "numeric"),
    # answer-only forms: TREC sub-categories and prefixes, as a whole answer
    ("date", "numeric"), ('"Date"', "numeric"), ("country", "location"), ("language", "entity"),
    ("color", "entity"), ("author", "human"), ("historical event", "entity"), ("speed (numeric)", "numeric"),
    ("abbrevia", "abbreviation"), ("numer", "numeric"),
    # the same label twice is still one label; parentheses explain
    ("human, human", "human"), ("human (implied)", "human"), ('"entity" (aesop\'s fable)', "entity"),
    # a label alone on its first line, then an explanation that names the same label
    ("numeric\n\njustification: it asks for a numerical position.", "numeric"),
    ('"numeric"\n\nexplanation:\nthe question can be answered with a number.', "numeric"),
])
def test_trec_answers(text, expected):
    assert lab(text) == expected


@pytest.mark.parametrize("text", [
    "", "   ", "\n", "I can't assist with that request.", "inappropriate", "brain", "name", "unknown",
    # the label list echoed back: never its first item
    "abbreviation, entity, description, human, location, numeric",
    "Abbreviation, Entity, Description, Human, Location, or Numeric",
    "- abbreviation\n- entity\n- description\n- human\n- location\n- numeric",
    # two different labels named -> INVALID, not a guess
    "human, entity", "human, entity, description", "location, human (implied)", "numeric & location",
    "numeric\nlocation", '"human"\n"numeric"', "entity or description", "Output: human, entity",
    "human, date (combined category)", '"historical event (or description)"',
    "It could be human or location.", "neither numeric nor location",
    # negated mentions count for nothing
    "not a location", "It is not human.",
])
def test_trec_invalid(text):
    assert parse_answer(text, TREC) == INVALID


def test_negation_drops_only_the_negated_label():
    assert lab("It is not a location but an entity") == "entity"
    assert lab("This isn't numeric; it is a description.") == "description"


@pytest.mark.parametrize("text, expected", [
    ("Sci/Tech", "science/technology"), ("science", "science/technology"), ("tech", "science/technology"),
    ("Technology", "science/technology"), ("Science and Technology", "science/technology"),
    ("science/technology", "science/technology"), ("World News", "world"), ("sport", "sports"),
    ("Sports", "sports"), ("**Business**", "business"), ("The topic is: world.", "world"),
])
def test_ag_news_synonyms(text, expected):
    assert lab(text, AG) == expected


def test_ag_news_two_topics_invalid():
    assert parse_answer("business and sports", AG) == INVALID
    assert parse_answer("world, sports, business, science/technology", AG) == INVALID


def test_synonym_never_steals_another_labels_name():
    # bbc_news has a label "tech": the ag_news synonyms of science/technology must not move it
    assert lab("tech", BBC) == "tech"
    assert lab("technology", BBC) == "tech"
    assert lab("sports", BBC) == "sport"
    assert lab("politics", BBC) == "politics"  # a synonym of ag_news's world, but bbc's own label here
    assert lab("politics", AG) == "world"


@pytest.mark.parametrize("text, expected", [
    ("Positive", "positive"), ("negative.", "negative"), ("pos", "positive"), ("NEG", "negative"),
    ("The sentiment is positive.", "positive"), ("Sentiment: **Negative**", "negative"),
    ("This review is negative", "negative"), ("fresh", "positive"), ("rotten", "negative"),
])
def test_sentiment(text, expected):
    assert lab(text, SENT) == expected


@pytest.mark.parametrize("text", ["not positive", "positive or negative", "neutral", "mixed"])
def test_sentiment_invalid(text):
    assert parse_answer(text, SENT) == INVALID


@pytest.mark.parametrize("text, expected", [
    ("Methods", "method"), ("results", "result"), ("Conclusions", "conclusion"), ("Objective", "objective"),
    ("background", "background"), ("aim", "objective"), ("findings", "result"),
])
def test_pubmed(text, expected):
    assert lab(text, PUBMED) == expected


def test_generic_labels_of_a_users_dataset():
    labels = ["bug report", "feature request", "question"]
    assert lab("Bug report", labels) == "bug report"
    assert lab("**Feature Request**.", labels) == "feature request"
    assert lab("The label is: question", labels) == "question"
    assert parse_answer("bug report, question", labels) == INVALID
    # user synonyms extend the built-in ones
    assert lab("crash", labels, synonyms={"bug report": ["crash", "defect"]}) == "bug report"
    assert lab("it is a defect", labels, synonyms={"bug report": "defect"}) == "bug report"


def test_compound_label_parts_are_synonyms():
    labels = ["arts/culture", "crime & law", "health"]
    assert lab("culture", labels) == "arts/culture"
    assert lab("law", labels) == "crime & law"


def test_use_defaults_false_is_strict():
    assert parse_answer("num", TREC, use_defaults=False) == INVALID
    assert parse_answer("date", TREC, use_defaults=False) == INVALID
    assert parse_answer('"Numeric"', TREC, use_defaults=False) == 5


def test_ambiguous_synonym_is_dropped():
    # "film" claimed by both labels names neither
    labels = ["movies", "books"]
    assert parse_answer("film", labels, synonyms={"movies": ["film"], "books": ["film"]}) == INVALID
    assert parse_answer("novel", labels, synonyms={"books": ["novel"]}) == 1


def test_bad_arguments():
    with pytest.raises(DataError):
        parse_answer("x", ["only"])
    with pytest.raises(DataError):
        parse_answer("x", ["a", "a"])
    with pytest.raises(DataError, match="unknown label"):
        parse_answer("x", TREC, synonyms={"nope": ["x"]})
    with pytest.raises(DataError):
        parse_answer("x", TREC, synonyms=["num"])
    assert parse_answer(None, TREC) == INVALID


def test_parse_answers_and_vote_shares():
    texts = ["human", "Human.", "human, entity", "date", "n/a"]
    out = parse_answers(texts, TREC)
    assert out.dtype == np.int64 and out.tolist() == [3, 3, -1, 5, -1]
    c = vote_shares(out.reshape(1, 5), len(TREC))
    assert c.shape == (1, 6)
    assert np.allclose(c[0], [0, 0, 0, 0.4, 0, 0.2]) and c.sum() <= 1


def test_dataset_synonym_tables_cover_their_labels():
    assert set(DATASET_SYNONYMS["trec"]) == set(TREC)
    assert set(DATASET_SYNONYMS["ag_news"]) == set(AG)
    for table in DATASET_SYNONYMS.values():
        for forms in table.values():
            assert all(isinstance(f, str) and f for f in forms)


def test_matcher_is_compiled_once():
    assert build_matcher(tuple(TREC)) is build_matcher(tuple(TREC))


# --- the paper's real generations ---------------------------------------------------------

MODELS = ("gemma", "llama", "mistral", "qwen", "yi")
# measured share of the 54,520 generations per model that parse to a label (docs/parser_report.md);
# the floors guard against regressions
PARSED_FLOOR = {"gemma": 0.999, "llama": 0.999, "mistral": 0.895, "qwen": 0.998, "yi": 0.999}


@pytest.fixture(scope="module")
def real(paper_dir):
    x = np.load(paper_dir / "probes" / "trec_meta_x.npy")
    rows = {m: [json.loads(line) for line in open(paper_dir / "raw" / f"trec_{m}.json")] for m in MODELS}
    return x, rows


@pytest.mark.parametrize("i, model", list(enumerate(MODELS)))
def test_real_generations(real, i, model):
    x, rows = real
    rows = rows[model]
    assert len(rows) == len(x)
    # the raw files are in meta_x row order: same z, row by row
    z = np.array([r["llm_logits"] for r in rows])
    np.testing.assert_array_equal(z, x[:, 2 * i])
    gens = [g for r in rows for g in r["llm_label"]]
    parsed = parse_answers(gens, TREC).reshape(len(rows), 10)
    assert (parsed >= 0).mean() >= PARSED_FLOOR[model]
    # every generation the authors kept (an exact label name) parses to that same label ...
    exact = np.array([TREC.index(g) if g in TREC else INVALID for g in gens]).reshape(len(rows), 10)
    kept = exact >= 0
    np.testing.assert_array_equal(parsed[kept], exact[kept])
    # ... so our vote shares are theirs plus the votes recovered from what their parser dropped
    c_ours, c_theirs = vote_shares(parsed, 6), x[:, 2 * i + 1]
    np.testing.assert_allclose(vote_shares(exact, 6), c_theirs, atol=1e-12)
    assert (c_ours >= c_theirs - 1e-12).all()
    assert (c_ours.sum(1) <= 1 + 1e-12).all()


def test_real_mistral_label_lists_are_invalid(real):
    _, rows = real
    gens = [g for r in rows["mistral"] for g in r["llm_label"]]
    lists = [g for g in gens if g in ("human, entity", "human, entity, description", "location, human (implied)")]
    assert len(lists) > 1000
    assert (parse_answers(lists, TREC) == INVALID).all()


@pytest.mark.parametrize("text, expected", [
    # what tiny models emit within max_new_tokens = 8
    (" human\n\n- Goal -\nClassify", "human"),
    ("Entity\n\nExplanation:", "entity"),
    ("Location\n###", "location"),
    ("Category: Human\nQuestion: Who", "human"),
    ("Answer: Entity (the question asks for a thing, not a location)", "entity"),
    ("Answer: Human. The question asks about a person, not a location or entity.", "human"),
    ("abbreviation, entity, description, human, location, numeric\n\nhuman", "human"),
    ("The question is about a location, so the answer is human", "human"),
])
def test_small_model_style_answers(text, expected):
    assert lab(text) == expected


@pytest.mark.parametrize("text", ["The answer is", "Output:", "###", "Question: Who wrote Hamlet ?", "- Goal -"])
def test_truncated_or_echoed_prompt_is_invalid(text):
    assert parse_answer(text, TREC) == INVALID


def test_unicode_label_names():
    fr = ["négatif", "positif"]
    assert parse_answer("Négatif", fr) == 0
    assert parse_answer("Réponse : **positif**", fr) == 1
    assert parse_answer("négatif ou positif", fr) == INVALID


@pytest.mark.parametrize("text", ['The most appropriate answer would be "When', "Who", "where", "How many"])
def test_question_words_are_not_answers(text):
    # seen from SmolLM2-135M: it starts echoing the question instead of answering
    assert parse_answer(text, TREC) == INVALID
