"""The KV-reusing forward passes of the probing engine (Eq. 1-3 without redundant prefills).

One prefill per prompt, batched with left padding; everything after it reads the prompt's
key/value cache instead of recomputing it:

- `compute_prefix` / `SharedPrefix`: the cache of the tokens every prompt starts with (chat system
  turn, template up to the text), computed once per model; `prefill` then runs only the suffixes;
- `prefill`: the prompts' forward pass; returns the next-token log-probabilities and the cache;
- `score_continuations`: log P(token sequence | prompt) for many short sequences per prompt, by
  expanding the cache along the batch (one row per prompt x sequence) and running the sequences
  in one forward;
- `sample_continuations`: T sampled continuations per prompt, the first token drawn from the
  prefill's distribution, the rest decoded step by step from the expanded cache, where samples
  that agree so far share a row (a prefix tree) and finished samples leave; full-attention layers
  grow in place (`PreallocatedLayer`) rather than by concatenation.

Positions are passed explicitly (``cumsum(mask) - 1``): with left padding a model that derived
them from the cache length would shift every padded prompt. Works with transformers 5.x
`DynamicCache` (full and sliding-window layers), whose ``batch_select_indices`` replaces each
layer's tensors rather than writing into them, which is what lets `expand_cache` hand out
independent copies that share nothing mutable with the prefill cache.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Sequence

import torch
from transformers.cache_utils import DynamicLayer


@dataclass
class Prefill:
    """The prompts after one forward pass."""

    next_logprobs: torch.Tensor  # (B, V) float32, log P(next token | prompt)
    cache: object  # transformers Cache, batch B
    attention_mask: torch.Tensor  # (B, L) long, 0 on left padding
    last_position: torch.Tensor  # (B,) long, position id of each prompt's last token


def left_pad(sequences: Sequence[Sequence[int]], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Token id lists -> (input_ids, attention_mask), both (B, L), padded on the left."""
    length = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), length), dtype=torch.long)
    for row, seq in enumerate(sequences):
        if len(seq):
            ids[row, length - len(seq):] = torch.as_tensor(list(seq), dtype=torch.long)
            mask[row, length - len(seq):] = 1
    return ids.to(device), mask.to(device)


def positions_from_mask(mask: torch.Tensor) -> torch.Tensor:
    return (mask.cumsum(-1) - 1).clamp(min=0)


@dataclass
class SharedPrefix:
    """The KV cache of token ids that every prompt starts with (the chat template's system turn and
    the prompt template up to the text): computed once per model, reused by every batch."""

    ids: tuple[int, ...]
    cache: object


@torch.inference_mode()
def compute_prefix(model, ids: Sequence[int]) -> SharedPrefix | None:
    if len(ids) < 2:
        return None
    out = model(input_ids=torch.tensor([list(ids)], device=model.device), use_cache=True, logits_to_keep=1)
    return SharedPrefix(tuple(ids), out.cache)


@torch.inference_mode()
def prefill(model, sequences: Sequence[Sequence[int]], pad_id: int, prefix: SharedPrefix | None = None) -> Prefill:
    """Forward the prompts (left padded). With ``prefix``, and when every prompt starts with it and
    goes beyond it, only the suffixes are computed, over the prefix's cache expanded to the batch
    (attention mask: prefix, then the suffix's left padding, then the suffix)."""
    device = model.device
    P = len(prefix.ids) if prefix is not None else 0
    if P and all(len(s) > P and tuple(s[:P]) == prefix.ids for s in sequences):
        ids, suffix_mask = left_pad([list(s[P:]) for s in sequences], pad_id, device)
        mask = torch.cat([torch.ones((len(sequences), P), dtype=torch.long, device=device), suffix_mask], 1)
        positions = P + positions_from_mask(suffix_mask)
        cache = expand_cache(prefix.cache, torch.zeros(len(sequences), dtype=torch.long, device=device))
        out = model(input_ids=ids, attention_mask=mask, position_ids=positions, cache=cache, use_cache=True,
                    logits_to_keep=1)
    else:
        ids, mask = left_pad(sequences, pad_id, device)
        positions = positions_from_mask(mask)
        out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1)
    logprobs = torch.log_softmax(out.logits[:, -1, :].float(), dim=-1)
    return Prefill(logprobs, out.cache, mask, positions[:, -1])


