"""Probing speed: the KV-reusing engine vs the naive way, on one model and TREC questions.

Naive, per text: HF ``generate(num_return_sequences=T)`` for the T samples (it prefills the
prompt T times) plus one full forward per label over prompt + label (the label's casing/space
variants batched in that forward), no cache reuse (`mollia.probes.naive`).
Engine: `mollia.probes.engine.ModelProber` (one prefill per text, batched; label scoring and the
T samples read the prompt's KV cache).

Both run in the same process on the same texts, interleaved batch by batch (engine on a batch of
texts, then naive on the same texts), so that load changes on a shared machine hit both alike.
Prints per-text times, the ratio, the thread count, and checks z: the engine prunes label-form
branches below z_prune (`mollia.probes.label_mass`), so its z is at most the naive exact sum and
below it by at most z_prune per trie node (``--z-prune 0``: agreement to 1e-4).

    python bench/probe_speed.py [--model smollm2-135m-instruct] [--texts 32] [--T 10] [--threads 1]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--texts", type=int, default=32)
    ap.add_argument("--T", type=int, default=10)
    ap.add_argument("--max-new-tokens", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--z-prune", type=float, default=None, help="engine's z pruning (default: the engine's)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    from mollia.data import load_dataset
    from mollia.models import load_causal_lm
    from mollia.probes.engine import Z_PRUNE, ModelProber, SamplingSettings
    from mollia.probes.naive import naive_samples, naive_z
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

    t_engine = t_naive = 0.0
    max_abs = max_rel = max_over = 0.0
    for start in range(0, len(prompts), args.batch_size):
        chunk = list(range(start, min(len(prompts), start + args.batch_size)))
        t0 = time.perf_counter()
        records = prober.probe([prompts[i] for i in chunk], [ids[i] for i in chunk])
        t_engine += time.perf_counter() - t0
        for row, i in enumerate(chunk):
            t0 = time.perf_counter()
            prompt_ids = prober.render(prompts[i])
            z = naive_z(model, prompt_ids, prober.labels, len(labels))
            torch.manual_seed(args.seed + i)  # HF generate samples from the global RNG
            naive_samples(model, tokenizer, prompt_ids, args.T, 0.7, 0.9, args.max_new_tokens)
            t_naive += time.perf_counter() - t0
            max_abs = max(max_abs, float(np.abs(z - records.z[row]).max()))
            # pruning only drops branches: the engine's z is at most the exact one
            max_over = max(max_over, float((records.z[row] - z).max()))
            max_rel = max(max_rel, float((np.abs(z - records.z[row]) / np.maximum(z, 1e-30)).max()))
        print(f"  {chunk[-1] + 1}/{len(prompts)} texts: engine {t_engine / (chunk[-1] + 1):.3f} s/text, "
              f"naive {t_naive / (chunk[-1] + 1):.3f} s/text", file=sys.stderr, flush=True)

    n = len(prompts)
    ratio = t_naive / t_engine
    print(f"model {args.model}, {n} TREC questions, T={args.T}, K={len(labels)}, max_new_tokens={args.max_new_tokens}, "
          f"batch {args.batch_size}, torch threads {torch.get_num_threads()}")
    print("| method | per text (s) | total (s) |")
    print("|---|---|---|")
    print(f"| naive (generate x T + forward per label) | {t_naive / n:.3f} | {t_naive:.1f} |")
    print(f"| engine (one prefill, KV reuse) | {t_engine / n:.3f} | {t_engine:.1f} |")
    print(f"speed-up: {ratio:.1f}x (target >= 10x)")
    # bound: every pruned branch holds < z_prune, at most one per trie node
    bound = max(1e-4, z_prune * len(prober.labels.trie.token))
    ok = max_abs <= bound and max_over <= 1e-4
    print(f"z agreement (z_prune {z_prune:g}): max |engine - naive| = {max_abs:.2e} (bound {bound:.2e}), "
          f"max relative {max_rel:.2e}, engine above naive by at most {max_over:.2e} -> {'OK' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
