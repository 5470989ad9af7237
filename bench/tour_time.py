"""Benchmark: notebook 00 (the tour) end to end, as a reader runs it: papermill in a subprocess.

Target: under two minutes on 2 cores with the paper's released probes. Prints (and with --out
writes) one markdown row per run: wall seconds, CPU seconds of papermill and its kernel (user +
system), the torch threads, and the machine's 1-minute load average before and after, because on
a shared machine wall time says as much about the neighbours as about the notebook.

    .venv/bin/python bench/tour_time.py --threads 2 [--probes DIR] [--runs 1] [--out bench/out/tour_time.md]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads of the notebook (parameter threads)")
    parser.add_argument("--probes", default="", help="released probes folder (default: the notebook's own lookup)")
    parser.add_argument("--n", type=int, default=200, help="questions in the tour")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--out", default="", help="append the table to this markdown file")
    args = parser.parse_args(argv)

    rows = ["| run | questions | torch threads | wall s | CPU s (user+sys) | load 1 min before | after |",
            "|---|---|---|---|---|---|---|"]
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-m", "papermill", str(REPO / "notebooks" / "00_tour.ipynb"), f"{tmp}/out.ipynb",
                   "-p", "threads", str(args.threads), "-p", "n", str(args.n), "-p", "out_dir", f"{tmp}/tour"]
            if args.probes:
                cmd += ["-p", "probes", args.probes]
            env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
            before_load = os.getloadavg()[0]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            rows.append(f"| {run} | {args.n} | {args.threads} | {wall:.1f} | {cpu:.1f} | {before_load:.1f} | "
                        f"{os.getloadavg()[0]:.1f} |")
            print(rows[-1], flush=True)
    header = (f"`python bench/tour_time.py --threads {args.threads} --n {args.n}` on {os.cpu_count()} cores, "
              f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    table = "\n".join([header, "", *rows, ""])
    print(table)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("a", encoding="utf-8") as fh:
            fh.write(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