class PreallocatedLayer(DynamicLayer):
    """A full-attention cache layer with room reserved for ``reserve`` more tokens: new keys and
    values are written in place instead of `DynamicLayer`'s concatenation, which copied the whole
    (T-times expanded) cache at every decoding step."""

    def __init__(self, keys: torch.Tensor, values: torch.Tensor, reserve: int):
        super().__init__()
        B, H, L, D = keys.shape
        self._key_buf = keys.new_empty((B, H, L + reserve, D))
        self._value_buf = values.new_empty((B, H, L + reserve, values.shape[-1]))
        self._key_buf[:, :, :L] = keys
        self._value_buf[:, :, :L] = values
        self.length = L
        self.device, self.is_initialized = keys.device, True
        self.keys, self.values = self._key_buf[:, :, :L], self._value_buf[:, :, :L]

    def update(self, key_states, value_states, *args, **kwargs):
        end = self.length + key_states.shape[-2]
        if end > self._key_buf.shape[-2]:  # more than reserved: grow like DynamicLayer
            self._key_buf = torch.cat([self._key_buf[:, :, : self.length], key_states], dim=-2)
            self._value_buf = torch.cat([self._value_buf[:, :, : self.length], value_states], dim=-2)
        else:
            self._key_buf[:, :, self.length:end] = key_states
            self._value_buf[:, :, self.length:end] = value_states
        self.length = end
        self.keys, self.values = self._key_buf[:, :, :end], self._value_buf[:, :, :end]
        return self.keys, self.values

    def get_seq_length(self) -> int:
        return self.length

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        self._key_buf, self._value_buf = self._key_buf[indices], self._value_buf[indices]
        self.keys, self.values = self._key_buf[:, :, : self.length], self._value_buf[:, :, : self.length]


def expand_cache(cache, index: torch.Tensor, reserve: int = 0):
    """A new cache whose row r is row ``index[r]`` of ``cache``; ``cache`` itself is untouched.

    Full-attention layers get room for ``reserve`` more tokens (`PreallocatedLayer`); other
    layer kinds (sliding window, ...) are copied as they are and grow their own way.
    """
    expanded = copy.copy(cache)
    layers = []
    for layer in cache.layers:
        if type(layer) is DynamicLayer and layer.is_initialized and reserve > 0:
            layers.append(PreallocatedLayer(layer.keys[index], layer.values[index], reserve))
        else:
            clone = copy.copy(layer)
            clone.batch_select_indices(index)
            layers.append(clone)
    expanded.layers = layers
    return expanded


