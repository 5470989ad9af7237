"""Table 2 on the paper's released probe arrays (ag_news, imdb, trec): every method, 5 seeds, 1 thread.

The same protocol as ``mollia table2`` (`mollia.study.protocol.evaluate`: per seed 50 random
labelled items, accuracy on all the others); one row per method, one column per dataset, mean ± std
over the seeds with the paper's value in brackets. Writes ``bench/out/table2_released.md`` (the
table the README quotes) and, per dataset, ``bench/out/table2_released_<dataset>.json`` (every
seed's accuracy). A dataset whose JSON is already there with the same methods and seeds is not
recomputed (so a killed run resumes at the next dataset; datasets can run as parallel processes,
``--datasets X --out DIR``, and be combined by copying their JSON here); the table says which.

    OMP_NUM_THREADS=1 nice -n 10 python bench/table2_released.py --probes /work/shared/paper/probes --seeds 5
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

from benchout import OUT_DIR, BenchRecord

PAPER_LLMS = ("gemma", "llama", "mistral", "qwen", "yi")
METHODS = (*(f"llm:{m}" for m in PAPER_LLMS), *(f"llm-vote:{m}" for m in PAPER_LLMS), "llms-v", "llms-l",
           "ck-mv", "ck-ds", "ck-ds-seeded", "fixmatch", "snail", "mol", "molam", "stack", "stack-pl")
DATASETS = ("ag_news", "imdb", "trec")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--probes", default=os.environ.get("MOLLIA_PAPER_PROBES", "../shared/paper/probes"),
                    help="folder of the released *_meta_x.npy / *_meta_y.npy arrays")
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS))
    ap.add_argument("--methods", nargs="+", default=list(METHODS))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(OUT_DIR))
    args = ap.parse_args(argv)
    record = BenchRecord("table2_released", threads=args.threads)  # the commit and load at the start
    import torch

    torch.set_num_threads(args.threads)
    from mollia.study.probes_truth import load_probes_and_truth
    from mollia.study.protocol import evaluate
    from mollia.study.paper import TABLE2, paper_value
    from mollia.annotators.registry import accepted_params
    from mollia.atomic import write_json

    out = Path(args.out)
    results: dict[str, dict] = {}
    reused: list[str] = []
    for dataset in args.datasets:
        path = out / f"table2_released_{dataset}.json"
        if path.exists():
            saved = json.loads(path.read_text())
            if sorted(saved) == sorted(args.methods) and all(len(r.get("per_seed", [])) == args.seeds
                                                             for r in saved.values() if r.get("mean") is not None):
                print(f"{dataset}: reusing {path}", file=sys.stderr)
                written = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.timezone.utc)
                reused.append(f"{dataset} from {path.name} (written {written:%Y-%m-%d %H:%M} UTC; its run's own "
                              f"header is in table2_released_{dataset}.md where present)")
                results[dataset] = saved
                continue
        table, truth, _ = load_probes_and_truth(args.probes, dataset, texts=False)
        params = {m: {"n_jobs": args.threads} for m in args.methods if "n_jobs" in accepted_params(m)}
        results[dataset] = evaluate(table, truth, args.methods, seeds=args.seeds, n_labelled=50, method_params=params)
        write_json(path, results[dataset])

    record.line(f"Table 2 on the paper's released probe arrays ({args.probes}): annotation accuracy on the items "
                f"outside each seed's 50 labelled ones, mean ± std over seeds 0..{args.seeds - 1}; the paper's "
                "value in brackets. `llm:` = argmax of the released z, `llm-vote:` = argmax of the votes c.")
    if reused:
        record.line()
        record.line("Not recomputed by this command, read back: " + "; ".join(reused) + ".")
    record.line()
    record.line("| method | " + " | ".join(args.datasets) + " |")
    record.line("|---|" + "---|" * len(args.datasets))
    for method in args.methods:
        cells = []
        for dataset in args.datasets:
            r = results[dataset][method]
            if r.get("mean") is None:
                cells.append("— " + r.get("skipped", ""))
                continue
            paper = paper_value(TABLE2, method, dataset)
            cells.append(f"{r['mean']:.3f} ± {r['std']:.3f}" + ("" if paper is None else f" ({paper:.3f})"))
        record.line(f"| {method} | " + " | ".join(cells) + " |")
    record.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
