"""`mollia grid|report|demo` verbs: argument parsing only; the work is in mollia.study."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from mollia.cli.args import non_negative_int, positive_float, positive_int


def register(subparsers) -> None:
    p = subparsers.add_parser("grid", help="run a papermill grid (params/*.yaml): local or SLURM, resumable")
    p.add_argument("grid", type=Path, help="grid file, e.g. params/offline.yaml")
    p.add_argument("--jobs", type=positive_int, default=1, help="concurrent notebooks (each gets cores/jobs threads)")
    p.add_argument("--backend", choices=("local", "slurm"), default="local")
    p.add_argument("--dry-run", action="store_true", help="print the plan and the number of cells; run nothing")
    p.add_argument("--only", action="append", default=None, metavar="STAGE", help="run only this stage (repeatable)")
    p.add_argument("--results", type=Path, default=None, help="results root (default $MOLLIA_RESULTS or ./results)")
    p.add_argument("--cores", type=positive_int, default=None, help="cores to share among jobs (default: all)")
    p.add_argument("--timeout", type=positive_float, default=None, help="seconds per cell before it is killed")
    p.add_argument("--slurm-cluster", default=None, help="submitit cluster: None=auto (slurm), local, debug")
    # defaults for every stage; a stage's `resources:` in the grid file overrides them
    p.add_argument("--slurm-partition", default=None, help="partition (default: the cluster's default)")
    p.add_argument("--slurm-cpus", type=positive_int, default=4, help="CPUs per cell")
    p.add_argument("--slurm-mem", type=positive_float, default=32, help="GB of memory per cell")
    p.add_argument("--slurm-gpus", type=non_negative_int, default=0, help="GPUs per cell")
    p.add_argument("--slurm-time", type=positive_int, default=240, help="minutes per cell (SLURM stops it after that)")
    p.add_argument("--slurm-array-parallelism", type=positive_int, default=64, help="cells of one stage running at once")
    p.add_argument("--slurm-poll", type=positive_float, default=30.0, help="most seconds between two queue checks")
    p.add_argument("--probe-s-per-item", type=positive_float, default=None,
                   help="GPU seconds per probed item per LLM, for the --dry-run estimate (default: a stated assumption)")
    p.set_defaults(func=cmd_grid)

    p = subparsers.add_parser("report", help="rebuild Tables 2-6 and Figs. 4-12 from results/**/metrics.json")
    p.add_argument("--results", type=Path, default=None, help="results root (default $MOLLIA_RESULTS or ./results)")
    p.add_argument("--tables", type=Path, default=None, help="tables folder (default <results>/tables)")
    p.add_argument("--figures", type=Path, default=None, help="figures folder (default $MOLLIA_FIGURES or ./figures)")
    p.add_argument("--prices", type=Path, default=None,
                   help="prices of the cost accounting (default params/prices.yaml of this checkout)")
    p.set_defaults(func=cmd_report)

    p = subparsers.add_parser("demo", help="fetch offline models, run params/offline.yaml and the report")
    p.add_argument("--grid", type=Path, default=None, help="grid file (default params/offline.yaml)")
    p.add_argument("--jobs", type=positive_int, default=None, help="concurrent notebooks (default: cores)")
    p.add_argument("--results", type=Path, default=None)
    p.add_argument("--figures", type=Path, default=None)
    p.add_argument("--skip-fetch", action="store_true", help="do not fetch the offline models first")
    p.add_argument("--no-download-probes", action="store_true",
                   help="do not download the paper's released TREC arrays where none are found (by default the "
                        "demo fetches them, sha256-pinned, to replay the paper's five LLMs)")
    p.set_defaults(func=cmd_demo)


def cmd_grid(args: argparse.Namespace) -> int:
    from mollia.study.grid import Resources, load_grid

    grid = load_grid(args.grid)
    if args.backend == "slurm":
        from mollia.study.slurm import require_sbatch, run_grid_slurm

        if args.slurm_cluster is None and not args.dry_run:
            require_sbatch()
        defaults = Resources(cpus=args.slurm_cpus, mem_gb=args.slurm_mem, gpus=args.slurm_gpus,
                             time_min=args.slurm_time, partition=args.slurm_partition,
                             array_parallelism=args.slurm_array_parallelism)
        run_grid_slurm(grid, defaults, cluster=args.slurm_cluster, dry_run=args.dry_run, only=args.only,
                       root=args.results, timeout=args.timeout, poll_s=args.slurm_poll,
                       probe_s_per_item=args.probe_s_per_item)
        return 0
    from mollia.study.runner import run_grid

    run_grid(grid, jobs=args.jobs, dry_run=args.dry_run, only=args.only, root=args.results, cores=args.cores,
             timeout=args.timeout)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from mollia.paths import figures_root, results_root
    from mollia.study.report import build_report

    results = args.results or results_root()
    written = build_report(results, args.tables or Path(results) / "tables", args.figures or figures_root(),
                           prices=args.prices)
    print(written.summary())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from mollia.study.demo import run_demo

    return run_demo(grid_path=args.grid, jobs=args.jobs, results=args.results, figures=args.figures,
                    fetch=not args.skip_fetch, download_probes=not args.no_download_probes)
