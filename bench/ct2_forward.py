"""CTranslate2 (a dedicated CPU runtime, wheel ctranslate2==4.8.5) against torch on the prompt forward.

The probing engine's first step is a forward over each prompt giving the next-token distribution
(z_first comes from it; every later step is the same computation on one more token). This
benchmark converts the model's float32 HF folder with ct2's TransformersConverter (int8 weights,
timed once, cached under $MOLLIA_HOME/ct2/), then on the same TREC prompts measures, per prompt,
the CPU time of one forward (batch of ``--batch-size`` prompts) in torch float32 / bfloat16 and
in ct2 float32 / int8 / int8_float32 (``Generator.forward_batch``), and the deviation of the
next-token distribution and of z_first from torch float32 (max |dp| over the vocabulary, argmax
agreement, max |d z_first|).

    python bench/ct2_forward.py --model qwen2.5-coder-0.5b-instruct --texts 16 --threads 1
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    ap.add_argument("--texts", type=int, default=16)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    import ctranslate2
    from benchout import BenchRecord
    from ctranslate2.converters import TransformersConverter

    from mollia.data import load_dataset
    from mollia.models import fetch, load_causal_lm
    from mollia.paths import mollia_home
    from mollia.probes.engine import LabelSequences, pool_for_probing
    from mollia.probes.prompts import render_prompt, user_prompt

    record = BenchRecord("ct2_forward", threads=args.threads)
    folder = Path(fetch(args.model))
    ct2_dir = mollia_home() / "ct2" / f"{args.model}-int8"
    convert_s = None
    if not (ct2_dir / "model.bin").exists():
        t0 = time.process_time()
        TransformersConverter(str(folder)).convert(str(ct2_dir), quantization="int8", force=True)
        convert_s = time.process_time() - t0

    dataset = pool_for_probing(load_dataset("trec"), args.texts)
    labels = list(dataset.label_names)
    model, tokenizer = load_causal_lm(args.model, dtype=torch.float32)
    prompts = [tokenizer.encode(render_prompt(tokenizer, user_prompt("trec", labels, t)), add_special_tokens=False)
               for t in dataset.texts]
    firsts = LabelSequences.build(tokenizer, labels).first_tokens
    batches = [prompts[i:i + args.batch_size] for i in range(0, len(prompts), args.batch_size)]

    def z_first(p: np.ndarray) -> np.ndarray:
        return np.stack([p[:, list(f)].sum(-1) for f in firsts], 1)

    @torch.inference_mode()
    def torch_run(m) -> tuple[np.ndarray, float]:
        out, cpu = [], 0.0
        for batch in batches:  # one prompt at a time inside the batch: no padding question
            t0 = time.process_time()
            for p in batch:
                out.append(torch.softmax(m(torch.tensor([p])).logits[0, -1].float(), -1).double().numpy())
            cpu += time.process_time() - t0
        return np.stack(out), cpu / len(prompts)

    def ct2_run(compute_type: str) -> tuple[np.ndarray, float]:
        gen = ctranslate2.Generator(str(ct2_dir), device="cpu", compute_type=compute_type, intra_threads=args.threads)
        out, cpu = [], 0.0
        for batch in batches:
            tokens = [tokenizer.convert_ids_to_tokens(p) for p in batch]
            t0 = time.process_time()
            logits = np.array(gen.forward_batch(tokens))  # (B, L, V), right padded
            cpu += time.process_time() - t0
            for row, p in enumerate(batch):
                last = torch.as_tensor(logits[row, len(p) - 1]).double()
                out.append(torch.softmax(last, -1).numpy())
        return np.stack(out), cpu / len(prompts)

    results = {"torch float32": torch_run(model)}
    results["torch bfloat16"] = torch_run(model.to(torch.bfloat16))
    del model
    for ct in ("float32", "int8_float32", "int8"):
        results[f"ct2 {ct}"] = ct2_run(ct)

    ref = results["torch float32"][0]
    V = ref.shape[1]
    record.line(f"model {args.model}, {len(prompts)} TREC pool questions (chat-rendered prompts), one forward per "
                f"prompt, torch threads / ct2 intra_threads {args.threads}; ct2 {ctranslate2.__version__}"
                + (f"; int8 conversion {convert_s:.0f} s CPU" if convert_s is not None else ""))
    record.line("")
    record.line("| runtime | CPU s per prompt forward | max abs dp (next token) | argmax agrees | max abs d z_first |")
    record.line("|---|---|---|---|---|")
    for name, (p, cpu) in results.items():
        p = p[:, :V]
        record.line(f"| {name} | {cpu:.3f} | {np.abs(p - ref).max():.4f} | {(p.argmax(1) == ref.argmax(1)).mean():.2f} "
                    f"| {np.abs(z_first(p) - z_first(ref)).max():.4f} |")
    if not args.no_write:
        record.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
