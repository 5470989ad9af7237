"""The probing engine: z (Eq. 1) and c (Eq. 2-3) of each model of a mixture, fast, cached, resumable.

For a model and a text with K candidate labels:

- **z** (Eq. 1): the probability *mass* of the label: the sum over its surface forms (its name and
  the parser's synonyms, in their casing / leading-space variants) of P(form, then an end of
  answer | prompt); see `mollia.probes.label_mass` for the exact rule, the end-of-answer tokens
  and the pruning bound (``z_prune``). z is not renormalised; ``renormalise=True`` divides by its
  sum over the K labels. (Engine version 1 took the *max* over the name's variants of
  P(tokens), without synonyms nor an end condition: biased against multi-token labels.)
- **z_first**: the first-token probabilities merged onto labels, as the paper's released features:
  ``z_first[k] = sum of P(t | prompt)`` over the distinct first tokens t of the variants of label
  k's *name*. This is the quantity whose scale the paper's negative-label threshold delta = 0.001
  (Eq. 5) was set on, so Eq. 5 reads z_first wherever a table has it (`ProbeTable.z_eq5`).
- **c** (Eq. 2-3): T generations sampled with ``temperature`` and ``top_p`` (at most
  ``max_new_tokens`` tokens each), each parsed by `mollia.probes.parser.parse_answer`;
  ``c[k]`` = share of the T samples naming label k (invalid answers count for none, so c sums to
  <= 1). The raw generations are kept (``ProbeTable.generations``).

Speed: one prefill per text (texts batched, left padded), over the KV cache of the token prefix
that all prompts share (system turn and template up to the text), computed once per model; label
scoring and the T samples both read the prompt's KV cache, and samples that agree so far share a
row (`mollia.probes.kv`). A model is loaded once per `probe_dataset` call
and only if some item is not cached yet.

Determinism: every item's samples use a `torch.Generator` seeded from ``(seed, item id)``, never
a global RNG; batches are cut at fixed positions of the work list, so a resumed run recomputes
exactly the batches an uninterrupted run would have, and gives identical numbers.
"""

from __future__ import annotations

import gc
import hashlib
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
import torch

from mollia.data.dataset import Dataset
from mollia.errors import DataError, MolliaError
from mollia.probes import kv
from mollia.probes.cache import ProbeCache, ProbeKey, ProbeRecords, id_key, text_digest
from mollia.probes.label_mass import LabelTrie, end_token_ids, label_forms, label_mass, label_variants
from mollia.probes.table import ProbeTable

ENGINE_VERSION = 2  # 2: z is the label's mass over forms with an end-of-answer condition (was: max over variants)
Z_PRUNE = 1e-4
Z_RULE = ("mass: sum over the label's forms (name + parser synonyms that parse back to it) x {as given, lower, "
          "Capitalised, Title} x {no space, one leading space} of P(form tokens, then an end-of-answer token | prompt); "
          "branches below z_prune dropped; not renormalised unless 'renormalised' is true")
Z_FIRST_RULE = "sum of P(first token | prompt) over the distinct first tokens of the label name's variants"


# -- labels ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LabelSequences:
    """What a tokenizer makes of a label set: the token sequences of every label's forms (z), the
    first tokens of its name's variants (z_first) and the end-of-answer tokens."""

    sequences: tuple[tuple[int, ...], ...]
    owner: tuple[int, ...]  # label index of each sequence
    first_tokens: tuple[tuple[int, ...], ...]  # per label, the distinct first tokens of its name's variants
    end_ids: tuple[int, ...] = ()
    trie: LabelTrie | None = None

    @classmethod
    def build(cls, tokenizer, label_names: Sequence[str], eos_ids: Sequence[int] = ()) -> "LabelSequences":
        def encode(text: str) -> tuple[int, ...]:
            return tuple(tokenizer.encode(text, add_special_tokens=False))

        sequences, owner, firsts = [], [], []
        for k, (label, forms) in enumerate(zip(label_names, label_forms(label_names))):
            name_seqs = [ids for ids in map(encode, label_variants(label)) if ids]
            if not name_seqs:
                raise DataError(f"label {label!r} tokenizes to nothing")
            firsts.append(tuple(dict.fromkeys(s[0] for s in name_seqs)))
            for form in forms:
                for ids in map(encode, label_variants(form)):
                    if ids and ids not in sequences:
                        sequences.append(ids)
                        owner.append(k)
        trie = LabelTrie.build(sequences, owner)
        return cls(tuple(sequences), tuple(owner), tuple(firsts), end_token_ids(tokenizer, eos_ids), trie)


