"""Negative labels (Eq. 5, delta = 0.001) per label, before and after the label-mass z, on live probes.

For each model and the first n TREC pool questions, from one prefill of each prompt:

- **v1 z** (engine version 1, "before"): max over the label *name*'s casing / leading-space
  variants of P(tokens | prompt), no end condition (`mollia.probes.kv.score_continuations`);
- **z_first**: first-token mass of the name's variants, the paper's released quantity and what
  Eq. 5 reads now (`ProbeTable.z_eq5`, "after");
- **mass z** (engine version 2): the label's whole probability mass (`mollia.probes.label_mass`).

Per label k: the share of items whose label k is negative ("neg") and the share of items *of
class k* whose true label k is negative ("false", the damage: Eq. 5 removes the right answer).
Eq. 5 is applied to each model alone (N = 1) and to the mixture of all models given (a label is
negative when every model puts it below delta).

    python bench/z_rule_negatives.py --models smollm2-135m-instruct,gemma-3-270m,qwen2.5-coder-0.5b-instruct,qwen2.5-coder-1.5b-instruct \
        --n 64 --threads 1          # prints the table and writes bench/out/z_rule_negatives.md
"""

from __future__ import annotations

import argparse
import gc
import sys

import numpy as np
import torch

DELTA = 1e-3


def probe_three_ways(model_name: str, prompts, labels, batch_size: int, precision: str | None):
    from mollia.models import load_causal_lm
    from mollia.models.load import apply_precision
    from mollia.probes import kv
    from mollia.probes.engine import ModelProber, SamplingSettings, resolve_precision
    from mollia.probes.label_mass import label_mass, label_variants
    from mollia.probes.prompts import template_for

    model, tokenizer = load_causal_lm(model_name, dtype=torch.float32)
    model = apply_precision(model, resolve_precision(model_name, "cpu", None, precision))
    prober = ModelProber(model, tokenizer, labels, SamplingSettings(T=1), prefix_template=template_for("trec"))
    # engine version 1's sequences: the label name's variants only
    v1_seqs, v1_owner = [], []
    for k, label in enumerate(labels):
        for text in label_variants(label):
            ids = tuple(tokenizer.encode(text, add_special_tokens=False))
            if ids and ids not in v1_seqs:
                v1_seqs.append(ids)
                v1_owner.append(k)
    owner = torch.tensor(v1_owner)
    out = {"v1 z": [], "z_first": [], "mass z": []}
    for start in range(0, len(prompts), batch_size):
        chunk = prompts[start:start + batch_size]
        pre = kv.prefill(model, [prober.render(p) for p in chunk], prober.pad_id, prober.shared_prefix())
        seq_lp = kv.score_continuations(model, pre, v1_seqs).double().cpu()
        v1 = torch.full((len(chunk), len(labels)), -torch.inf, dtype=torch.float64)
        out["v1 z"].append(v1.scatter_reduce(1, owner[None].expand_as(seq_lp), seq_lp, reduce="amax").exp().numpy())
        p = pre.next_logprobs.double().exp().cpu()
        out["z_first"].append(np.stack([p[:, list(f)].sum(-1).numpy() for f in prober.labels.first_tokens], 1))
        out["mass z"].append(label_mass(model, pre, prober.labels.trie, prober.labels.end_ids, len(labels)).numpy())
        print(f"  {model_name}: {min(len(prompts), start + batch_size)}/{len(prompts)}", file=sys.stderr, flush=True)
    del model, prober
    gc.collect()
    return {k: np.concatenate(v) for k, v in out.items()}


def per_label_rows(name: str, z_by_rule: dict, truth: np.ndarray, labels) -> list[str]:
    rows = []
    for rule, z in z_by_rule.items():  # z: (n, N, K)
        neg = (z < DELTA).all(axis=1)
        cells = []
        for k in range(len(labels)):
            of_k = truth == k
            false = neg[of_k, k].mean() if of_k.any() else float("nan")
            cells.append(f"{neg[:, k].mean():.2f} / {false:.2f}")
        rows.append(f"| {name} | {rule} | " + " | ".join(cells) + f" | {neg.sum(1).mean():.2f} |")
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="smollm2-135m-instruct,gemma-3-270m,qwen2.5-coder-0.5b-instruct")
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--precision", default=None, help="CPU precision (default: each model's registry default)")
    ap.add_argument("--no-write", action="store_true", help="print only (no bench/out/z_rule_negatives.md)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    from benchout import BenchRecord

    record = BenchRecord("z_rule_negatives", threads=args.threads)

    from mollia.data import load_dataset
    from mollia.probes.engine import pool_for_probing
    from mollia.probes.prompts import user_prompt

    dataset = pool_for_probing(load_dataset("trec"), args.n)
    labels = list(dataset.label_names)
    truth = dataset.frame["label"].to_numpy()
    prompts = [user_prompt("trec", labels, t) for t in dataset.texts]
    models = [m for m in args.models.split(",") if m]
    per_model = {m: probe_three_ways(m, prompts, labels, args.batch_size, args.precision) for m in models}

    lines = [f"first {len(prompts)} TREC pool questions, delta = {DELTA}, torch threads {torch.get_num_threads()}; "
             "cell = share of items with label k negative / share of items of class k whose true label is negative",
             "", "| models | z used by Eq. 5 | " + " | ".join(labels) + " | negatives per item |",
             "|---|---|" + "---|" * len(labels) + "---|"]
    for m in models:
        lines += per_label_rows(m, {r: z[:, None, :] for r, z in per_model[m].items()}, truth, labels)
    if len(models) > 1:
        mix = {r: np.stack([per_model[m][r] for m in models], 1) for r in per_model[models[0]]}
        lines += per_label_rows(f"mixture of {len(models)} (all below delta)", mix, truth, labels)
    for line in lines:
        record.line(line)
    if not args.no_write:
        record.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
