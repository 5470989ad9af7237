"""A tiny randomly initialised causal LM (and a tiny "encoder" on the same tokenizer), real BPE
tokenizer and chat template.

For fast tests and demos of the machinery (padding, KV reuse, caching, resuming, the whole road
from a CSV to the report) where the numbers need to be exact but not meaningful. Built in memory in
well under a second; needs no download. Registered as the built-in models ``tiny-random-lm`` and
``tiny-random-encoder`` (`mollia.models.registry`). Not a model of language: its answers are noise.
"""

from __future__ import annotations

from typing import Sequence

_CHAT_TEMPLATE = (
    "{% for m in messages %}<|start|>{{ m['role'] }}\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|start|>assistant\n{% endif %}"
)

_CORPUS = [
    "Classify the given question based on the following categories: abbreviation, entity, description, human, "
    "location, numeric. Task: Determine the most appropriate category for the question. Your response should only "
    "be one of these labels with no additional text or explanation. Question: Output:",
    "What is the capital of France ? How many people live in Tokyo ? Who wrote Hamlet ? What does NASA stand for ?",
    "Numeric Human Location Entity Description Abbreviation NUMERIC HUMAN the a of and to in is was for on with",
    "negative positive world sports business science technology Science/Technology review article sentence",
]


def _tokenizer(vocab_size: int, extra_corpus: Sequence[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|pad|>", "<|bos|>", "<|end|>", "<|start|>"]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator(list(_CORPUS) + list(extra_corpus), trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, pad_token="<|pad|>", bos_token="<|bos|>", eos_token="<|end|>")


def _config(tokenizer, layers: int):
    from transformers import LlamaConfig

    return LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=layers,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                       pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                       eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=False)


def tiny_causal_lm(seed: int = 0, chat_template: bool = True, vocab_size: int = 600, layers: int = 2,
                   extra_corpus: Sequence[str] = ()):
    """(model, tokenizer): a 2-layer Llama with random weights (``seed``) and a byte-level BPE."""
    import torch
    from transformers import LlamaForCausalLM

    tokenizer = _tokenizer(vocab_size, extra_corpus)
    if chat_template:
        tokenizer.chat_template = _CHAT_TEMPLATE
    config = _config(tokenizer, layers)
    with torch.random.fork_rng():  # weight init only, and the caller's global RNG is left as it was
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    with torch.no_grad():  # sharpen the random logits so that sampling is not uniform over the vocabulary
        model.lm_head.weight.mul_(8.0)
    model.eval()
    return model, tokenizer


def tiny_encoder(seed: int = 0, layers: int = 2):
    """(model, tokenizer): the same tiny random Llama body without its LM head, used as a sentence
    encoder (``last_hidden_state``, mean-pooled by the caller). Its embeddings are noise."""
    import torch
    from transformers import LlamaModel

    tokenizer = _tokenizer(600, ())
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = LlamaModel(_config(tokenizer, layers))
    model.eval()
    return model, tokenizer