# -- prompts -----------------------------------------------------------------------------------
def prompt_token_ids(tokenizer, rendered: str) -> list[int]:
    """Token ids of a rendered prompt. A chat-template rendering already holds the model's BOS
    where it wants one (no special tokens added); a plain base-model prompt gets the tokenizer's
    default special tokens (e.g. Gemma's <bos>)."""
    from mollia.probes.prompts import has_chat_template

    return list(tokenizer.encode(rendered, add_special_tokens=not has_chat_template(tokenizer)))


def item_seed(seed: int, item_id: Any) -> int:
    """A 63-bit seed for one item, from the run seed and the item's id (not its position)."""
    if isinstance(item_id, np.generic):
        item_id = item_id.item()
    digest = hashlib.sha256(f"{int(seed)}|{item_id!r}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def eos_token_ids(model, tokenizer) -> list[int]:
    ids: list[int] = []
    for source in (getattr(getattr(model, "generation_config", None), "eos_token_id", None), tokenizer.eos_token_id):
        if source is None:
            continue
        ids += list(source) if isinstance(source, (list, tuple)) else [int(source)]
    return sorted(set(ids))


# -- one model ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SamplingSettings:
    T: int = 10
    temperature: float = 0.7
    top_p: float = 0.9
    max_new_tokens: int = 8
    seed: int = 0
    z_prune: float = Z_PRUNE

    def validate(self) -> "SamplingSettings":
        if int(self.T) < 1:
            raise DataError(f"T must be >= 1, got {self.T}")
        if self.temperature < 0:
            raise DataError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise DataError(f"top_p must be in (0, 1], got {self.top_p}")
        if int(self.max_new_tokens) < 1:
            raise DataError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if not 0 <= self.z_prune < 1:
            raise DataError(f"z_prune must be in [0, 1), got {self.z_prune}")
        return self


class ModelProber:
    """Probes texts with one loaded causal LM (transformers backend, CPU or GPU).

    ``probe(prompts, item_ids)`` -> `ProbeRecords` for a batch of already filled user prompts.
    """

    def __init__(self, model, tokenizer, label_names: Sequence[str], settings: SamplingSettings,
                 max_rows: int = 64, prefix_template: str | None = None):
        self.model, self.tokenizer = model, tokenizer
        self.prefix_template = prefix_template
        self._prefix: kv.SharedPrefix | None = None
        self.label_names = tuple(label_names)
        self.settings = settings.validate()
        self.max_rows = max_rows
        self.eos_ids = eos_token_ids(model, tokenizer)
        self.labels = LabelSequences.build(tokenizer, self.label_names, self.eos_ids)
        pad = tokenizer.pad_token_id
        self.pad_id = int(pad if pad is not None else (self.eos_ids[0] if self.eos_ids else 0))

    def render(self, user_prompt: str) -> list[int]:
        from mollia.probes.prompts import render_prompt

        return prompt_token_ids(self.tokenizer, render_prompt(self.tokenizer, user_prompt))

    def shared_prefix(self) -> kv.SharedPrefix | None:
        """The KV cache of the tokens every prompt of ``prefix_template`` starts with: the common
        token prefix of two renderings with different texts, less its last token (a tokenizer may
        merge that one with the text). Depends on the template only, never on the items."""
        if self._prefix is None and self.prefix_template is not None:
            from mollia.probes.prompts import fill_template

            a, b = (self.render(fill_template(self.prefix_template, self.label_names, t)) for t in ("Alpha", "Zulu"))
            n = 0
            while n < min(len(a), len(b)) and a[n] == b[n]:
                n += 1
            self._prefix = kv.compute_prefix(self.model, a[: n - 1]) if n > 2 else None
        return self._prefix

    def probe(self, user_prompts: Sequence[str], item_ids: Sequence[Any]) -> ProbeRecords:
        from mollia.probes.parser import parse_answer

        s = self.settings
        K = len(self.label_names)
        pre = kv.prefill(self.model, [self.render(p) for p in user_prompts], self.pad_id, self.shared_prefix())
        z = label_mass(self.model, pre, self.labels.trie, self.labels.end_ids, K, s.z_prune, self.max_rows).numpy()
        next_p = pre.next_logprobs.double().exp().cpu()
        z_first = np.stack([next_p[:, list(firsts)].sum(-1).numpy() for firsts in self.labels.first_tokens], axis=1)

        uniforms = torch.stack([
            torch.rand((s.max_new_tokens, s.T), generator=torch.Generator().manual_seed(item_seed(s.seed, i)),
                       dtype=torch.float64)
            for i in item_ids
        ])
        samples = kv.sample_continuations(self.model, pre, uniforms, s.temperature, s.top_p, s.max_new_tokens,
                                          self.eos_ids, self.pad_id, self.max_rows)
        del pre
        texts = np.array([[self.tokenizer.decode(t, skip_special_tokens=True) for t in row] for row in samples],
                         dtype=str).reshape(len(user_prompts), s.T)
        parsed = np.array([[parse_answer(t, list(self.label_names)) for t in row] for row in texts],
                          dtype=np.int64).reshape(len(user_prompts), s.T)
        c = np.stack([(parsed == k).mean(axis=1) for k in range(K)], axis=1).astype(np.float64)
        return ProbeRecords(item_ids=np.asarray(list(item_ids)), text_sha=np.array([text_digest(p) for p in user_prompts]),
                            z=z, z_first=z_first, c=c, gen_text=texts, gen_parsed=parsed)


# -- many models, one dataset -------------------------------------------------------------------
def truncate_text(text: str, max_tokens: int | None) -> str:
    """``text`` cut to its first ``max_tokens`` whitespace-separated tokens, " ..." marking a cut.

    Tokens here are words, not a model's sub-word tokens: every LLM of a mixture then sees the same
    text, and the cut is known before any model is loaded (a word is 1-2 sub-word tokens in English).
    """
    if max_tokens is None:
        return text
    words = text.split()
    return text if len(words) <= max_tokens else " ".join(words[:max_tokens]) + " ..."


@dataclass(frozen=True)
class ProbeEstimate:
    """What a probing run will cost, from a short warm-up on its first model (see `probe_dataset`)."""

    items: int  # items still to probe, summed over the models
    models: int  # models with items to probe
    seconds_per_item: float  # measured on the warm-up batch of ``measured_on``
    measured_on: str
    warmup_items: int

    @property
    def seconds(self) -> float:
        return max(0, self.items - self.warmup_items) * self.seconds_per_item

    def line(self) -> str:
        minutes = self.seconds / 60
        return (f"estimate: {self.items} item-probes to do ({self.models} model(s)) x {self.seconds_per_item:.2f} s/item "
                f"(measured on {self.warmup_items} items of {self.measured_on}; other models may differ) = "
                f"{minutes:.1f} min more" + (f" (~{minutes / 60:.1f} h)" if minutes >= 90 else ""))


class ProbeCancelled(MolliaError):
    """The caller declined the estimated cost; the warm-up's probes are cached."""


def select_items(dataset: Dataset, n: int | None) -> Dataset:
    """The items to probe: the first ``n`` rows of ``dataset`` as given (all when ``n`` is None).

    Pass the AL pool (``dataset.sample(pool_size, seed)``) to probe the pool's first n items;
    since `Dataset.sample` keeps the first n of one permutation, the first n of a larger pool
    sample is the pool sample of size n.
    """
    if n is None:
        return dataset
    n = int(n)
    if n < 1:
        raise DataError(f"n must be >= 1, got {n}")
    if n > len(dataset):
        raise DataError(f"dataset {dataset.name!r}: asked to probe {n} items, it has {len(dataset)}")
    return Dataset(dataset.name, dataset.label_names, dataset.frame.iloc[:n].reset_index(drop=True), dataset.source)


POOL_SEED = 666  # the paper's sampling seed; for trec it orders items exactly as the released rows


def pool_for_probing(dataset: Dataset, n: int | None, seed: int = POOL_SEED, split: str = "train") -> Dataset:
    """The first ``n`` items of ``split`` shuffled with ``seed`` (`Dataset.sample`); all of it for n None/0."""
    if n is not None and (isinstance(n, bool) or int(n) != n or n < 0):
        raise DataError(f"n must be a whole number >= 1 (0 or None: the whole {split} split), got {n!r}")
    size = dataset.split_sizes()[split] if not n else int(n)
    return dataset.sample(size, seed=seed, split=split)


def resolve_precision(model_name: str, device: str, quantization: str | None, precision: str | None) -> str:
    """The precision a model is probed in (part of the cache key): the bitsandbytes ``quantization``
    on a GPU, else bfloat16 on a GPU; on CPU ``precision`` if given, else the registry's default
    for the model (`ModelSpec.cpu_precision`; float32 for names the registry does not know)."""
    from mollia.models.load import CPU_PRECISIONS
    from mollia.models.registry import MODELS

    if str(device).startswith("cuda"):
        if precision not in (None, "bfloat16"):
            raise DataError(f"precision {precision!r} is a CPU option; on a GPU use quantization='4bit'/'8bit'")
        return str(quantization) if quantization else "bfloat16"
    if quantization:
        raise DataError(f"quantization={quantization!r} needs a CUDA GPU; on CPU use precision= one of {CPU_PRECISIONS}")
    if precision is None:
        spec = MODELS.get(model_name)
        precision = spec.cpu_precision if spec is not None else "float32"
    if precision not in CPU_PRECISIONS:
        raise DataError(f"unknown CPU precision {precision!r}; use one of {', '.join(CPU_PRECISIONS)}")
    return precision


def probe_dataset(
    dataset: Dataset,
    models: Sequence[str],
    n: int | None = None,
    T: int = 10,
    temperature: float = 0.7,
    top_p: float = 0.9,
    max_new_tokens: int = 8,
    seed: int = 0,
    batch_size: int = 8,
    renormalise: bool = False,
    cache_dir=None,
    device: str = "cpu",
    quantization: str | None = None,
    *,
    template: str | None = None,
    progress: bool = True,
    on_batch: Callable[[str, int], None] | None = None,
    max_rows: int = 64,
    loader: Callable[..., tuple[Any, Any]] | None = None,
    precision: str | None = None,
    z_prune: float = Z_PRUNE,
    only_cached: bool = False,
    max_text_tokens: int | None = None,
    confirm: Callable[[ProbeEstimate], bool] | None = None,
) -> ProbeTable:
    """Probe the first ``n`` items of ``dataset`` (see `select_items`) with each of ``models``.

    Results are cached per model under ``cache_dir`` (default ``results_root()/"probes"``, see
    `mollia.probes.cache`), one shard per finished batch: a second call reads them back without
    loading the model, an interrupted call resumes after its last finished batch. ``on_batch(model,
    n_done)`` is called after each batch is safely written (progress hooks, tests). ``loader(name,
    device=, dtype=, quantization=) -> (model, tokenizer)`` defaults to
    `mollia.models.load_causal_lm`; ``max_rows`` caps the rows of one expanded-cache forward.

    ``device`` "cuda..." loads the model in bfloat16; ``quantization`` "4bit"/"8bit" loads it
    through bitsandbytes (GPU only). On CPU, ``precision`` "float32", "bfloat16" or "int8" (torch
    dynamic quantisation of the linear layers, `mollia.models.load.apply_precision`); None takes
    the registry's default for each model (see `resolve_precision`; bench/engine_precision.py
    measures what each costs and how far it moves z and c). ``z_prune``: see
    `mollia.probes.label_mass` (0 scores every label form exactly). ``only_cached``: load no model,
    return the longest prefix of the items that every model already has in the cache (what a
    still-running or stopped probing run has finished). Returns a `ProbeTable` with z, z_first, c
    and generations, models in the order given, items in dataset order.

    ``max_text_tokens`` cuts each text to its first N whitespace-separated tokens (`truncate_text`);
    N is part of the cache key. ``confirm(estimate)``: when items are left to probe, the first such
    model probes one warm-up batch (cached like any other), then ``confirm`` gets a `ProbeEstimate`
    (items x measured s/item) and returns whether to go on; False raises `ProbeCancelled`.
    """
    from mollia.probes.prompts import prompt_hash, template_for, user_prompt

    if isinstance(models, str):
        models = [m for m in models.split(",") if m]
    models = list(models)
    if not models:
        raise DataError("probe_dataset needs at least one model")
    if len(set(models)) != len(models):
        raise DataError(f"duplicate model names in {models}")
    if int(batch_size) < 1:
        raise DataError(f"batch_size must be >= 1, got {batch_size}")
    if max_text_tokens is not None and (isinstance(max_text_tokens, bool) or int(max_text_tokens) < 1):
        raise DataError(f"max_text_tokens must be >= 1 (or None for whole texts), got {max_text_tokens!r}")
    max_text_tokens = None if max_text_tokens is None else int(max_text_tokens)
    settings = SamplingSettings(int(T), float(temperature), float(top_p), int(max_new_tokens), int(seed),
                                float(z_prune)).validate()
    items = select_items(dataset, n)
    label_names = list(items.label_names)
    template_text = template if template is not None else template_for(items.name)
    prompts = [user_prompt(items.name, label_names, truncate_text(t, max_text_tokens), template_text)
               for t in items.texts]
    ids = items.ids
    digests = np.array([text_digest(p) for p in prompts])

    n_items = len(ids)
    caches, todos = {}, {}
    for model_name in models:  # every cache read (and checked) before any model is loaded
        key = ProbeKey(dataset=items.name, model=model_name, prompt_hash=prompt_hash(template_text),
                       label_names=tuple(label_names), T=settings.T, temperature=settings.temperature,
                       top_p=settings.top_p, max_new_tokens=settings.max_new_tokens, seed=settings.seed,
                       precision=resolve_precision(model_name, device, quantization, precision),
                       engine_version=ENGINE_VERSION, z_prune=settings.z_prune, max_text_tokens=max_text_tokens)
        cache = ProbeCache(key, cache_dir)
        have = cache.load()
        have.check_texts(ids, digests, cache.folder)
        index = have.index
        caches[model_name] = (cache, have)
        todos[model_name] = [i for i, item in enumerate(ids.tolist()) if id_key(item) not in index]
    warmup = None
    if confirm is not None and not only_cached and any(todos.values()):
        warmup = _warmup_hook(todos, confirm)

    per_model_records, per_model_meta = [], {}
    for model_name in models:
        cache, have = caches[model_name]
        todo = todos[model_name]
        started = time.perf_counter()
        if todo and only_cached:
            n_items = min(n_items, todo[0])
        elif todo:
            _probe_missing(model_name, cache, prompts, ids, todo, settings, int(batch_size), device, quantization,
                           progress, on_batch, max_rows, loader, template_text, warmup)
            warmup = None  # only the first model's first batch is the warm-up
            have = cache.load()
            cache.compact()
        per_model_records.append(have)
        per_model_meta[model_name] = dict(cache.key.as_dict(), source="transformers", device=str(device),
                                          cache=str(cache.folder), z_rule=Z_RULE, z_first_rule=Z_FIRST_RULE,
                                          renormalised=bool(renormalise),
                                          computed_items=0 if only_cached else len(todo),
                                          wall_s=round(time.perf_counter() - started, 3))
    if n_items == 0:
        raise DataError(f"{items.name}: the cache has no item that every model of {models} finished "
                        f"(settings {cache.key.folder_name()} under {cache.root})")
    ids = ids[:n_items]
    per_model_records = [have.take(ids) for have in per_model_records]
    generation_frames = [r.generations_frame(m) for r, m in zip(per_model_records, models)]

    z = np.stack([r.z for r in per_model_records], axis=1)
    if renormalise:
        z = z / np.maximum(z.sum(axis=-1, keepdims=True), np.finfo(np.float64).tiny)
    return ProbeTable(
        dataset=items.name, label_names=tuple(label_names), models=tuple(models), item_ids=ids,
        z=z, c=np.stack([r.c for r in per_model_records], axis=1),
        z_first=np.stack([r.z_first for r in per_model_records], axis=1),
        per_model=per_model_meta, generations=pd.concat(generation_frames, ignore_index=True),
    )


def _warmup_hook(todos: dict[str, list[int]], confirm: Callable[[ProbeEstimate], bool]):
    """``after_first_batch(model, n_items, seconds)``: build the estimate, ask ``confirm``."""

    def after_first_batch(model_name: str, n_items: int, seconds: float) -> None:
        estimate = ProbeEstimate(items=sum(len(t) for t in todos.values()), models=sum(1 for t in todos.values() if t),
                                 seconds_per_item=seconds / max(1, n_items), measured_on=model_name,
                                 warmup_items=n_items)
        if not confirm(estimate):
            raise ProbeCancelled(f"probing cancelled after the warm-up ({estimate.line()}); the {n_items} warm-up "
                                 "items are cached and will not be probed again")

    return after_first_batch


def _probe_missing(model_name, cache, prompts, ids, todo, settings, batch_size, device, quantization, progress,
                   on_batch, max_rows, loader, template_text, after_first_batch=None) -> None:
    from tqdm.auto import tqdm

    if loader is None:
        from mollia.models import load_causal_lm as loader

    from mollia.models.load import apply_precision

    on_gpu = str(device).startswith("cuda")
    dtype = torch.bfloat16 if on_gpu and not quantization else (None if on_gpu else torch.float32)
    model, tokenizer = loader(model_name, device=device, dtype=dtype, quantization=quantization)
    if not on_gpu:
        model = apply_precision(model, cache.key.precision)
    model.eval()
    try:
        prober = ModelProber(model, tokenizer, cache.key.label_names, settings, max_rows=max_rows,
                             prefix_template=template_text)
        bar = tqdm(total=len(ids), initial=len(ids) - len(todo), desc=model_name, unit="text", disable=not progress)
        done = len(ids) - len(todo)
        for start in range(0, len(todo), batch_size):
            chunk = todo[start:start + batch_size]
            t0 = time.perf_counter()
            records = prober.probe([prompts[i] for i in chunk], ids[chunk].tolist())
            seconds = time.perf_counter() - t0
            cache.write_shard(records)
            done += len(chunk)
            bar.update(len(chunk))
            if on_batch is not None:
                on_batch(model_name, done)
            if after_first_batch is not None:
                bar.clear()
                after_first_batch(model_name, len(chunk), seconds)
                after_first_batch = None
        bar.close()
    finally:
        del model
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
