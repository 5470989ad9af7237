"""z as the probability *mass* of a label (Eq. 1): every way the model can answer with it, once.

An answer names label k when it starts with one of k's *surface forms* and then ends. So

    z[k] = sum over forms f of k of  P(tokens(f) | prompt) * P(end | prompt, tokens(f))

- **Forms** (`label_forms`): the label's name and the parser's synonyms for it
  (`mollia.probes.parser.LABEL_SYNONYMS`, plus the parts of a compound name such as
  "science/technology"), kept only when `parse_answer` reads the form alone as that label (so a
  form the parser gives to another label, or to none, is never counted), each as given, lower
  case, Capitalised and Title Case, with and without one leading space; distinct token sequences.
- **End of answer** (`end_token_ids`): the next token is an EOS token, or a token whose text
  starts, after spaces, with a line break or one of ``. , ; : ! ? ( ) [ ] { } " ' * ` <``. A letter,
  digit, "/", "-" or "&" continues the word, so "num" followed by "eric" is *not* an answer "num":
  the continuation "numeric" is counted once, under "numeric". At a form that is a prefix of a
  longer form (say "human" and "human being"), the next tokens that continue the longer form are
  excluded from the end mass, so no continuation is counted twice: the terms are disjoint events
  and z[k] is a probability (sum over k <= 1).
- **Pruning**: the forms share token prefixes (a trie). It is walked level by level over the
  prompt's KV cache, one forward per level for all prompts of a batch, and a branch whose prefix
  probability is below ``prune`` is not expanded: z[k] is then low by at most the pruned
  branches' probability (each < ``prune``). ``prune=0`` computes every form exactly, which is the
  brute-force sum `mollia.probes.naive.naive_z` checks.

Not counted: continuations that spell a form with a non-canonical tokenization ("num" + "eric"
for the one-token "numeric"), the usual convention when scoring strings with a language model.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

import torch

from mollia.errors import DataError

END_CHARS = "\n\r.,;:!?()[]{}\"'*`<"


def label_variants(form: str) -> list[str]:
    """Surface variants of one form: as given, lower, Capitalised, Title; without / with one leading space."""
    variants = []
    for text in (form, form.lower(), form[:1].upper() + form[1:].lower(), form.title()):
        for spaced in (text, " " + text):
            if spaced.strip() and spaced not in variants:
                variants.append(spaced)
    return variants


def label_forms(label_names: Sequence[str]) -> list[list[str]]:
    """Per label, its name and the parser's synonyms that the parser reads alone as that label."""
    from mollia.probes.parser import LABEL_SYNONYMS, parse_answer

    names = [str(n) for n in label_names]
    out = []
    for k, name in enumerate(names):
        candidates = [name, *LABEL_SYNONYMS.get(name.lower(), ())]
        parts = [p for p in re.split(r"\s*(?:/|&|\band\b|\bor\b|,)\s*", name) if p.strip()]
        if len(parts) > 1:
            candidates += parts
        forms = []
        for form in candidates:
            if form not in forms and (form == name or parse_answer(form, names) == k):
                forms.append(form)
        out.append(forms)
    return out


def end_token_ids(tokenizer, eos_ids: Sequence[int]) -> tuple[int, ...]:
    """Ids of the tokens that end an answer (see the module doc), EOS ids included."""
    vocab = len(tokenizer)
    texts = tokenizer.batch_decode([[i] for i in range(vocab)], skip_special_tokens=False)
    ends = set(int(e) for e in eos_ids)
    for i, text in enumerate(texts):
        stripped = text.lstrip(" \t")
        if stripped and stripped[0] in END_CHARS:
            ends.add(i)
    return tuple(sorted(ends))


