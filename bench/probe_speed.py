"""Probing speed: the KV-reusing engine vs two yardsticks, on one model and TREC questions.

Naive, per text: HF ``generate(num_return_sequences=T)`` for the T samples (it prefills the
prompt T times) plus the prompt's forward (logits over the full vocabulary at every position) and
one forward per label form on a copy of its cache, one text at a time (`mollia.probes.naive`).
Fair batched: plain transformers calls batched over the engine's batch of texts, no KV reuse: per
label one forward over every text's [prompt + form] rows with ``logits_to_keep`` at the positions
that score the form and its end; one ``generate`` over the left-padded batch, which keeps only the
last position's logits itself (`mollia.probes.naive.batched_z` / ``batched_samples``).
Engine: `mollia.probes.engine.ModelProber` (one prefill per text, batched; label scoring and the
T samples read the prompt's KV cache).

All three run in the same process on the same texts, interleaved batch by batch (engine on a batch,
then the batched yardstick on it, then the naive one text by text), so that load changes on a
shared machine hit them alike. Prints per-text times, both ratios, the thread count, and checks
z: the engine prunes label-form branches below z_prune (`mollia.probes.label_mass`), so its z
is at most the yardsticks' exact sum and below it by at most z_prune per trie node (``--z-prune 0``:
agreement to 1e-4); writes the table to
``bench/out/probe_speed.md`` with the command, threads, date and machine load.

    python bench/probe_speed.py [--model smollm2-135m-instruct] [--texts 16] [--T 10] [--threads 1]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

from benchout import BenchRecord


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--texts", type=int, default=16)
    ap.add_argument("--T", type=int, default=10)
    ap.add_argument("--max-new-tokens", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--z-prune", type=float, default=None, help="engine's z pruning (default: the engine's)")
    ap.add_argument("--no-write", action="store_true", help="print only; do not write bench/out/probe_speed.md")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    record = BenchRecord("probe_speed", threads=args.threads)

    from mollia.data import load_dataset
    from mollia.models import load_causal_lm
    from mollia.probes.engine import Z_PRUNE, ModelProber, SamplingSettings
    from mollia.probes.naive import batched_samples, batched_z, naive_samples, naive_z
    from mollia.probes.prompts import template_for, user_prompt

    dataset = load_dataset("trec").sample(args.texts, seed=args.seed)
    labels = list(dataset.label_names)
    prompts = [user_prompt("trec", labels, t) for t in dataset.texts]
    model, tokenizer = load_causal_lm(args.model)
    z_prune = Z_PRUNE if args.z_prune is None else args.z_prune
    prober = ModelProber(model, tokenizer, labels, SamplingSettings(T=args.T, max_new_tokens=args.max_new_tokens,
                                                                    seed=args.seed, z_prune=z_prune),
                         prefix_template=template_for("trec"))
    ids = dataset.ids.tolist()
    # warm-up (first-call allocations, the once-per-model shared prefix) outside the timings
    prober.probe(prompts[:1], ids[:1])

    t_engine = t_batched = t_naive = 0.0
    max_abs = {"naive": 0.0, "batched": 0.0}
    max_over = max_rel = 0.0
    for start in range(0, len(prompts), args.batch_size):
        chunk = list(range(start, min(len(prompts), start + args.batch_size)))
        t0 = time.perf_counter()
        records = prober.probe([prompts[i] for i in chunk], [ids[i] for i in chunk])
        t_engine += time.perf_counter() - t0
        rendered = [prober.render(prompts[i]) for i in chunk]
        t0 = time.perf_counter()
        z_batch = batched_z(model, rendered, prober.labels, len(labels))
        torch.manual_seed(args.seed + start)  # HF generate samples from the global RNG
        batched_samples(model, tokenizer, rendered, args.T, 0.7, 0.9, args.max_new_tokens)
        t_batched += time.perf_counter() - t0
        max_abs["batched"] = max(max_abs["batched"], float(np.abs(z_batch - records.z).max()))
        for row, i in enumerate(chunk):
            t0 = time.perf_counter()
            z = naive_z(model, rendered[row], prober.labels, len(labels))
            torch.manual_seed(args.seed + i)
            naive_samples(model, tokenizer, rendered[row], args.T, 0.7, 0.9, args.max_new_tokens)
            t_naive += time.perf_counter() - t0
            max_abs["naive"] = max(max_abs["naive"], float(np.abs(z - records.z[row]).max()))
            # pruning only drops branches: the engine's z is at most the exact one
            max_over = max(max_over, float((records.z[row] - z).max()))
            max_rel = max(max_rel, float((np.abs(z - records.z[row]) / np.maximum(z, 1e-30)).max()))
        done = chunk[-1] + 1
        print(f"  {done}/{len(prompts)} texts: engine {t_engine / done:.3f} s/text, batched {t_batched / done:.3f}, "
              f"naive {t_naive / done:.3f}", file=sys.stderr, flush=True)

    n = len(prompts)
    record.line(f"model {args.model}, {n} TREC questions, T={args.T}, K={len(labels)}, "
                f"max_new_tokens={args.max_new_tokens}, batch {args.batch_size}, z_prune {z_prune:g}, "
                f"torch threads {torch.get_num_threads()}")
    record.line()
    record.line("| method | per text (s) | total (s) | engine speed-up |")
    record.line("|---|---|---|---|")
    record.line(f"| naive, one text at a time (generate x T + the prompt's forward with full-vocabulary logits, "
                f"one forward per label form) | {t_naive / n:.3f} | {t_naive:.1f} | {t_naive / t_engine:.1f}x |")
    record.line(f"| fair batched (batch {args.batch_size}: one forward per label over the batch with logits_to_keep "
                f"+ one generate over the batch) | {t_batched / n:.3f} | {t_batched:.1f} | {t_batched / t_engine:.1f}x |")
    record.line(f"| engine (one prefill, KV reuse) | {t_engine / n:.3f} | {t_engine:.1f} | 1.0x |")
    record.line()
    # bound: every pruned branch holds < z_prune, at most one per trie node
    bound = max(1e-4, z_prune * len(prober.labels.trie.token))
    ok = max(max_abs.values()) <= bound and max_over <= 1e-4
    record.line(f"z agreement (z_prune {z_prune:g}): max |engine - naive| = {max_abs['naive']:.2e}, "
                f"max |engine - batched| = {max_abs['batched']:.2e} (bound {bound:.2e}), max relative (naive) "
                f"{max_rel:.2e}, engine above naive by at most {max_over:.2e} -> {'OK' if ok else 'FAIL'}")
    if not args.no_write:
        record.write()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
