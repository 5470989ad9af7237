"""Benchmark: one MoLAM fit with pseudo-labelling on the 10,000 ag_news items (released probes).

Target: under 60 s on 2 cores. Prints one row per thread count (XGBoost n_jobs): wall time of
the whole fit (first fit on 50 labelled items + every pseudo-labelling refit), refits, items
pseudo-labelled, accuracy on the other items.

    .venv/bin/python bench/molam_speed.py --probes ../shared/paper/probes [--threads 1,2] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", default=os.path.join(os.environ.get("MOLLIA_PAPER_DIR", "../shared/paper"), "probes"))
    parser.add_argument("--dataset", default="ag_news")
    parser.add_argument("--threads", default="1,2", help="comma-separated XGBoost thread counts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-labelled", type=int, default=50)
    args = parser.parse_args(argv)

    from mollia.annotators import MoLAM
    from mollia.probes.paper import load_released

    released = load_released(args.probes, args.dataset)
    X, y = released.table.features(), released.ground_truth
    pos = np.random.default_rng(args.seed).choice(len(X), args.n_labelled, replace=False)
    rest = np.setdiff1d(np.arange(len(X)), pos)
    print(f"MoLAM fit with pseudo-labelling: {args.dataset}, {len(X)} items ({args.n_labelled} labelled), "
          f"h(x) of {X.shape[1]} features, Table 5 hyperparameters, cpu count {os.cpu_count()}")
    print(f"{'threads':>7} {'fit_s':>8} {'refits':>7} {'pseudo':>7} {'accuracy':>9} {'<60s':>5}")
    for threads in [int(t) for t in args.threads.split(",")]:
        start = time.perf_counter()
        est = MoLAM.for_dataset(args.dataset, n_jobs=threads, n_classes=released.table.n_labels,
                                random_state=args.seed).fit(X[pos], y[pos], X[rest])
        wall = time.perf_counter() - start
        acc = float((est.predict(X[rest]) == y[rest]).mean())
        print(f"{threads:>7} {wall:>8.1f} {est.pseudo_iterations_:>7} {est.n_pseudo_labelled_:>7} {acc:>9.4f} "
              f"{'yes' if wall < 60 else 'no':>5}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
