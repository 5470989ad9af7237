"""Does `make demo` reproduce the committed evidence? Compare the cells the two grids share, number for number.

The demo (params/offline.yaml) and the evidence grid (params/trec_evidence.yaml) share two computations:
the Table 2 annotation run on the paper's TREC probes (demo: 3 seeds of 50 labels; evidence: 5 seeds, the
first 3 the same draws) and the analysis cell (MoLAM, seed 0: Table 3, Fig. 6, Fig. 12; same parameters,
same cell hash). Their AL cells differ by design (the demo runs 5 iterations on a 2,000-item pool). This
prints, per shared annotation method and seed, both accuracies and whether they are equal, and the analysis
metrics that differ, if any.

    python bench/demo_vs_evidence.py --demo results/demo --evidence results/evidence --out demo_vs_evidence
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def _paper_trec_cells(root: Path, notebook: str):
    for params_file in sorted((root / notebook).glob("*/params.json")):
        params = json.loads(params_file.read_text())
        probes = params.get("probes_dir") or params.get("probes") or ""
        if params.get("dataset") == "trec" and "live" not in probes and (params_file.parent / "metrics.json").exists():
            yield params, json.loads((params_file.parent / "metrics.json").read_text())


def _flatten(obj, prefix=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, list) and all(isinstance(v, (int, float)) for v in obj):
        yield prefix, tuple(obj)
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield prefix, obj


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--demo", default="results/demo")
    ap.add_argument("--evidence", default="results/evidence")
    ap.add_argument("--out", default=None, help="also write bench/out/<OUT>.md")
    args = ap.parse_args(argv)

    from benchout import BenchRecord
    from mollia.annotators.spec import AnnotatorSpec

    record = BenchRecord(args.out or "demo_vs_evidence", threads=1)
    demo, evidence = Path(args.demo), Path(args.evidence)
    (_, a_demo), = [c for c in _paper_trec_cells(demo, "02_annotation_models") if c[0].get("n_labelled") == 50]
    (_, a_evid), = list(_paper_trec_cells(evidence, "02_annotation_models"))

    def by_canonical(results):
        return {AnnotatorSpec.parse(name, warn=False).canonical: r for name, r in results.items()}

    rd, re_ = by_canonical(a_demo["results"]), by_canonical(a_evid["results"])
    record.line("## Table 2 on the paper's TREC probes (50 labels): the methods both runs have, seed by seed")
    record.line("")
    record.line("| method | seed | demo | evidence | equal |")
    record.line("|---|---|---|---|---|")
    n_equal = n_all = 0
    for method in sorted(set(rd) & set(re_)):
        seeds_d = dict(zip(rd[method]["seeds"], rd[method]["per_seed"]))
        seeds_e = dict(zip(re_[method]["seeds"], re_[method]["per_seed"]))
        for seed in sorted(set(seeds_d) & set(seeds_e)):
            same = seeds_d[seed] == seeds_e[seed]
            n_equal += same
            n_all += 1
            record.line(f"| {method} | {seed} | {seeds_d[seed]:.6f} | {seeds_e[seed]:.6f} | {'yes' if same else 'NO'} |")
    record.line("")
    record.line(f"{n_equal} of {n_all} (method, seed) accuracies equal to the last digit.")
    record.line("")

    analysis_d = {json.dumps(p, sort_keys=True): m for p, m in _paper_trec_cells(demo, "06_analysis")}
    analysis_e = {json.dumps(p, sort_keys=True): m for p, m in _paper_trec_cells(evidence, "06_analysis")}
    record.line("## Analysis cells with identical parameters (Table 3, Fig. 6, Fig. 12)")
    record.line("")
    for key in sorted(set(analysis_d) & set(analysis_e)):
        flat_d, flat_e = dict(_flatten(analysis_d[key])), dict(_flatten(analysis_e[key]))
        skip = ("wall", "seconds", "_s")
        shared = [k for k in sorted(set(flat_d) & set(flat_e)) if not any(s in k for s in skip)]
        differ = [k for k in shared if flat_d[k] != flat_e[k]]
        record.line(f"- params {key}: {len(shared)} numbers compared, {len(differ)} differ"
                    + (f": {', '.join(differ[:10])}" if differ else ""))
    if args.out:
        record.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
