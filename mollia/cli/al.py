"""`mollia al`: run (or resume) one active-learning configuration and write DIR/metrics.json."""

from __future__ import annotations

import argparse
import json

from mollia.cli.args import non_negative_int, positive_int
from mollia.errors import MolliaError


def _json_dict(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object, e.g. '{\"k\": 1}'")
    return value


def register(subparsers) -> None:
    from mollia.al.config import ALConfig

    d = ALConfig()
    p = subparsers.add_parser("al", help="run one active-learning configuration (Algorithm 1)",
                              description="Run Algorithm 1 (query, annotate, robust training, evaluate) and write "
                                          "OUT/metrics.json per iteration; rerunning the same command resumes.")
    p.add_argument("--dataset", default=d.dataset, help="dataset name (default trec; yours after `mollia data add`) "
                                                        "or a file path")
    p.add_argument("--dataset-source", default=d.dataset_source, choices=("auto", "offline", "hub"))
    p.add_argument("--probes", default=None, help="probe table (cache file/folder) or a folder of released arrays")
    p.add_argument("--strategy", default=d.strategy, help="random, coreset, bemps, noise_stability, entropy, margin")
    p.add_argument("--annotator", default=d.annotator, help="oracle (plain CE), oracle-robust (ablation: true labels, robust loss), molam, llms-v, llms-l, "
                        "llm-v:<model>, llm-l:<model>, ... (every form: mollia.annotators.spec)")
    p.add_argument("--backbone", default=d.backbone, help="head:<encoder> (fast) or finetune:<encoder>")
    p.add_argument("--iterations", type=non_negative_int, default=d.iterations)
    p.add_argument("--seed", type=non_negative_int, default=d.seed)
    p.add_argument("--out", required=True, help="output folder (metrics.json, state/)")
    p.add_argument("--no-negative-learning", dest="negative_learning", action="store_false",
                   help="drop the negative-learning term (Eq. 7): ablation variants C, D")
    p.add_argument("--no-discrepancy", dest="discrepancy", action="store_false",
                   help="W_d = 1 for every item (no Eq. 8): ablation variants B, D")
    p.add_argument("--alpha", type=float, default=d.alpha, help="W_d of discrepant items (Eq. 8)")
    p.add_argument("--lambda-start", type=float, default=d.lambda_start)
    p.add_argument("--lambda-end", type=float, default=d.lambda_end)
    p.add_argument("--negative-reduction", default=d.negative_reduction, choices=("sum", "mean"),
                   help="Eq. 7 over an item's negative labels: sum (the paper, default) or mean (the authors' code)")
    p.add_argument("--early-stopping", default=d.early_stopping, choices=("validation", "annotated"),
                   help="early-stop each retraining on the validation split's true labels (the paper; human "
                        "labels, counted in the records) or on a held-out share of the labelled set's annotated "
                        "labels (no human label beyond the initial set)")
    p.add_argument("--early-stopping-holdout", type=float, default=d.early_stopping_holdout,
                   help="share of the labelled set held out with --early-stopping annotated (default 0.2)")
    p.add_argument("--batch-size", type=positive_int, default=d.batch_size, help="query size B")
    p.add_argument("--initial", type=positive_int, default=d.initial, help="initial labelled set size")
    p.add_argument("--lr", type=float, default=None, help="AdamW learning rate (default: head 1e-3, finetune 5e-5)")
    p.add_argument("--epochs", type=positive_int, default=d.epochs)
    p.add_argument("--patience", type=positive_int, default=d.patience)
    p.add_argument("--train-batch-size", type=positive_int, default=d.train_batch_size)
    p.add_argument("--pool-size", type=positive_int, default=None, help="cap the pool at a seeded subsample")
    p.add_argument("--device", default=d.device)
    p.add_argument("--strategy-params", type=_json_dict, default={}, help="JSON object for make_strategy")
    p.add_argument("--annotator-params", type=_json_dict, default={}, help="JSON object for make_annotator")
    beyond = p.add_argument_group("beyond the paper", "noise-aware training and a hybrid human budget "
                                  "(mollia.al.noisy, mollia.al.budget: sources cited there)")
    beyond.add_argument("--label-loss", default=d.label_loss, choices=("ce", "soft", "gce", "sce", "bootstrap"),
                        help="loss on annotated items: ce (the paper), soft (annotator posterior), gce, sce, bootstrap")
    beyond.add_argument("--loss-params", type=_json_dict, default={},
                        help="JSON: gce_q, sce_alpha, sce_beta, sce_log_zero, bootstrap_beta, small_loss_ramp")
    beyond.add_argument("--confidence-weighting", action="store_true",
                        help="weight each annotated item by the annotator's probability of its label")
    beyond.add_argument("--small-loss-forget", type=float, default=d.small_loss_forget,
                        help="co-teaching small-loss selection: share of annotated items dropped (0 = off)")
    beyond.add_argument("--human-budget", type=non_negative_int, default=d.human_budget,
                        help="h: items per iteration labelled by the human oracle (the most doubtful; 0 = none)")
    beyond.add_argument("--human-route", default=d.human_route, choices=("discrepancy", "disagreement", "confidence"),
                        help="doubt score that picks the h items")
    p.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--wait", action="store_true",
                   help="if another run holds --out, wait for it to finish instead of exiting")
    add_remaining_fields(p)
    p.set_defaults(func=cmd_al)


def add_remaining_fields(parser: argparse.ArgumentParser) -> None:
    """An option for every `ALConfig` field that has none yet (``--weight-decay`` ...), typed and
    defaulted from the dataclass itself, so a new field reaches the CLI without an edit here."""
    from dataclasses import MISSING, fields

    from mollia.al.config import ALConfig

    taken = {a.dest for a in parser._actions}
    for f in fields(ALConfig):
        if f.name in taken:
            continue
        default = f.default if f.default is not MISSING else f.default_factory()
        flag = "--" + f.name.replace("_", "-")
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help="ALConfig field")
        elif isinstance(default, dict):
            parser.add_argument(flag, type=_json_dict, default=default, help="ALConfig field (JSON object)")
        else:
            parser.add_argument(flag, type=type(default) if default is not None else str, default=default,
                                help=f"ALConfig field (default {default})")


def config_from_args(args: argparse.Namespace):
    """The `ALConfig` of the parsed options: one option per field (see `add_remaining_fields`)."""
    from dataclasses import fields

    from mollia.al.config import ALConfig

    return ALConfig(**{f.name: getattr(args, f.name) for f in fields(ALConfig)})


def cmd_al(args: argparse.Namespace) -> int:
    import torch

    from mollia.study.active_learning import run_al

    if args.threads < 1:
        raise MolliaError(f"--threads must be >= 1, got {args.threads}")
    torch.set_num_threads(args.threads)
    config = config_from_args(args)
    metrics = run_al(config, args.out, progress=not args.quiet, wait=args.wait)
    last = metrics["rows"][-1]
    print(f"{config.strategy}/{config.annotator} seed {config.seed}: iteration {last['iteration']}, "
          f"{last['n_labelled']} labelled, micro-F1 {last['micro_f1']:.4f}  -> {args.out}/metrics.json")
    return 0
