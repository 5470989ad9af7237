"""Query time of every strategy at pool sizes 1k / 10k / 100k, for two query models:

* ``array``: ``ArrayQueryModel``, a numpy linear softmax head on fixed embeddings (a stand-in);
* ``head``: the AL loop's real head-mode torch model (`mollia.al.backbones.HeadBackbone`: the MLP
  head, hidden 256, dropout 0.2, as ``ALConfig``'s defaults), trained on the labelled items first
  (training is not timed).

Synthetic d=384, K=6 embeddings (minilm-l6's width, TREC's classes); batch B=50, 50 labelled items.
The time includes the model calls a strategy makes (MC-dropout samples for BEMPS, noisy copies for
NoiseStability), as in the AL loop's head mode. Prints a table and writes it to
``bench/out/query_speed.md`` with the command, threads, date and machine load.

    python bench/query_speed.py                      # the full table, 1 thread
    python bench/query_speed.py --sizes 1000 10000 --threads 2 --strategies coreset bemps --models head
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from benchout import BenchRecord
from mollia.al.backbones import HeadBackbone
from mollia.al.config import ALConfig
from mollia.al.strategies import available_strategies, make_strategy
from mollia.al.strategies.array_model import ArrayQueryModel

MODELS = ("array", "head")


def query_model(kind: str, size: int, labelled: np.ndarray, dim: int, classes: int):
    """The model a strategy queries: the numpy stand-in, or the real head trained on ``labelled``."""
    array = ArrayQueryModel.synthetic(size + len(labelled), dim, classes, seed=0)
    if kind == "array":
        return array
    d = ALConfig()
    features = array.embed(np.arange(size + len(labelled))).astype(np.float32)
    labels = array.predict_proba(labelled).argmax(axis=1)
    head = HeadBackbone(features, classes, hidden_size=d.hidden_size, dropout=d.dropout, lr=1e-3,
                        weight_decay=d.weight_decay, epochs=10, patience=10, batch_size=d.train_batch_size)
    val = labelled[: max(1, len(labelled) // 5)]
    return head.fit(labelled, labels, np.ones(len(labelled)), np.zeros((len(labelled), classes), bool), 0.0,
                    val, labels[: len(val)], seed=0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--strategies", nargs="+", default=available_strategies())
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--classes", type=int, default=6)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--labelled", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=1, help="best of this many runs")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP and torch threads")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write bench/out/query_speed.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    record = BenchRecord("query_speed", threads=args.threads)

    with threadpool_limits(limits=args.threads):
        libs = sorted({f"{p['internal_api']}:{p['num_threads']}" for p in threadpool_info()})
        record.line(f"Query time in seconds (best of {args.repeats}); d={args.dim}, K={args.classes}, B={args.batch}, "
                    f"{args.labelled} labelled; threads={args.threads} ({', '.join(libs)}; torch "
                    f"{torch.get_num_threads()}). `array` = the numpy stand-in (ArrayQueryModel), `head` = the AL "
                    "loop's head-mode torch model (HeadBackbone: MLP 384-256-6, dropout 0.2).")
        times: dict[tuple[str, str], dict[int, float]] = {(m, s): {} for m in args.models for s in args.strategies}
        for size in args.sizes:
            labelled = np.arange(args.labelled)
            pool = np.arange(args.labelled, size + args.labelled)
            for kind in args.models:
                model = query_model(kind, size, labelled, args.dim, args.classes)
                for name in args.strategies:
                    strategy = make_strategy(name)
                    best = np.inf
                    for repeat in range(args.repeats):
                        start = time.perf_counter()
                        chosen = strategy.query(model, pool, labelled, args.batch, np.random.default_rng(repeat))
                        best = min(best, time.perf_counter() - start)
                    assert chosen.size == args.batch
                    times[(kind, name)][size] = best
                    print(f"#   {kind:<5} {name:<16} pool={size:>7}: {best:8.3f} s", flush=True)

    record.line()
    record.line("| strategy | model | " + " | ".join(f"pool {s:,}" for s in args.sizes) + " |")
    record.line("|---|---" + "|---" * len(args.sizes) + "|")
    for name in args.strategies:
        for kind in args.models:
            record.line(f"| {name} | {kind} | " + " | ".join(f"{times[(kind, name)][s]:.3f} s" for s in args.sizes) + " |")
    if not args.no_write:
        record.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