@dataclass(frozen=True)
class LabelTrie:
    """The token sequences of every label's forms as a prefix tree. Node 0 is the root."""

    token: tuple[int, ...]  # token leading into each node (root: -1)
    children: tuple[dict[int, int], ...]  # per node: token -> child node
    owner: tuple[int, ...]  # label of the form ending at the node, -1 if none
    depth: int  # longest sequence

    @classmethod
    def build(cls, sequences: Sequence[Sequence[int]], owners: Sequence[int]) -> "LabelTrie":
        token, children, owner = [-1], [{}], [-1]
        for seq, k in zip(sequences, owners):
            node = 0
            for t in seq:
                nxt = children[node].get(int(t))
                if nxt is None:
                    nxt = len(token)
                    children[node][int(t)] = nxt
                    token.append(int(t))
                    children.append({})
                    owner.append(-1)
                node = nxt
            if owner[node] not in (-1, int(k)):
                raise DataError(f"token sequence {list(seq)} spells forms of two labels ({owner[node]} and {k})")
            owner[node] = int(k)
        return cls(tuple(token), tuple(children), tuple(owner), max(len(s) for s in sequences))


@torch.inference_mode()
def label_mass(model, pre, trie: LabelTrie, end_ids: Sequence[int], n_labels: int, prune: float = 1e-4,
               max_rows: int = 64) -> torch.Tensor:
    """(B, K) float64 z of the prefilled prompts ``pre`` (a `mollia.probes.kv.Prefill`)."""
    from mollia.probes.kv import expand_cache

    B, V = pre.next_logprobs.shape
    device = pre.next_logprobs.device
    end_mask = torch.zeros(V, dtype=torch.bool, device=device)
    end_mask[torch.tensor([e for e in end_ids if e < V], dtype=torch.long, device=device)] = True
    log_prune = math.log(prune) if prune > 0 else -math.inf
    mass = torch.zeros((B, n_labels), dtype=torch.float64)
    root_tokens = list(trie.children[0])
    root_nodes = [trie.children[0][t] for t in root_tokens]
    first = pre.next_logprobs[:, root_tokens].double().cpu()  # (B, roots)
    keep = first >= log_prune
    # group prompts so that one level's rows stay near max_rows (at least one prompt per group)
    groups, current, rows = [], [], 0
    for b in range(B):
        n = int(keep[b].sum())
        if current and rows + n > max_rows:
            groups.append(current)
            current, rows = [], 0
        current.append(b)
        rows += n
    groups.append(current)
    for group in groups:
        frontier = [(b, root_nodes[j], float(first[b, j])) for b in group for j in torch.nonzero(keep[b]).flatten().tolist()]
        if not frontier:
            continue
        index = torch.tensor([b for b, _, _ in frontier], device=device)
        cache = expand_cache(pre.cache, index, reserve=trie.depth)
        mask, position = pre.attention_mask[index], pre.last_position[index]
        while frontier:
            mask = torch.cat([mask, torch.ones((len(frontier), 1), dtype=torch.long, device=device)], 1)
            position = position + 1
            ids = torch.tensor([trie.token[node] for _, node, _ in frontier], device=device)[:, None]
            out = model(input_ids=ids, attention_mask=mask, position_ids=position[:, None], cache=cache, use_cache=True)
            cache = out.cache
            logp = torch.log_softmax(out.logits[:, -1, :].float(), dim=-1).double()
            end_lp = torch.logsumexp(logp.masked_fill(~end_mask[: logp.shape[-1]], -math.inf), dim=-1).cpu()
            logp = logp.cpu()
            next_frontier, parents = [], []
            for r, (b, node, lp) in enumerate(frontier):
                kids = trie.children[node]
                if trie.owner[node] >= 0:
                    row_end = end_lp[r]
                    overlap = [t for t in kids if t < V and bool(end_mask[t])]
                    if overlap:  # an end token that continues a longer form belongs to that form
                        allowed = end_mask.cpu().clone()
                        allowed[overlap] = False
                        row_end = torch.logsumexp(logp[r].masked_fill(~allowed[: logp.shape[-1]], -math.inf), -1)
                    mass[b, trie.owner[node]] += math.exp(lp + float(row_end))
                for t, child in kids.items():
                    child_lp = lp + float(logp[r, t])
                    if child_lp >= log_prune:
                        next_frontier.append((b, child, child_lp))
                        parents.append(r)
            frontier = next_frontier
            if frontier and parents != list(range(len(mask))):
                select = torch.tensor(parents, device=device)
                cache.batch_select_indices(select)
                mask, position = mask[select], position[select]
        del cache
    return mass
