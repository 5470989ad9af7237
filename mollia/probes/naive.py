"""The naive way to probe one text, the yardstick of the engine (bench/probe_speed.py, tests).

Per text: HF ``generate(num_return_sequences=T)`` for the T samples (which prefills the prompt T
times) plus one full forward per label over prompt + label (the label's variants batched in that
forward, right padded), with no cache reuse at all. Same z rule as the engine
(`mollia.probes.engine.label_variants`), so the two must agree to float rounding.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from mollia.probes.engine import LabelSequences


@torch.inference_mode()
def naive_z(model, prompt_ids: Sequence[int], labels: LabelSequences, n_labels: int) -> np.ndarray:
    """(K,) z of one prompt: per label one forward over [prompt + variant] rows."""
    device = model.device
    z = np.zeros(n_labels)
    prompt = list(prompt_ids)
    for k in range(n_labels):
        seqs = [list(s) for s, o in zip(labels.sequences, labels.owner) if o == k]
        width = len(prompt) + max(len(s) for s in seqs)
        ids = torch.zeros((len(seqs), width), dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for r, s in enumerate(seqs):
            ids[r, : len(prompt) + len(s)] = torch.tensor(prompt + s)
            mask[r, : len(prompt) + len(s)] = 1
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
        # only the positions that predict label tokens: a fair yardstick, not a full-vocab
        # log-softmax in float64 over the whole prompt
        logp = torch.log_softmax(logits[:, len(prompt) - 1:].double(), -1)
        best = -np.inf
        for r, s in enumerate(seqs):
            pos = torch.arange(len(s))
            best = max(best, float(logp[r, pos, torch.tensor(s)].sum()))
        z[k] = np.exp(best)
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
