"""Prompts: the paper's per-dataset templates, overrides, chat rendering, hashing, validation."""

from __future__ import annotations

import pytest
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import Whitespace
from transformers import PreTrainedTokenizerFast

from mollia.errors import DataError
from mollia.probes.prompts import (
    DATASET_TEMPLATES,
    GENERIC_TEMPLATE,
    prompt_hash,
    render_prompt,
    template_for,
    user_prompt,
)

TREC = ["abbreviation", "entity", "description", "human", "location", "numeric"]
AG = ["world", "sports", "business", "science/technology"]


@pytest.mark.parametrize(
    "dataset, field",
    [("ag_news", "Article"), ("bbc_news", "Article"), ("imdb", "Review"), ("rotten_tomatoes", "Review"),
     ("trec", "Question"), ("pubmed-20k-rct", "Sentence")],
)
def test_paper_layout_per_dataset(dataset, field):
    prompt = user_prompt(dataset, TREC, "Who wrote Hamlet ?")
    lines = prompt.splitlines()
    assert lines[0] == "- Goal -"
    assert lines[1].startswith("Classify the ")
    assert any(l.startswith("Task: Determine") and "with no additional text or explanation." in l for l in lines)
    delims = [i for i, l in enumerate(lines) if set(l) == {"#"}]
    assert len(delims) == 2 and delims[1] == delims[0] + 2
    assert lines[delims[0] + 1] == f"{field}: Who wrote Hamlet ?"
    assert lines[-1] == "Output:"
    # the labels appear in order, twice (goal and task)
    assert prompt.count("abbreviation, entity, description, human, location, numeric") == 2


def test_trec_prompt_exact():
    expected = (
        "- Goal -\n"
        "Classify the given question based on the following categories: "
        "abbreviation, entity, description, human, location, numeric\n\n"
        "Task: Determine the most appropriate category for the question, i.e. the type of answer it asks for. "
        "Your response should only be one of these labels: abbreviation, entity, description, human, location, "
        "numeric, with no additional text or explanation.\n\n"
        "########################\nQuestion: How far is it from Denver to Aspen ?\n########################\n\n"
        "Output:"
    )
    assert user_prompt("trec", TREC, "How far is it from Denver to Aspen ?") == expected


def test_generic_template_for_unknown_dataset():
    assert template_for("my_tickets") == GENERIC_TEMPLATE
    prompt = user_prompt("my_tickets", ["bug", "feature"], "App crashes on start")
    assert "Text: App crashes on start" in prompt
    assert "bug, feature" in prompt


def test_template_for_accepts_a_dataset_object():
    class Named:
        name = "trec"

    assert template_for(Named()) == DATASET_TEMPLATES["trec"]
    with pytest.raises(DataError):
        template_for(None)


def test_override_template_and_literal_substitution():
    tpl = "Pick one of {labels}.\nText: {text}\nAnswer:"
    out = user_prompt("ag_news", AG, "Price of {gold} rises; see {labels}", template=tpl)
    # substituted once: braces inside the text stay as they are
    assert out == ("Pick one of world, sports, business, science/technology.\n"
                   "Text: Price of {gold} rises; see {labels}\nAnswer:")
    # a template without {labels} is fine (labels written by hand)
    assert user_prompt("x", AG, "t", template="Q: {text}") == "Q: t"


@pytest.mark.parametrize("text", ["", "   ", None, 3])
def test_empty_or_non_string_text_is_a_data_error(text):
    with pytest.raises(DataError, match="empty"):
        user_prompt("trec", TREC, text)


def test_template_without_text_placeholder_is_a_data_error():
    with pytest.raises(DataError, match=r"\{text\}"):
        user_prompt("trec", TREC, "q", template="Classify into {labels}")
    with pytest.raises(DataError, match=r"\{text\}"):
        prompt_hash("no placeholder")


@pytest.mark.parametrize("labels", [[], ["only"], ["a", "a"], ["a", " "]])
def test_bad_label_lists(labels):
    with pytest.raises(DataError):
        user_prompt("trec", labels, "q")


def test_prompt_hash_stable_short_and_sensitive():
    h = prompt_hash(DATASET_TEMPLATES["trec"])
    assert len(h) == 12 and int(h, 16) >= 0
    assert h == prompt_hash(str(DATASET_TEMPLATES["trec"]))
    assert h != prompt_hash(DATASET_TEMPLATES["trec"] + " ")
    assert len({prompt_hash(t) for t in set(DATASET_TEMPLATES.values())}) == len(set(DATASET_TEMPLATES.values()))
    # pinned: a change to the template wording must be deliberate (it invalidates probe caches)
    import hashlib
    assert h == hashlib.sha256(DATASET_TEMPLATES["trec"].encode()).hexdigest()[:12]


def _tokenizer(chat_template=None):
    vocab = {"[UNK]": 0, "<s>": 1, "</s>": 2}
    tok = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", bos_token="<s>", eos_token="</s>")
    if chat_template is not None:
        fast.chat_template = chat_template
    return fast


CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def test_render_prompt_through_chat_template():
    tok = _tokenizer(CHATML)
    user = user_prompt("trec", TREC, "Who is Zebulon Pike ?")
    rendered = render_prompt(tok, user)
    assert rendered == f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"


def test_render_prompt_plain_for_base_model():
    tok = _tokenizer(None)
    assert tok.chat_template is None
    user = user_prompt("trec", TREC, "Who is Zebulon Pike ?")
    assert render_prompt(tok, user) == user


def test_render_prompt_rejects_empty():
    with pytest.raises(DataError):
        render_prompt(_tokenizer(CHATML), " ")
