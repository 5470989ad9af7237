"""`mollia demo` (what `make demo` runs): fetch the offline models, run params/offline.yaml, report.

A second run finds every cell done (skipped) and only rebuilds the report.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from mollia.paths import figures_root, results_root
from mollia.study.grid import load_grid
from mollia.study.report import build_report
from mollia.study.runner import CellFailed, run_grid

OFFLINE_MODELS = ("smollm2-135m-instruct", "gemma-3-270m", "qwen2.5-coder-0.5b-instruct", "minilm-l6")
HEADLINE_TABLES = ("headline", "table2", "table4", "claims")


def default_grid() -> Path:
    """params/offline.yaml of the repository this package is installed from (editable install), else ./params."""
    here = Path(__file__).resolve().parents[2] / "params" / "offline.yaml"
    return here if here.exists() else Path("params") / "offline.yaml"


def fetch_models(models=OFFLINE_MODELS, out=print) -> None:
    from mollia.models import fetch

    for name in models:
        t0 = time.perf_counter()
        path = fetch(name)
        out(f"model {name}: {path} ({time.perf_counter() - t0:.1f} s)")


def run_demo(grid_path: str | Path | None = None, jobs: int | None = None, results: str | Path | None = None,
             figures: str | Path | None = None, fetch: bool = True, out=print) -> int:
    t_start = time.perf_counter()
    results = Path(results or results_root()).resolve()
    figures = Path(figures or figures_root()).resolve()
    grid = load_grid(grid_path or default_grid())
    if fetch:
        fetch_models(out=out)
    # one thread per notebook, one notebook per core (cells are many and small; capped for memory:
    # an AL cell holds ~0.8 GB, a probing cell up to ~3 GB)
    jobs = jobs or max(1, min(8, os.cpu_count() or 1))
    failed = None
    try:
        run_grid(grid, jobs=jobs, root=results, out=out)
    except CellFailed as exc:  # still build the report of what finished; say what failed
        failed = exc
    written = build_report(results, results / "tables", figures)
    for name in HEADLINE_TABLES:
        if name in written.markdown:
            out("\n" + written.markdown[name])
    out(written.summary())
    out(f"results: {results}\ntables: {results / 'tables'}\nfigures: {figures}\n"
        f"demo took {time.perf_counter() - t_start:.0f} s")
    if failed:
        out(f"some cells failed: {failed}")
        return 1
    return 0
