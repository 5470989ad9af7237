"""`mollia probe ...` verbs.

- ``mollia probe run --dataset trec --models a,b,c --n 1000 [--T 10 --temperature 0.7 --seed 0
  --batch-size 8 --max-text-tokens 200 --yes --out PATH]`` probes the first n items of the pool
  sample (the ``--split`` shuffled with ``--pool-seed``), caches per batch (resumable), prints
  per-model zero-shot accuracy; ``mollia probe --dataset ...`` (no sub-verb) does the same. Before
  the work, a one-line estimate (items x models x s/item measured on a warm-up batch); runs over
  ``--confirm-over`` minutes ask first, or, without a terminal, need ``--yes``.
- ``mollia probe download-released --dataset trec [--dest DIR]`` fetches the paper's released arrays.
"""

from __future__ import annotations

import argparse
import sys

from mollia.cli.args import non_negative_int, positive_float, positive_int

# runs estimated longer than this many minutes ask before going on (--confirm-over)
CONFIRM_OVER_MIN = 10.0


def _add_run_arguments(p: argparse.ArgumentParser, suppress: bool = False) -> None:
    # on the bare `probe` parser the defaults are suppressed so that a sub-verb's own values win
    d = (lambda v: argparse.SUPPRESS) if suppress else (lambda v: v)
    p.add_argument("--dataset", default=d(None), help="dataset name (mollia data list; yours after `mollia data add`) "
                                                      "or a file path")
    p.add_argument("--models", default=d(None), help="comma-separated model short names (mollia models list)")
    p.add_argument("--n", type=positive_int, default=d(None),
                   help="probe the first n items of the pool sample (default: all)")
    p.add_argument("--split", default=d("train"), help="split the pool is drawn from (default train)")
    p.add_argument("--pool-seed", type=non_negative_int, default=d(666),
                   help="seed shuffling the pool (default 666, the paper's)")
    p.add_argument("--T", type=positive_int, default=d(10), help="sampled generations per text (default 10)")
    p.add_argument("--temperature", type=float, default=d(0.7))
    p.add_argument("--top-p", type=float, default=d(0.9))
    p.add_argument("--max-new-tokens", type=positive_int, default=d(8))
    p.add_argument("--max-text-tokens", type=positive_int, default=d(None),
                   help="cut each text to its first N whitespace-separated tokens (same text for every model; part "
                        "of the cache key). Long texts cost seconds per text per model")
    p.add_argument("--seed", type=non_negative_int, default=d(0), help="sampling seed (per item: seed and item id)")
    p.add_argument("--batch-size", type=positive_int, default=d(8))
    p.add_argument("--renormalise", action="store_true", default=d(False), help="renormalise z over the labels")
    p.add_argument("--device", default=d("cpu"), help="cpu, cuda, cuda:1 ...")
    p.add_argument("--quantization", choices=["4bit", "8bit"], default=d(None), help="bitsandbytes loading (GPU)")
    p.add_argument("--precision", choices=["float32", "bfloat16", "int8"], default=d(None),
                   help="CPU compute precision (default: each model's registry default; see bench/out/engine_precision.md)")
    p.add_argument("--z-prune", type=float, default=d(1e-4),
                   help="z: label-form branches below this probability are not scored (0: exact; default 1e-4)")
    p.add_argument("--cache-dir", default=d(None), help="probe cache root (default results/probes)")
    p.add_argument("--out", default=d(None), help="also save the probe table here (.npz)")
    p.add_argument("--threads", type=positive_int, default=d(None), help="torch CPU threads")
    p.add_argument("--yes", action="store_true", default=d(False),
                   help="do not ask before a run estimated longer than --confirm-over minutes")
    p.add_argument("--confirm-over", type=positive_float, default=d(CONFIRM_OVER_MIN),
                   help=f"ask before runs estimated longer than this many minutes (default {CONFIRM_OVER_MIN:g})")


