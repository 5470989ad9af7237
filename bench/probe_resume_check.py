"""Does a probe cache that was killed and resumed hold the numbers an uninterrupted run gives?

Probes the first ``--n`` items of the TREC pool (the same pool `mollia probe run` draws: train,
shuffled with seed 666) with one model from scratch into a fresh temporary cache, in one go, and
compares them item by item with what the given cache holds (for instance the cache of a 1000-item
run that was killed with ``kill -9`` and then resumed). Prints a table: items compared, largest
|difference| of z, z_first and c, and how many of the T raw generations differ. Exit status 1
when anything differs beyond ``--tol`` or a generation differs.

    python bench/probe_resume_check.py --model smollm2-135m-instruct --n 400 --cache results/probes
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

import numpy as np
import torch


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--dataset", default="trec")
    ap.add_argument("--n", type=int, default=400, help="first n pool items, recomputed from scratch")
    ap.add_argument("--cache", default=None, help="the resumed probe cache root (default results/probes)")
    ap.add_argument("--T", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tol", type=float, default=1e-6, help="largest |difference| of z, z_first, c accepted")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    from mollia.data import load_dataset
    from mollia.probes.engine import probe_dataset
    from mollia.probes.engine import pool_for_probing

    pool = pool_for_probing(load_dataset(args.dataset), args.n)  # as `mollia probe run --n` draws it
    settings = dict(models=[args.model], T=args.T, batch_size=args.batch_size)
    # the resumed cache must already hold these items: reading them loads no model
    resumed = probe_dataset(pool, cache_dir=args.cache, progress=False,
                            loader=_refuse_to_load, **settings)
    with tempfile.TemporaryDirectory(prefix="mollia-resume-check-") as fresh_dir:
        t0 = time.perf_counter()
        fresh = probe_dataset(pool, cache_dir=fresh_dir, progress=True, **settings)
        seconds = time.perf_counter() - t0

    assert resumed.item_ids.tolist() == fresh.item_ids.tolist()
    diffs = {name: float(np.abs(getattr(resumed, name) - getattr(fresh, name)).max()) for name in ("z", "z_first", "c")}
    a = resumed.generations.sort_values(["item_id", "sample"])["text"].to_numpy()
    b = fresh.generations.sort_values(["item_id", "sample"])["text"].to_numpy()
    gen_diff = int((a != b).sum())
    print(f"{args.dataset}, {args.model}, first {args.n} pool items, T={args.T}, batch {args.batch_size}, "
          f"torch threads {torch.get_num_threads()}; fresh run {seconds:.0f} s")
    print("| compared | max abs z diff | max abs z_first diff | max abs c diff | generations differing |")
    print("|---|---|---|---|---|")
    print(f"| {len(fresh)} items | {diffs['z']:.2e} | {diffs['z_first']:.2e} | {diffs['c']:.2e} | "
          f"{gen_diff} of {len(a)} |")
    ok = max(diffs.values()) <= args.tol and gen_diff == 0
    print("same numbers as an uninterrupted run" if ok else "DIFFERENT from an uninterrupted run")
    return 0 if ok else 1


def _refuse_to_load(name, **_):
    raise SystemExit(f"the cache does not hold all {name} probes asked for: run `mollia probe run` to completion first")


if __name__ == "__main__":
    sys.exit(main())
