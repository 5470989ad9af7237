"""CPU precision options of the probing engine, side by side on the same TREC questions.

One engine (`mollia.probes.engine.ModelProber`: same prompts, same label-mass z, same seeded
sampler), the model loaded in float32 and then run as is (the reference), in bfloat16, and with
torch's dynamic int8 quantisation of its linear layers (`mollia.models.load.apply_precision`).
Per option: seconds per question, wall clock and this process's CPU time (the machine is shared:
CPU time is the steadier figure; the load average is printed), and the deviation from float32 of
z (max |dz|, argmax agreement), of z_first, and of c (max |dc|, agreement of the vote argmax c,
share of the T samples parsed to the same label).

    python bench/engine_precision.py --model qwen2.5-coder-1.5b-instruct --texts 16 --threads 1 \
        --out bench/out/engine_precision.md
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time

import numpy as np
import torch


def run_option(model_name: str, precision: str, prompts, ids, labels, args):
    from mollia.models import load_causal_lm
    from mollia.models.load import apply_precision
    from mollia.probes.engine import ModelProber, SamplingSettings
    from mollia.probes.prompts import template_for

    model, tokenizer = load_causal_lm(model_name, dtype=torch.float32)
    model = apply_precision(model, precision)
    prober = ModelProber(model, tokenizer, labels, SamplingSettings(T=args.T, max_new_tokens=args.max_new_tokens),
                         prefix_template=template_for("trec"))
    prober.probe(prompts[:1], ids[:1])  # warm-up: first-call allocations and the shared prefix, untimed
    parts = []
    wall = cpu = 0.0
    for start in range(0, len(prompts), args.batch_size):
        chunk = slice(start, start + args.batch_size)
        w0, c0 = time.perf_counter(), time.process_time()
        parts.append(prober.probe(prompts[chunk], ids[chunk]))
        wall += time.perf_counter() - w0
        cpu += time.process_time() - c0
        print(f"  {precision}: {min(len(prompts), start + args.batch_size)}/{len(prompts)} "
              f"({wall / min(len(prompts), start + args.batch_size):.2f} s/question)", file=sys.stderr, flush=True)
    out = {name: np.concatenate([getattr(p, name) for p in parts]) for name in ("z", "z_first", "c", "gen_parsed")}
    del model, prober
    gc.collect()
    return out, wall, cpu


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    ap.add_argument("--texts", type=int, default=16)
    ap.add_argument("--T", type=int, default=10)
    ap.add_argument("--max-new-tokens", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--precisions", default="float32,bfloat16,int8")
    ap.add_argument("--out", default=None, help="also write the table (markdown) here")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    from mollia.data import load_dataset
    from mollia.probes.prompts import user_prompt
    from mollia.probes.engine import pool_for_probing

    dataset = pool_for_probing(load_dataset("trec"), args.texts)
    labels = list(dataset.label_names)
    prompts = [user_prompt("trec", labels, t) for t in dataset.texts]
    ids = dataset.ids.tolist()
    precisions = [p for p in args.precisions.split(",") if p]
    if precisions[0] != "float32":
        precisions.insert(0, "float32")
    results, times = {}, {}
    load_before = os.getloadavg()
    import resource

    peak_gb = {}
    for precision in precisions:
        results[precision], wall, cpu = run_option(args.model, precision, prompts, ids, labels, args)
        times[precision] = (wall / len(prompts), cpu / len(prompts))
        # the process's peak so far (KiB on Linux): after the float32 run (first), float32's own peak
        peak_gb[precision] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    load_after = os.getloadavg()

    ref = results["float32"]
    n, T = len(prompts), args.T
    lines = [
        f"model {args.model}, {n} TREC questions (the pool's first {n}), T={T}, K={len(labels)}, "
        f"max_new_tokens={args.max_new_tokens}, batch {args.batch_size}, torch threads {torch.get_num_threads()}, "
        f"z_prune default; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after (2 cores, shared)",
        "",
        "| precision | wall s/question | CPU s/question | max abs dz | argmax z agrees | max abs dz_first "
        "| max abs dc | argmax c agrees | samples parsed alike |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for precision in precisions:
        r = results[precision]
        wall, cpu = times[precision]
        dz = float(np.abs(r["z"] - ref["z"]).max())
        dzf = float(np.abs(r["z_first"] - ref["z_first"]).max())
        dc = float(np.abs(r["c"] - ref["c"]).max())
        arg_z = float((r["z"].argmax(1) == ref["z"].argmax(1)).mean())
        arg_c = float((r["c"].argmax(1) == ref["c"].argmax(1)).mean())
        alike = float((r["gen_parsed"] == ref["gen_parsed"]).mean())
        lines.append(f"| {precision} | {wall:.2f} | {cpu:.2f} | {dz:.4f} | {arg_z:.2f} | {dzf:.4f} | {dc:.2f} "
                     f"| {arg_c:.2f} | {alike:.2f} |")
    lines += ["", f"peak resident memory of the process after the float32 run (load + probing): "
                  f"{peak_gb['float32']:.1f} GiB"]
    text = "\n".join(lines)
    print(text)
    if args.out:
        from mollia.atomic import write_text

        write_text(args.out, "```\n" + " ".join(["python"] + sys.argv) + "\n```\n\n" + text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
