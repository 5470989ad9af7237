"""What the committed live probes of the offline LLMs are worth (issue 15's goals), as one table per dataset.

Per model: zero-shot accuracy of argmax z and of argmax c, the share of invalid samples, the share of items
with all T samples invalid, and the ECE of z (`mollia.study.probing.accuracy_table`). Then Table 2 on the
same probes (`mollia.study.protocol.evaluate`, the `mollia table2` protocol: n labelled items per seed,
accuracy on the rest, mean +- std over seeds).

    OMP_NUM_THREADS=1 python bench/live_probes_report.py --datasets trec,rotten_tomatoes --n-labelled 50 \
        --seeds 5 --out live_probes_report
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

METHODS = ("llm-l:qwen2.5-coder-1.5b-instruct,llm-l:qwen2.5-coder-0.5b-instruct,llm-l:gemma-3-270m,"
           "llm-l:smollm2-135m-instruct,llm-v:qwen2.5-coder-1.5b-instruct,llms-v,llms-l,ck-mv,ck-ds,mol,molam,"
           "stack,stack-pl")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--probes", default=None, help="folder of probe tables (default: mollia/data/live_probes)")
    ap.add_argument("--datasets", default="trec,rotten_tomatoes")
    ap.add_argument("--methods", default=METHODS)
    ap.add_argument("--n-labelled", type=int, default=50)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None, help="also write bench/out/<OUT>.md")
    args = ap.parse_args(argv)

    import torch

    from benchout import BenchRecord
    from mollia.probes.replay import LIVE_PROBES_DIR
    from mollia.study.annotation import format_table2
    from mollia.study.probes_truth import load_probes_and_truth
    from mollia.study.probing import accuracy_table
    from mollia.study.protocol import evaluate

    torch.set_num_threads(args.threads)
    probes = args.probes or str(LIVE_PROBES_DIR)
    methods = [m for m in args.methods.split(",") if m]
    record = BenchRecord(args.out or "live_probes_report", threads=args.threads)
    for dataset in [d for d in args.datasets.split(",") if d]:
        table, truth, _ = load_probes_and_truth(probes, dataset, texts=False)
        record.line(f"## {dataset}: {len(table)} probed pool items, models {', '.join(table.models)}")
        record.line("")
        acc = accuracy_table(table, truth)
        record.line("| model | acc. argmax z | acc. argmax c | invalid samples | items with all T invalid | ECE of z |")
        record.line("|---|---|---|---|---|---|")
        for model, row in acc.iterrows():
            record.line(f"| {model} | {row.accuracy_z:.3f} | {row.accuracy_c:.3f} | {row.invalid_share:.3f} | "
                        f"{row.all_invalid_rows:.3f} | {row.ece_z:.3f} |")
        record.line("")
        results = evaluate(table, truth, methods, seeds=args.seeds, n_labelled=args.n_labelled)
        record.line(f"Table 2 protocol: {args.n_labelled} labelled items per seed, {args.seeds} seeds, accuracy on the "
                    f"other {len(table) - args.n_labelled} items; the paper column is the paper's Table 2 with its five "
                    "7-9B LLMs (shown by the renderer; not comparable with these four offline LLMs)")
        record.line("```")
        for line in format_table2(results, dataset).splitlines():
            record.line(line)
        record.line("```")
        record.line("")
    if args.out:
        record.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
