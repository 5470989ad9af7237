"""The probing engine: z equals a naive full forward, c is a share of T parsed samples, numbers are
seeded per item. Real-model checks on smollm2-135m-instruct (a few texts, small T); mechanics on
the tiny random LM."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from mollia.data.dataset import Dataset
from mollia.errors import DataError
from mollia.probes import kv
from mollia.probes.engine import (LabelSequences, ModelProber, SamplingSettings, item_seed, label_variants,
                                  probe_dataset, select_items)
from mollia.probes.label_mass import LabelTrie, end_token_ids, label_forms
from mollia.probes.naive import naive_z
from mollia.probes.prompts import user_prompt
from mollia.probes.tiny_lm import tiny_causal_lm

torch.set_num_threads(1)
LABELS = ["abbreviation", "entity", "description", "human", "location", "numeric"]
QUESTIONS = ["What does NASA stand for ?", "Who wrote the play Hamlet ?",
             "How many feet are in a mile ?", "Where is the Eiffel tower ?"]


@pytest.fixture(scope="module")
def smollm2():
    from mollia.models import load_causal_lm

    return load_causal_lm("smollm2-135m-instruct")


@pytest.fixture(scope="module")
def tiny():
    return tiny_causal_lm(seed=1)


def _prompts(texts=QUESTIONS):
    return [user_prompt("trec", LABELS, t) for t in texts]


# -- real model --------------------------------------------------------------------------------
SHORT = "Classify the question as one of: {labels}.\nQuestion: {text}\nAnswer:"  # short prompts: the naive side is slow


def test_z_matches_naive_full_forward_on_smollm2(smollm2):
    model, tokenizer = smollm2
    prober = ModelProber(model, tokenizer, LABELS, SamplingSettings(T=2, max_new_tokens=3, z_prune=0))
    texts = [QUESTIONS[0], QUESTIONS[1] + " Give the full name of the author of that play."]
    prompts = [user_prompt("trec", LABELS, t, SHORT) for t in texts]
    records = prober.probe(prompts, [0, 1])  # prompts of different lengths: the shorter is left padded
    assert records.z.shape == (2, 6)
    for row, prompt in enumerate(prompts):
        expected = naive_z(model, prober.render(prompt), prober.labels, len(LABELS))
        np.testing.assert_allclose(records.z[row], expected, atol=1e-4, rtol=1e-3)
    # z is a mass of disjoint continuations, not renormalised: inside (0, 1] and summing to <= 1
    assert (records.z > 0).all() and (records.z.sum(axis=1) <= 1 + 1e-6).all()


def test_samples_parse_into_consistency_on_smollm2(smollm2):
    from mollia.probes.parser import parse_answer

    model, tokenizer = smollm2
    prober = ModelProber(model, tokenizer, LABELS, SamplingSettings(T=4, max_new_tokens=6, seed=5))
    records = prober.probe(_prompts()[:2], [10, 11])
    assert records.gen_text.shape == (2, 4)
    assert (records.c.sum(axis=1) <= 1 + 1e-12).all()
    for row in range(2):
        parsed = [parse_answer(t, LABELS) for t in records.gen_text[row]]
        assert parsed == records.gen_parsed[row].tolist()
        np.testing.assert_allclose(records.c[row], [parsed.count(k) / 4 for k in range(6)])
    assert all(len(tokenizer.encode(t, add_special_tokens=False)) <= 6 + 1 for t in records.gen_text.ravel())


# -- mechanics (tiny random LM) -----------------------------------------------------------------
def test_same_seed_same_numbers_and_batching_does_not_matter(tiny):
    model, tokenizer = tiny
    settings = SamplingSettings(T=5, max_new_tokens=5, seed=7)
    prober = ModelProber(model, tokenizer, LABELS, settings)
    ids = [40, 41, 42, 43]
    a = prober.probe(_prompts(), ids)
    b = prober.probe(_prompts(), ids)
    np.testing.assert_array_equal(a.z, b.z)
    np.testing.assert_array_equal(a.gen_text, b.gen_text)
    # the same item in another batch (other padding, other neighbours) samples the same answers
    alone = prober.probe(_prompts()[2:3], ids[2:3])
    np.testing.assert_array_equal(alone.gen_text[0], a.gen_text[2])
    np.testing.assert_allclose(alone.z[0], a.z[2], rtol=1e-5)
    other_seed = ModelProber(model, tokenizer, LABELS, SamplingSettings(T=5, max_new_tokens=5, seed=8))
    assert not np.array_equal(other_seed.probe(_prompts(), ids).gen_text, a.gen_text)


def test_z_matches_naive_on_tiny_with_and_without_chat_template():
    for chat in (True, False):
        model, tokenizer = tiny_causal_lm(seed=2, chat_template=chat)
        prober = ModelProber(model, tokenizer, LABELS, SamplingSettings(T=2, max_new_tokens=2, z_prune=0))
        records = prober.probe(_prompts(), [0, 1, 2, 3])
        for row, prompt in enumerate(_prompts()):
            expected = naive_z(model, prober.render(prompt), prober.labels, len(LABELS))
            np.testing.assert_allclose(records.z[row], expected, rtol=1e-4)


def test_shared_prefix_cache_gives_the_same_z(tiny):
    from mollia.probes.prompts import template_for

    model, tokenizer = tiny
    plain = ModelProber(model, tokenizer, LABELS, SamplingSettings(T=3, max_new_tokens=3, z_prune=0))
    shared = ModelProber(model, tokenizer, LABELS, SamplingSettings(T=3, max_new_tokens=3, z_prune=0),
                         prefix_template=template_for("trec"))
    prefix = shared.shared_prefix()
    assert prefix is not None and len(prefix.ids) > 20
    assert all(tuple(shared.render(p)[: len(prefix.ids)]) == prefix.ids for p in _prompts())
    a, b = plain.probe(_prompts(), [1, 2, 3, 4]), shared.probe(_prompts(), [1, 2, 3, 4])
    np.testing.assert_allclose(a.z, b.z, rtol=1e-4)
    np.testing.assert_allclose(a.z_first, b.z_first, rtol=1e-4)
    for row, prompt in enumerate(_prompts()):
        np.testing.assert_allclose(b.z[row], naive_z(model, shared.render(prompt), shared.labels, 6), rtol=1e-4)


def test_shared_row_sampling_equals_independent_decoding(tiny):
    """The prefix-tree sampler draws what T independent full-forward decodes draw with the same uniforms."""
    model, tokenizer = tiny
    prober = ModelProber(model, tokenizer, LABELS, SamplingSettings(T=4, max_new_tokens=4, temperature=1.5))
    seqs = [prober.render(p) for p in _prompts()[:2]]
    uniforms = torch.rand((2, 4, 4), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    got = kv.sample_continuations(model, kv.prefill(model, seqs, prober.pad_id), uniforms, 1.5, 0.9, 4,
                                  prober.eos_ids, prober.pad_id)
    for b, seq in enumerate(seqs):
        for s in range(4):
            tokens = []
            for step in range(4):
                with torch.inference_mode():
                    logits = model(torch.tensor([seq + tokens])).logits[:, -1]
                token = int(kv.sample_tokens(logits, uniforms[b, step, s][None], 1.5, 0.9)[0])
                if token in prober.eos_ids:
                    break
                tokens.append(token)
            assert got[b][s] == tokens


def test_small_max_rows_chunks_give_the_same_numbers(tiny):
    model, tokenizer = tiny
    big = ModelProber(model, tokenizer, LABELS, SamplingSettings(T=3, max_new_tokens=3), max_rows=64)
    small = ModelProber(model, tokenizer, LABELS, SamplingSettings(T=3, max_new_tokens=3), max_rows=2)
    a, b = big.probe(_prompts(), [1, 2, 3, 4]), small.probe(_prompts(), [1, 2, 3, 4])
    np.testing.assert_allclose(a.z, b.z, rtol=1e-5)
    np.testing.assert_array_equal(a.gen_text, b.gen_text)


def test_label_variants_rule():
    assert label_variants("numeric") == ["numeric", " numeric", "Numeric", " Numeric"]
    assert "Science/Technology" in label_variants("science/technology")
    _, tokenizer = tiny_causal_lm()
    seqs = LabelSequences.build(tokenizer, LABELS)
    assert set(seqs.owner) == set(range(6)) and len(seqs.sequences) == len(set(seqs.sequences))


def test_label_forms_are_the_parsers_synonyms_that_parse_back():
    from mollia.probes.parser import parse_answer

    forms = label_forms(LABELS)
    assert forms[5][:3] == ["numeric", "num", "number"] and "quantity" in forms[5]
    assert "person" in forms[3] and "loc" in forms[4]
    for k, per_label in enumerate(forms):
        assert all(parse_answer(f, LABELS) == k for f in per_label)
    # compound names bring their parts; "tech" is bbc_news's own label there, never science/technology's
    assert {"science", "technology"} <= set(label_forms(["world", "sports", "business", "science/technology"])[3])
    assert "technology" not in label_forms(["business", "entertainment", "politics", "sport", "tech"])[0]


def test_end_of_answer_tokens():
    _, tokenizer = tiny_causal_lm()
    ends = set(end_token_ids(tokenizer, [tokenizer.eos_token_id]))
    decode = {i: tokenizer.decode([i]) for i in range(len(tokenizer))}
    assert tokenizer.eos_token_id in ends
    assert all(decode[i].lstrip(" ")[:1] in set(".,;:!?()[]{}\"'*`<\n\r") for i in ends - {tokenizer.eos_token_id})
    letters = [i for i, t in decode.items() if t.strip()[:1].isalpha()]
    assert letters and not ends & set(letters)  # "num" + "eric" is no answer "num"


def test_mass_counts_each_continuation_once_and_pruning_only_lowers_z(tiny):
    model, tokenizer = tiny
    exact = ModelProber(model, tokenizer, LABELS, SamplingSettings(T=1, max_new_tokens=1, z_prune=0))
    pruned = ModelProber(model, tokenizer, LABELS, SamplingSettings(T=1, max_new_tokens=1, z_prune=1e-3))
    a, b = exact.probe(_prompts(), [1, 2, 3, 4]), pruned.probe(_prompts(), [1, 2, 3, 4])
    assert (a.z.sum(1) <= 1 + 1e-9).all()  # disjoint events
    assert (b.z <= a.z + 1e-12).all() and (b.z < a.z).any()
    # bound: a pruned branch holds < z_prune; there are at most (trie nodes) of them per prompt
    assert ((a.z - b.z).sum(1) <= 1e-3 * len(exact.labels.trie.token)).all()


def test_trie_refuses_one_sequence_for_two_labels():
    with pytest.raises(DataError, match="two labels"):
        LabelTrie.build([(1, 2), (1, 2)], [0, 1])


def test_sampling_respects_nucleus_and_uses_given_uniforms():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]] * 3))
    u = torch.tensor([0.0, 0.7, 0.999999])
    # temperature 1, top_p 0.8: nucleus {0, 1} (0.5 + 0.3), renormalised CDF [0.625, 1.0]
    assert kv.sample_tokens(logits, u, 1.0, 0.8).tolist() == [0, 1, 1]
    assert kv.sample_tokens(logits, u, 1.0, 1.0).tolist() == [0, 1, 3]
    assert kv.sample_tokens(logits, u, 0.0, 0.9).tolist() == [0, 0, 0]  # greedy
    # a nucleus wider than the partial sort falls back to the full sort, same answer
    wide = torch.randn((2, 5000), generator=torch.Generator().manual_seed(0)) * 0.1
    uu = torch.tensor([0.3, 0.9])
    assert torch.equal(kv.sample_tokens(wide, uu, 1.0, 0.95, top_k_first=16),
                       kv.sample_tokens(wide, uu, 1.0, 0.95, top_k_first=5000))


def test_item_seed_depends_on_id_not_type_of_int():
    assert item_seed(0, 5) == item_seed(0, np.int64(5)) != item_seed(0, 6) != item_seed(1, 5)


def test_probe_dataset_renormalise_and_metadata(tmp_path, tiny):
    frame = pd.DataFrame({"id": [1, 2, 3], "text": QUESTIONS[:3], "label": [0, 3, 5], "split": "train"})
    ds = Dataset.from_frame("trec", frame, LABELS)
    kw = dict(T=2, max_new_tokens=2, cache_dir=tmp_path, progress=False, loader=lambda *a, **k: tiny)
    raw = probe_dataset(ds, ["tiny"], **kw)
    norm = probe_dataset(ds, ["tiny"], renormalise=True, **kw)
    np.testing.assert_allclose(norm.z.sum(-1), 1.0)
    np.testing.assert_allclose(norm.z, raw.z / raw.z.sum(-1, keepdims=True))
    np.testing.assert_array_equal(norm.c, raw.c)
    meta = raw.per_model["tiny"]
    assert meta["T"] == 2 and meta["renormalised"] is False and "z_rule" in meta
    assert list(raw.generations.columns) == ["item_id", "model", "sample", "text", "parsed"]
    assert len(raw.generations) == 3 * 2


def test_bad_arguments_are_clear_errors(tiny):
    frame = pd.DataFrame({"id": [1, 2], "text": QUESTIONS[:2], "label": [0, 3], "split": "train"})
    ds = Dataset.from_frame("trec", frame, LABELS)
    with pytest.raises(DataError, match="asked to probe 5"):
        select_items(ds, 5)
    with pytest.raises(DataError, match="T must be"):
        probe_dataset(ds, ["tiny"], T=0, loader=lambda *a, **k: tiny)
    with pytest.raises(DataError, match="duplicate model"):
        probe_dataset(ds, ["tiny", "tiny"], loader=lambda *a, **k: tiny)
    with pytest.raises(DataError, match="top_p"):
        probe_dataset(ds, ["tiny"], top_p=0.0, loader=lambda *a, **k: tiny)


@pytest.mark.parametrize("precision,z_tol", [("bfloat16", 0.05), ("int8", 0.05)])
def test_cpu_precision_options_stay_near_float32(precision, z_tol):
    """Each CPU precision of the engine against the float32 reference on the same prompts: z and
    z_first within z_tol of float32, same first-token argmax; the cache key names the precision."""
    from mollia.models.load import apply_precision

    ref_model, tokenizer = tiny_causal_lm(seed=3)
    model, _ = tiny_causal_lm(seed=3)
    model = apply_precision(model, precision)
    if precision == "int8":
        assert any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in model.modules())
        assert type(model.lm_head) is torch.nn.Linear  # the output head stays float32
    else:
        assert next(model.parameters()).dtype == torch.bfloat16
    settings = SamplingSettings(T=4, max_new_tokens=3, z_prune=0)
    ref = ModelProber(ref_model, tokenizer, LABELS, settings).probe(_prompts(), [1, 2, 3, 4])
    got = ModelProber(model, tokenizer, LABELS, settings).probe(_prompts(), [1, 2, 3, 4])
    assert np.abs(got.z - ref.z).max() <= z_tol
    assert np.abs(got.z_first - ref.z_first).max() <= z_tol
    assert (got.z_first.argmax(1) == ref.z_first.argmax(1)).all()


def test_precision_is_part_of_the_cache_key(tmp_path, tiny):
    frame = pd.DataFrame({"id": [1, 2], "text": QUESTIONS[:2], "label": [0, 3], "split": "train"})
    ds = Dataset.from_frame("trec", frame, LABELS)
    kw = dict(T=2, max_new_tokens=2, cache_dir=tmp_path, progress=False,
              loader=lambda *a, **k: tiny_causal_lm(seed=1))
    a = probe_dataset(ds, ["tiny"], precision="float32", **kw)
    b = probe_dataset(ds, ["tiny"], precision="bfloat16", **kw)
    assert a.per_model["tiny"]["precision"] == "float32" and b.per_model["tiny"]["precision"] == "bfloat16"
    assert a.per_model["tiny"]["cache"] != b.per_model["tiny"]["cache"]
    assert a.per_model["tiny"]["engine_version"] == 2 and a.per_model["tiny"]["z_prune"] == 1e-4
    with pytest.raises(DataError, match="unknown CPU precision"):
        probe_dataset(ds, ["tiny"], precision="int4", **kw)
    with pytest.raises(DataError, match="needs a CUDA GPU"):
        probe_dataset(ds, ["tiny"], quantization="4bit", **kw)


def test_batched_yardstick_equals_the_one_text_naive_way(tiny):
    """The fair batched baseline of bench/probe_speed.py (one forward per label over the whole batch,
    logits_to_keep at the positions scoring each form and its end; one generate over the left-padded
    batch) computes the same exact z as the one-text naive way, and T answers per text."""
    from mollia.probes.naive import batched_samples, batched_z

    model, tokenizer = tiny
    prober = ModelProber(model, tokenizer, LABELS, SamplingSettings(T=3, max_new_tokens=3))
    rendered = [prober.render(p) for p in _prompts()]
    assert len({len(r) for r in rendered}) > 1  # prompts of different lengths: padding is exercised
    z = batched_z(model, rendered, prober.labels, len(LABELS))
    for row, ids in enumerate(rendered):
        np.testing.assert_allclose(z[row], naive_z(model, ids, prober.labels, len(LABELS)), rtol=1e-4)
    torch.manual_seed(0)
    answers = batched_samples(model, tokenizer, rendered, 3, 0.7, 0.9, 3)
    assert len(answers) == len(rendered) and all(len(a) == 3 and all(isinstance(t, str) for t in a) for a in answers)