def register(subparsers) -> None:
    probe = subparsers.add_parser("probe", help="probe LLMs for z and c (Eq. 1-3); fetch released probes",
                                  description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_run_arguments(probe, suppress=True)
    probe.set_defaults(func=_run)
    verbs = probe.add_subparsers(dest="probe_verb")
    run = verbs.add_parser("run", help="probe a dataset with a mixture of LLMs")
    _add_run_arguments(run)
    run.set_defaults(func=_run)
    down = verbs.add_parser("download-released", help="download the paper's released probe arrays")
    down.add_argument("--dataset", required=True)
    down.add_argument("--dest", default=None, help="folder (default: under MOLLIA_HOME)")
    down.add_argument("--force", action="store_true")
    down.set_defaults(func=_download)


_RUN_DEFAULTS = {"dataset": None, "models": None, "n": None, "split": "train", "pool_seed": 666, "T": 10,
                 "temperature": 0.7, "top_p": 0.9, "max_new_tokens": 8, "seed": 0, "batch_size": 8,
                 "renormalise": False, "device": "cpu", "quantization": None, "precision": None,
                 "z_prune": 1e-4, "cache_dir": None, "out": None,
                 "threads": None, "max_text_tokens": None, "yes": False, "confirm_over": CONFIRM_OVER_MIN}


def confirm_estimate(yes: bool, over_minutes: float, ask=input, interactive=None):
    """``confirm(estimate)`` for `probe_dataset`: print the one-line estimate; above ``over_minutes``
    ask (a terminal) or refuse, saying to pass --yes (no terminal), unless ``yes``."""
    from mollia.errors import MolliaError

    def confirm(estimate) -> bool:
        print(estimate.line(), flush=True)
        if yes or estimate.seconds <= over_minutes * 60:
            return True
        is_tty = sys.stdin.isatty() if interactive is None else interactive
        if not is_tty:
            raise MolliaError(f"this run is estimated at {estimate.seconds / 60:.1f} min, over the {over_minutes:g}-min "
                              "threshold, and stdin is not a terminal to ask: pass --yes to run it (or make it "
                              "smaller with --n / --max-text-tokens, or raise --confirm-over); the warm-up's "
                              f"{estimate.warmup_items} items are cached")
        answer = ask(f"estimated {estimate.seconds / 60:.1f} min (over {over_minutes:g}); go on? [y/N] ")
        return answer.strip().lower() in ("y", "yes")

    return confirm


def _run(args) -> int:
    from mollia.errors import DataError

    for name, value in _RUN_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, value)
    if not args.dataset or not args.models:
        raise DataError("mollia probe needs --dataset and --models (see mollia probe run --help)")
    import torch

    from mollia.data import load_dataset
    from mollia.probes.engine import pool_for_probing, probe_dataset
    from mollia.study.probes_truth import truth_from_dataset
    from mollia.study.probing import accuracy_table

    if args.threads:
        torch.set_num_threads(args.threads)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    dataset = pool_for_probing(load_dataset(args.dataset), args.n, seed=args.pool_seed, split=args.split)
    table = probe_dataset(dataset, models, T=args.T, temperature=args.temperature, top_p=args.top_p,
                          max_new_tokens=args.max_new_tokens, seed=args.seed, batch_size=args.batch_size,
                          renormalise=args.renormalise, cache_dir=args.cache_dir, device=args.device,
                          quantization=args.quantization, precision=args.precision, z_prune=args.z_prune,
                          max_text_tokens=args.max_text_tokens, confirm=confirm_estimate(args.yes, args.confirm_over))
    if args.out:
        table.save(args.out)
        print(f"probe table: {args.out}")
    acc = accuracy_table(table, truth_from_dataset(table, dataset))
    print(f"{args.dataset}: {len(table)} items, T={args.T}, temperature={args.temperature}, seed={args.seed}")
    print(acc.round(3).to_string())
    for model in table.models:
        meta = table.per_model[model]
        if meta.get("computed_items"):
            print(f"{model}: probed {meta['computed_items']} items in {meta['wall_s']:.1f} s "
                  f"({meta['wall_s'] / meta['computed_items']:.2f} s/item, {torch.get_num_threads()} thread(s))")
    return 0


def _download(args) -> int:
    from mollia.probes.download import download_released

    path = download_released(args.dataset, args.dest, force=args.force)
    print(f"released probes of {args.dataset}: {path}")
    return 0
