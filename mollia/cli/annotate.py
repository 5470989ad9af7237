"""`mollia table2`: Table 2 of the paper (annotation accuracy, mean ± std over seeds) on a probe table."""

from __future__ import annotations

import argparse
import json

from mollia.cli.args import positive_int
from mollia.errors import DataError


def register(subparsers) -> None:
    p = subparsers.add_parser("table2", help="annotation accuracy of every method (Table 2), mean ± std over seeds")
    p.add_argument("--probes", required=True, help="folder of released arrays, a probe cache, or a probe-table file")
    p.add_argument("--dataset", required=True, help="dataset name (mollia data list: built-in or added with "
                                                    "`mollia data add`) or a file path")
    p.add_argument("--methods", default=None, help="comma-separated annotator names (default: every offline-runnable one)")
    p.add_argument("--seeds", type=positive_int, default=5, help="number of seeds 0..S-1 (default 5)")
    p.add_argument("--n-labelled", type=positive_int, default=50, help="labelled items per seed (default 50)")
    p.add_argument("--n-jobs", type=positive_int, default=1, help="XGBoost threads (default 1)")
    p.add_argument("--json", default=None, help="write {method: {mean, std, per_seed}} here (atomically)")
    p.set_defaults(func=cmd_table2)


def cmd_table2(args: argparse.Namespace) -> int:
    from mollia.study.protocol import DEFAULT_METHODS, evaluate
    from mollia.study.probes_truth import load_probes_and_truth
    from mollia.annotators.registry import accepted_params, spec_of
    from mollia.study.annotation import format_table2
    from mollia.atomic import write_json

    methods = [m.strip() for m in args.methods.split(",") if m.strip()] if args.methods else list(DEFAULT_METHODS)
    if not methods:
        raise DataError("--methods is empty")
    for m in methods:
        spec_of(m)  # unknown names fail before any work
    if args.seeds < 1:
        raise DataError(f"--seeds must be >= 1, got {args.seeds}")
    table, truth, _ = load_probes_and_truth(args.probes, args.dataset, texts=False)
    params = {m: {"n_jobs": args.n_jobs} for m in methods if "n_jobs" in accepted_params(m)}
    results = evaluate(table, truth, methods, seeds=args.seeds, n_labelled=args.n_labelled, method_params=params)
    print(format_table2(results, args.dataset))
    if args.json:
        write_json(args.json, results)
        print(f"wrote {args.json}")
    return 0
