#!/usr/bin/env python
"""Build the committed live probe tables of the four offline LLMs (``mollia/data/live_probes/``).

    python scripts/build_live_probes.py --n trec=2000 --n rotten_tomatoes=100 --cache-dir DIR
    python scripts/build_live_probes.py ... --only-cached    # export what DIR holds, probe nothing

For each dataset: its AL pool (``pool_for_probing``: the train split shuffled with the paper's
seed 666), the first n questions, probed by every model of ``--models`` with the engine's
defaults (T = 10, temperature 0.7, top_p 0.9, 8 new tokens, seed 0, each model's registry CPU
precision, z_prune 1e-4) through the resumable probe cache in ``--cache-dir`` (one process per
model can fill it in parallel: run this with ``--models`` one model each, then once with all of
them and ``--only-cached``). The table holds the longest prefix of those items that every model
finished, and is written to ``<out>/<dataset>.npz`` (+ ``.generations.parquet``: the T raw
answers) with its settings, the engine version and the git commit in its metadata;
``PROVENANCE.md`` there lists items, settings, the command that regenerates them and the one that ran.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parents[1] / "mollia" / "data" / "live_probes"
MODELS = ("qwen2.5-coder-1.5b-instruct", "smollm2-135m-instruct", "gemma-3-270m", "qwen2.5-coder-0.5b-instruct")


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=OUT_DIR.parents[2]).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", action="append", required=True, metavar="DATASET=N",
                    help="items of a dataset's pool to probe (repeatable)")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--cache-dir", required=True, help="probe cache root (resumable; keep it between runs)")
    ap.add_argument("--only-cached", action="store_true", help="probe nothing: export what the cache holds")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(OUT_DIR))
    ap.add_argument("--seconds-per-item", action="append", default=[], metavar="DATASET:MODEL=S",
                    help="measured probing wall seconds per item (the probe run's last line; an export with "
                         "--only-cached measures nothing), kept in the table's per-model metadata as "
                         "s_per_item_measured for cost accounting (repeatable)")
    args = ap.parse_args(argv)

    import torch

    from mollia.data import load_dataset
    from mollia.errors import DataError
    from mollia.probes.engine import ENGINE_VERSION, pool_for_probing, probe_dataset
    from mollia.study.probes_truth import truth_from_dataset
    from mollia.study.probing import accuracy_table

    torch.set_num_threads(args.threads)
    models = [m for m in args.models.split(",") if m]
    wanted = {}
    for spec in args.n:
        name, _, n = spec.partition("=")
        if not n.isdigit():
            raise DataError(f"--n takes DATASET=N, got {spec!r}")
        wanted[name] = int(n)
    measured = {}
    for spec in args.seconds_per_item:
        key, _, sec = spec.partition("=")
        dataset, _, model = key.partition(":")
        try:
            measured[(dataset, model)] = float(sec)
        except ValueError:
            raise DataError(f"--seconds-per-item takes DATASET:MODEL=SECONDS, got {spec!r}") from None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    commit = _commit()
    summary = []
    for name, n in wanted.items():
        pool = pool_for_probing(load_dataset(name), n)
        table = probe_dataset(pool, models, cache_dir=args.cache_dir, only_cached=args.only_cached)
        for model in table.models:  # the cache path is this machine's; the code version is the repo's
            meta = table.per_model[model]
            meta.pop("cache", None)
            meta.update(git_commit=commit, pool="pool_for_probing(seed 666, split train), first items",
                        items=len(table))
            if (name, model) in measured:
                meta["s_per_item_measured"] = measured[(name, model)]
        table.save(out / f"{name}.npz")
        acc = accuracy_table(table, truth_from_dataset(table, pool))
        print(f"{name}: {len(table)} items of {n} asked, models {list(table.models)}")
        print(acc.round(3).to_string())
        summary.append((name, len(table), n, acc))
    lines = ["# Live probes of the offline LLMs (committed data)", "",
             "Built by `scripts/build_live_probes.py` (see its docstring); replay with `--probes "
             "mollia/data/live_probes` (any stage that takes probes; `mollia.probes.replay.LIVE_PROBES_DIR`, grid "
             "variable `${live_probes_dir}`), no model needed. Engine version "
             f"{ENGINE_VERSION}, code at git commit `{commit}`. Settings: T = 10, temperature 0.7, top_p 0.9, "
             "max_new_tokens 8, seed 0, z_prune 1e-4, the registry's CPU precision per model "
             "(per-model metadata in each .npz).", "",
             "| dataset | items (pool prefix every model finished) | asked | models |", "|---|---|---|---|"]
    lines += [f"| {name} | {m} | {n} | {', '.join(models)} |" for name, m, n, _ in summary]
    if measured:
        lines += ["", "Measured probing wall seconds per item (each model's probe run, 1 torch thread, on a shared "
                  "2-core machine beside other jobs: upper bounds of the idle cost):", "",
                  "| dataset | model | s/item |", "|---|---|---|"]
        lines += [f"| {d} | {m} | {sec:.2f} |" for (d, m), sec in measured.items()]
    regen = " ".join(f"--n {name}={m}" for name, m, _, _ in summary)
    lines += ["", "Regenerate exactly these items (probes what the cache lacks, resumable; on a 2-core CPU a "
              "1.5B model takes seconds per item):", "", "```",
              f"python scripts/build_live_probes.py {regen} --models {','.join(models)} --cache-dir DIR", "```", "",
              "This build ran:", "", "```",
              " ".join(["python", "scripts/build_live_probes.py"] + list(argv if argv is not None else sys.argv[1:])),
              "```", ""]
    from mollia.atomic import write_text

    write_text(out / "PROVENANCE.md", "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