@torch.inference_mode()
def score_continuations(model, pre: Prefill, sequences: Sequence[Sequence[int]], max_rows: int = 64) -> torch.Tensor:
    """log P(sequence | prompt) for every prompt and sequence: (B, S) float32 tensor.

    The first token's term comes from the prefill; the remaining tokens are scored in forwards of
    (prompt x sequence) rows over the expanded cache, at most ``max_rows`` rows at a time, with
    the sequences right-padded (a causal model's earlier positions never see the padding).
    """
    B, S = pre.next_logprobs.shape[0], len(sequences)
    device = pre.next_logprobs.device
    firsts = torch.tensor([s[0] for s in sequences], dtype=torch.long, device=device)
    total = pre.next_logprobs[:, firsts].clone()  # (B, S)
    long_ids = [j for j, s in enumerate(sequences) if len(s) > 1]
    if not long_ids:
        return total
    width = max(len(sequences[j]) for j in long_ids) - 1
    inputs = torch.zeros((len(long_ids), width), dtype=torch.long)
    targets = torch.zeros((len(long_ids), width), dtype=torch.long)
    valid = torch.zeros((len(long_ids), width), dtype=torch.bool)
    for r, j in enumerate(long_ids):
        seq = list(sequences[j])
        inputs[r, : len(seq) - 1] = torch.tensor(seq[:-1])
        targets[r, : len(seq) - 1] = torch.tensor(seq[1:])
        valid[r, : len(seq) - 1] = True
    inputs, targets, valid = inputs.to(device), targets.to(device), valid.to(device)
    M = len(long_ids)
    prompts_per_chunk = max(1, max_rows // M)
    offsets = torch.arange(1, width + 1, device=device)
    for start in range(0, B, prompts_per_chunk):
        rows = torch.arange(start, min(B, start + prompts_per_chunk), device=device)
        index = rows.repeat_interleave(M)  # prompt of each row
        cache = expand_cache(pre.cache, index, reserve=width)
        mask = torch.cat([pre.attention_mask[index], torch.ones((len(index), width), dtype=torch.long, device=device)], 1)
        positions = pre.last_position[index, None] + offsets[None, :]
        keep = valid.repeat(len(rows), 1)
        # the vocabulary projection only where a label token is scored, not on the padding
        out = model(input_ids=inputs.repeat(len(rows), 1), attention_mask=mask, position_ids=positions, cache=cache,
                    use_cache=True, logits_to_keep=keep)
        logits = out.logits.float()
        if logits.ndim == 3:  # a model that ignores a boolean logits_to_keep
            logits = logits[keep]
        wanted = targets.repeat(len(rows), 1)[keep]
        picked = logits.gather(-1, wanted[:, None])[:, 0] - torch.logsumexp(logits, dim=-1)
        per_row = torch.zeros(keep.shape, dtype=picked.dtype, device=device)
        per_row[keep] = picked
        total[rows[:, None], torch.tensor(long_ids, device=device)[None, :]] += per_row.sum(-1).view(len(rows), M)
        del cache, out, logits
    return total


def sample_tokens(logits: torch.Tensor, uniforms: torch.Tensor, temperature: float, top_p: float,
                  top_k_first: int = 1024) -> torch.Tensor:
    """Draw one token per row from softmax(logits / temperature) restricted to the top-p nucleus
    (the smallest set of most likely tokens holding >= top_p of the mass), by inverse CDF with
    the given uniforms, so the draw depends only on the row's own random numbers.

    The nucleus is looked for among the ``top_k_first`` most likely tokens (a partial sort, much
    cheaper than sorting the vocabulary); rows whose nucleus is larger fall back to a full sort.
    Either way the result is exact.
    """
    logits = logits.float()
    if temperature <= 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits / temperature, dim=-1)
    k = min(int(top_k_first), probs.shape[-1])
    sorted_p, order = probs.topk(k, dim=-1)
    covered = sorted_p.sum(-1) >= top_p
    if not bool(covered.all()):
        picks = torch.empty(probs.shape[0], dtype=torch.long, device=probs.device)
        wide = ~covered
        full_p, full_order = probs[wide].sort(dim=-1, descending=True)
        picks[wide] = _pick(full_p, full_order, uniforms[wide.cpu()], top_p)
        if bool(covered.any()):
            picks[covered] = _pick(sorted_p[covered], order[covered], uniforms[covered.cpu()], top_p)
        return picks
    return _pick(sorted_p, order, uniforms, top_p)


def _pick(sorted_p: torch.Tensor, order: torch.Tensor, uniforms: torch.Tensor, top_p: float) -> torch.Tensor:
    before = sorted_p.cumsum(-1) - sorted_p
    sorted_p = torch.where(before < top_p, sorted_p, torch.zeros_like(sorted_p))
    cdf = sorted_p.cumsum(-1)
    target = uniforms.to(cdf.device, cdf.dtype)[:, None] * cdf[:, -1:]
    pick = torch.searchsorted(cdf, target, right=True)
    # never land on a token outside the nucleus (zero mass) through rounding at the top end
    n_kept = (sorted_p > 0).sum(-1, keepdim=True)
    pick = torch.minimum(pick, n_kept - 1)
    return order.gather(-1, pick)[:, 0]


