"""Query time of every strategy at pool sizes 1k / 10k / 100k (head mode: fixed embeddings and a
linear softmax head, ``ArrayQueryModel`` on synthetic d=384, K=6 embeddings; batch B=50, 50
labelled items). The time includes the model calls a strategy makes (MC-dropout samples for
BEMPS, noisy copies for NoiseStability), as in the AL loop's head mode.

    python bench/query_speed.py                      # the full table, 1 BLAS thread
    python bench/query_speed.py --sizes 1000 10000 --threads 2 --strategies coreset bemps
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from mollia.al.strategies import available_strategies, make_strategy
from mollia.al.strategies.array_model import ArrayQueryModel


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--strategies", nargs="+", default=available_strategies())
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--classes", type=int, default=6)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--labelled", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=1, help="best of this many runs")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads")
    args = parser.parse_args(argv)

    with threadpool_limits(limits=args.threads):
        libs = sorted({f"{p['internal_api']}:{p['num_threads']}" for p in threadpool_info()})
        print(f"# query time in seconds (best of {args.repeats}); d={args.dim}, K={args.classes}, "
              f"B={args.batch}, {args.labelled} labelled; threads={args.threads} ({', '.join(libs)})")
        times: dict[str, dict[int, float]] = {name: {} for name in args.strategies}
        for size in args.sizes:
            model = ArrayQueryModel.synthetic(size + args.labelled, args.dim, args.classes, seed=0)
            labelled = np.arange(args.labelled)
            pool = np.arange(args.labelled, size + args.labelled)
            for name in args.strategies:
                strategy = make_strategy(name)
                best = np.inf
                for repeat in range(args.repeats):
                    start = time.perf_counter()
                    chosen = strategy.query(model, pool, labelled, args.batch, np.random.default_rng(repeat))
                    best = min(best, time.perf_counter() - start)
                assert chosen.size == args.batch
                times[name][size] = best
                print(f"#   {name:<16} pool={size:>7}: {best:8.3f} s", flush=True)

    header = "| strategy | " + " | ".join(f"pool {s:,}" for s in args.sizes) + " |"
    print()
    print(header)
    print("|---" * (len(args.sizes) + 1) + "|")
    for name in args.strategies:
        print(f"| {name} | " + " | ".join(f"{times[name][s]:.3f} s" for s in args.sizes) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
