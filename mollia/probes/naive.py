"""The naive way to probe one text, the yardstick of the engine (bench/probe_speed.py, tests).

Per text: HF ``generate(num_return_sequences=T)`` for the T samples (which prefills the prompt T
times) plus, per label form, one forward of the form over its own copy of the prompt's cache (no
shared prefix, no batching, no trie, no pruning).
Same z rule as the engine (`mollia.probes.label_mass`), so with ``z_prune=0`` the two must agree
to float rounding.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from mollia.probes.engine import LabelSequences


@torch.inference_mode()
def naive_z(model, prompt_ids: Sequence[int], labels: LabelSequences, n_labels: int) -> np.ndarray:
    """(K,) z of one prompt by brute force: every form scored on its own (the prompt's forward once,
    copied for each form), no pruning; z[k] = sum over k's token sequences s of P(s | prompt) * P(end | prompt, s), where
    the end tokens exclude those continuing a longer sequence (the rule of
    `mollia.probes.label_mass`)."""
    import copy

    device = model.device
    prompt = list(prompt_ids)
    z = np.zeros(n_labels)
    end_ids = set(labels.end_ids)
    # the prompt's own forward once (transformers' cache, deep-copied per form: no trie, no sharing)
    out = model(input_ids=torch.tensor([prompt], device=device), use_cache=True)
    prompt_logp = torch.log_softmax(out.logits[0, -1].double(), -1)
    for seq, k in zip(labels.sequences, labels.owner):
        seq = list(seq)
        cache = copy.deepcopy(out.cache)
        positions = torch.arange(len(prompt), len(prompt) + len(seq), device=device)[None]
        logits = model(input_ids=torch.tensor([seq], device=device), cache=cache, position_ids=positions,
                       use_cache=True).logits[0]
        logp = torch.cat([prompt_logp[None], torch.log_softmax(logits.double(), -1)])
        seq_lp = float(logp[torch.arange(len(seq)), torch.tensor(seq)].sum())
        # end tokens that would spell a longer form (same prefix) belong to that form
        longer = {tuple(o)[len(seq)] for o in labels.sequences if len(o) > len(seq) and list(o[: len(seq)]) == seq}
        allowed = [e for e in end_ids - longer if e < logp.shape[-1]]
        end_lp = float(torch.logsumexp(logp[len(seq), allowed], -1))
        z[k] += np.exp(seq_lp + end_lp)
    return z


@torch.inference_mode()
def naive_z_max(model, prompt_ids: Sequence[int], sequences: Sequence[Sequence[int]], owner: Sequence[int],
                n_labels: int) -> np.ndarray:
    """(K,) z of engine version 1 (the *max* over the label's sequences of P(tokens | prompt), no end
    condition): kept to report what the mass rule changed."""
    device = model.device
    prompt = list(prompt_ids)
    z = np.zeros(n_labels)
    for seq, k in zip(sequences, owner):
        seq = list(seq)
        logp = torch.log_softmax(model(input_ids=torch.tensor([prompt + seq], device=device)).logits[0, len(prompt) - 1:].double(), -1)
        z[k] = max(z[k], float(np.exp(float(logp[torch.arange(len(seq)), torch.tensor(seq)].sum()))))
    return z


@torch.inference_mode()
def naive_samples(model, tokenizer, prompt_ids: Sequence[int], T: int, temperature: float, top_p: float,
                  max_new_tokens: int) -> list[str]:
    """T sampled answers through HF generate (uses torch's global RNG: seed it before calling)."""
    ids = torch.tensor([list(prompt_ids)], device=model.device)
    out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=True, temperature=temperature,
                         top_p=top_p, top_k=0, max_new_tokens=max_new_tokens, num_return_sequences=T,
                         pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id)
    return [tokenizer.decode(row[ids.shape[1]:], skip_special_tokens=True) for row in out]


# -- the fair batched yardstick ------------------------------------------------------------------
# Plain transformers calls, no KV reuse, but batched over the same texts as the engine and with
# ``logits_to_keep`` so the LM head runs only where a label token is predicted (label scoring) or
# only at the last position (``generate`` does that itself when the model accepts the argument).


@torch.inference_mode()
def batched_z(model, prompts_ids: Sequence[Sequence[int]], labels: LabelSequences, n_labels: int) -> np.ndarray:
    """(n, K) z of ``n`` prompts by the same exact rule as `naive_z` (no pruning), batched: per label
    ONE forward over every [prompt + form] row of the batch (right padded, so positions are plain),
    with logits only at the positions that score the form's tokens and its end."""
    device = model.device
    prompts = [list(p) for p in prompts_ids]
    z = np.zeros((len(prompts), n_labels))
    end_ids = set(labels.end_ids)
    for k in range(n_labels):
        forms = [list(s) for s, o in zip(labels.sequences, labels.owner) if o == k]
        span = max(len(s) for s in forms) + 1  # the form's tokens and the end after it
        rows = [(t, s) for t in range(len(prompts)) for s in forms]
        width = max(len(prompts[t]) + len(s) for t, s in rows)
        ids = torch.zeros((len(rows), width), dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        keep = torch.zeros((len(rows), span), dtype=torch.long)
        for r, (t, s) in enumerate(rows):
            n_real = len(prompts[t]) + len(s)
            ids[r, :n_real] = torch.tensor(prompts[t] + s)
            mask[r, :n_real] = 1
            keep[r] = torch.clamp(torch.arange(span) + len(prompts[t]) - 1, max=width - 1)
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device), logits_to_keep=keep.to(device)).logits
        logp = torch.log_softmax(logits.double(), -1)
        for r, (t, s) in enumerate(rows):
            seq_lp = float(logp[r, torch.arange(len(s)), torch.tensor(s)].sum())
            # end tokens that would spell a longer form (same prefix) belong to that form (as naive_z)
            longer = {tuple(o)[len(s)] for o in labels.sequences if len(o) > len(s) and list(o[: len(s)]) == s}
            allowed = [e for e in end_ids - longer if e < logp.shape[-1]]
            z[t, k] += np.exp(seq_lp + float(torch.logsumexp(logp[r, len(s), allowed], -1)))
    return z


@torch.inference_mode()
def batched_samples(model, tokenizer, prompts_ids: Sequence[Sequence[int]], T: int, temperature: float, top_p: float,
                    max_new_tokens: int) -> list[list[str]]:
    """T sampled answers per prompt from ONE ``generate`` over the left-padded batch
    (``num_return_sequences=T``; uses torch's global RNG: seed it before calling)."""
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    width = max(len(p) for p in prompts_ids)
    ids = torch.full((len(prompts_ids), width), pad, dtype=torch.long)
    mask = torch.zeros((len(prompts_ids), width), dtype=torch.long)
    for r, p in enumerate(prompts_ids):
        ids[r, width - len(p):] = torch.tensor(list(p))
        mask[r, width - len(p):] = 1
    out = model.generate(input_ids=ids.to(model.device), attention_mask=mask.to(model.device), do_sample=True,
                         temperature=temperature, top_p=top_p, top_k=0, max_new_tokens=max_new_tokens,
                         num_return_sequences=T, pad_token_id=pad)
    texts = [tokenizer.decode(row[width:], skip_special_tokens=True) for row in out]
    return [texts[i * T:(i + 1) * T] for i in range(len(prompts_ids))]