@torch.inference_mode()
def _tree_node(node_of: dict, node_parent: list, node_token: list, parent: int, token: int) -> int:
    """The node of ``token`` under ``parent`` in the sampling tree, created on first sight: samples that
    share a prefix share one row of the next forward."""
    key = (parent, token)
    if key not in node_of:
        node_of[key] = len(node_parent)
        node_parent.append(parent)
        node_token.append(token)
    return node_of[key]


def sample_continuations(model, pre: Prefill, uniforms: torch.Tensor, temperature: float, top_p: float,
                         max_new_tokens: int, eos_ids: Sequence[int], pad_id: int, max_rows: int = 64) -> list[list[list[int]]]:
    """T sampled continuations per prompt, token ids up to (not including) the first EOS.

    ``uniforms``: (B, max_new_tokens, T) numbers in [0, 1), one per prompt, step and sample:
    the caller draws them from each item's own generator, which makes the samples independent of
    how items were batched.

    Samples that so far generated the same tokens for the same prompt have the same next-token
    distribution, so they share one row of the forward (a prefix tree of the T samples: a
    confident model answering "Numeric" ten times decodes one row, not ten); each sample still
    draws with its own uniform, so the result is the same as decoding T independent rows.
    Finished samples (EOS) leave the batch.
    """
    B, steps, T = uniforms.shape
    device = pre.next_logprobs.device
    eos = set(int(e) for e in eos_ids)
    result: list[list[list[int]]] = [[[] for _ in range(T)] for _ in range(B)]
    prompts_per_chunk = max(1, max_rows // T)
    for start in range(0, B, prompts_per_chunk):
        prompts = list(range(start, min(B, start + prompts_per_chunk)))
        slots = [(b, s) for b in prompts for s in range(T)]
        slot_prompt = torch.tensor([b for b, _ in slots], device=device)
        u0 = torch.stack([uniforms[b, 0, s] for b, s in slots])
        first = sample_tokens(pre.next_logprobs[slot_prompt], u0, temperature, top_p).tolist()
        active: list[tuple[int, int]] = []  # (slot, node)
        node_of: dict[tuple[int, int], int] = {}  # (prompt, token) -> node
        node_prompt, node_token = [], []
        for slot, token in enumerate(first):
            b, s = slots[slot]
            if token in eos:
                continue
            result[b][s].append(token)
            active.append((slot, _tree_node(node_of, node_prompt, node_token, b, token)))
        if not active or steps == 1:
            continue
        index = torch.tensor(node_prompt, device=device)
        cache = expand_cache(pre.cache, index, reserve=steps)
        mask = pre.attention_mask[index]
        position = pre.last_position[index]
        for step in range(1, steps):
            mask = torch.cat([mask, torch.ones((len(node_token), 1), dtype=torch.long, device=device)], 1)
            position = position + 1
            out = model(input_ids=torch.tensor(node_token, device=device)[:, None], attention_mask=mask,
                        position_ids=position[:, None], cache=cache, use_cache=True)
            cache = out.cache
            logits = out.logits[:, -1, :]
            rows = torch.tensor([node for _, node in active], device=device)
            u = torch.stack([uniforms[slots[slot][0], step, slots[slot][1]] for slot, _ in active])
            drawn = sample_tokens(logits[rows], u, temperature, top_p).tolist()
            next_active, next_of, parents, next_token = [], {}, [], []
            for (slot, node), token in zip(active, drawn):
                if token in eos:
                    continue
                b, s = slots[slot]
                result[b][s].append(token)
                next_active.append((slot, _tree_node(next_of, parents, next_token, node, token)))
            active, node_token = next_active, next_token
            if not active or step == steps - 1:
                break
            if parents != list(range(len(mask))):  # the tree branched or lost leaves: rows follow it
                select = torch.tensor(parents, device=device)
                cache.batch_select_indices(select)
                mask, position = mask[select], position[select]
        del cache
    return result
