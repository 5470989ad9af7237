"""`mollia demo` (what `make demo` runs): fetch the offline models (and the paper's released TREC
arrays where reachable), run params/offline.yaml, report into results/demo.

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


def demo_outputs(results: str | Path | None = None, figures: str | Path | None = None) -> tuple[Path, Path]:
    """Where the demo writes: ``results/demo`` (tables in ``results/demo/tables``, figures in
    ``results/demo/figures``) unless given or set by MOLLIA_RESULTS / MOLLIA_FIGURES. The committed
    ``results/tables`` and ``figures/`` hold the evidence grid's report (params/trec_evidence.yaml),
    which a demo run must not overwrite: the demo is a small illustration."""
    if results is None:
        results = results_root() if os.environ.get("MOLLIA_RESULTS") else results_root() / "demo"
    results = Path(results).resolve()
    if figures is None:
        figures = figures_root() if os.environ.get("MOLLIA_FIGURES") else results / "figures"
    return results, Path(figures).resolve()


def ensure_paper_probes(out=print, download: bool = True, **download_kw) -> Path | None:
    """The paper's released TREC arrays for the demo's replayed stages: where the user points
    (``MOLLIA_PAPER_PROBES``) or already has them; else downloaded (pinned commit, pinned sha256)
    into ``MOLLIA_HOME`` by default. Offline (the download fails) it says how to provide them and
    returns None: those stages are then skipped. ``download_kw`` go to ``download_released``."""
    from mollia.errors import MolliaError
    from mollia.probes.download import RELEASE_COMMIT, default_released_dir, download_released
    from mollia.probes.paper import load_released
    from mollia.study.grid import paper_probes_dir

    where = paper_probes_dir()
    try:
        load_released(where, "trec")
        out(f"paper probes: replaying the paper's released TREC arrays from {where}")
        return where
    except MolliaError:
        pass
    how = ("provide a copy with MOLLIA_PAPER_PROBES=/path/to/MoLLIA/output_exp (a clone of "
           "github.com/qijindou/MoLLIA) or run `mollia probe download-released --dataset trec` where "
           "raw.githubusercontent.com is reachable, then `make demo` again")
    if os.environ.get("MOLLIA_PAPER_PROBES"):
        out(f"paper probes: MOLLIA_PAPER_PROBES={where} holds no valid released TREC arrays; the paper's "
            f"replayed stages are skipped ({how})")
        return None
    if not download:
        out(f"paper probes: not found and not downloaded (--no-download); the replayed stages are skipped ({how})")
        return None
    dest = default_released_dir()
    out(f"paper probes: downloading the paper's released TREC arrays (qijindou/MoLLIA@{RELEASE_COMMIT[:7]}, "
        f"sha256-pinned) into {dest}")
    try:
        download_released("trec", dest, **download_kw)
    except MolliaError as exc:
        out(f"paper probes: download failed ({exc}); the paper's replayed stages are skipped: {how}")
        return None
    out(f"paper probes: fetched and checked against the pinned sha256; replaying them from {dest}")
    return dest


def run_demo(grid_path: str | Path | None = None, jobs: int | None = None, results: str | Path | None = None,
             figures: str | Path | None = None, fetch: bool = True, out=print, download_probes: bool = True) -> int:
    t_start = time.perf_counter()
    results, figures = demo_outputs(results, figures)
    ensure_paper_probes(out, download=download_probes and fetch)
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
