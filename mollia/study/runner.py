"""Run a grid's cells, each as its own papermill subprocess, with resume and atomic outputs.

Layout of one finished cell::

    results/<notebook stem>/<cell key>/
        notebook.ipynb   the executed notebook
        params.json      the cell's full parameters (notebook defaults + grid values)
        metrics.json     what the notebook wrote (the report reads only these)

A cell runs in ``results/<stem>/.partial/<key>/`` (its ``out_dir``), which is renamed to the
final folder only when the notebook succeeded and wrote its metrics: a killed grid leaves no
half-finished cell where the report looks. The partial folder is stable per cell, so a notebook
that resumes inside its ``out_dir`` (the AL loop does, per iteration) continues where it stopped.
A cell whose final folder holds ``metrics.json`` and matching ``params.json`` is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import yaml

from mollia.atomic import write_json, write_text
from mollia.errors import MolliaError
from mollia.paths import results_root
from mollia.study.grid import Cell, Grid, canonical_json, plan

PARTIAL = ".partial"
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "MOLLIA_NUM_THREADS")


class CellFailed(MolliaError):
    """A notebook execution failed; the message names the cell and where its log is."""


@dataclass(frozen=True)
class CellResult:
    cell: Cell
    status: str  # "done" (ran now), "skipped" (already done), "failed"
    seconds: float = 0.0
    message: str = ""
    cpu_seconds: float = 0.0


def cell_dir(cell: Cell, root: Path | None = None) -> Path:
    return Path(root or results_root()) / cell.stem / cell.key


def partial_dir(cell: Cell, root: Path | None = None) -> Path:
    return Path(root or results_root()) / cell.stem / PARTIAL / cell.key


def is_done(cell: Cell, root: Path | None = None) -> bool:
    """Finished earlier with the same parameters (metrics.json present, params.json equal)."""
    final = cell_dir(cell, root)
    try:
        stored = json.loads((final / "params.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (final / "metrics.json").is_file() and canonical_json(stored) == canonical_json(cell.params)


def thread_env(threads: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of one job: every BLAS/OpenMP/torch thread count set to ``threads``."""
    env = dict(os.environ if base is None else base)
    for var in THREAD_VARS:
        env[var] = str(threads)
    env["TOKENIZERS_PARALLELISM"] = "false"
    return env


def run_cell(cell: Cell, root: str | Path | None = None, threads: int = 1, timeout: float | None = None,
             kernel: str = "python3", cwd: str | Path | None = None) -> CellResult:
    """Execute one cell through the papermill CLI in a subprocess; atomically publish its folder."""
    root = Path(root or results_root()).resolve()
    if is_done(cell, root):
        return CellResult(cell, "skipped")
    work, final = partial_dir(cell, root), cell_dir(cell, root)
    work.mkdir(parents=True, exist_ok=True)
    params = dict(cell.params, out_dir=str(work))
    write_text(work / "runner_params.yaml", yaml.safe_dump(params, sort_keys=True))
    executed = work / "notebook.ipynb"
    cmd = [sys.executable, "-m", "papermill", str(Path(cell.notebook).resolve()), str(executed),
           "-f", str(work / "runner_params.yaml"), "-k", kernel, "--cwd", str(Path(cwd or os.getcwd()).resolve()),
           "--no-progress-bar", "--log-output", "--no-report-mode"]
    env = thread_env(threads)
    env["MOLLIA_RESULTS"] = str(root)  # the notebook's caches and the runner agree on one root
    log = work / "runner.log"
    t0 = time.perf_counter()
    with open(log, "w", encoding="utf-8") as fh:
        fh.write(" ".join(cmd) + "\n")
        fh.flush()
        rc, cpu = _run_measured(cmd, fh, env, timeout)
    seconds = time.perf_counter() - t0
    if rc != 0:
        return CellResult(cell, "failed", seconds, f"{cell.stage}/{cell.key}: papermill exited {rc}; log {log}", cpu)
    metrics = work / "metrics.json"
    try:
        json.loads(metrics.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return CellResult(cell, "failed", seconds, f"{cell.stage}/{cell.key}: notebook wrote no valid metrics.json "
                                                    f"({exc}); log {log}")
    write_json(work / "params.json", cell.params)
    write_json(work / "runner.json", {"wall_s": round(seconds, 3), "cpu_s": round(cpu, 3), "threads": threads,
                                      "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    (work / "runner_params.yaml").unlink(missing_ok=True)
    _publish(work, final)
    return CellResult(cell, "done", seconds, cpu_seconds=cpu)


def _run_measured(cmd: list[str], log, env: dict, timeout: float | None) -> tuple[int | str, float]:
    """Run ``cmd``; return (exit code or "timeout", CPU seconds of it and its waited-for children,
    i.e. papermill and its kernel), measured by ``os.wait4`` for this child alone (safe with jobs > 1)."""
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    timed_out = threading.Event()

    def _kill() -> None:
        timed_out.set()
        proc.kill()

    timer = threading.Timer(timeout, _kill) if timeout else None
    if timer:
        timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        if timer:
            timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return ("timeout" if timed_out.is_set() else proc.returncode), cpu


def _publish(work: Path, final: Path) -> None:
    """Replace ``final`` by ``work`` with a rename (atomic on one filesystem)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():  # a stale result of other parameters: move it aside first, then drop it
        trash = Path(tempfile.mkdtemp(prefix=f".old-{final.name}-", dir=final.parent))
        os.replace(final, trash / final.name)
        os.replace(work, final)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(work, final)


def run_cells(cells: list[Cell], jobs: int = 1, root: str | Path | None = None, cores: int | None = None,
              timeout: float | None = None, progress: bool = True, cwd: str | Path | None = None,
              after: dict[str, Iterable[str]] | None = None) -> list[CellResult]:
    """Run cells with ``jobs`` concurrent papermill subprocesses, ``cores // jobs`` threads each.

    ``after`` maps a stage name to the stages whose cells must all have finished (done or
    failed) before any of its cells starts; stages absent from ``cells`` count as finished.
    Ready cells start in the order given, so list the long ones first. Threads here only wait
    on subprocesses (each notebook has its own process and kernel), so no papermill ever runs
    inside a pool of Python workers.
    """
    from tqdm.auto import tqdm

    jobs = max(1, int(jobs))
    threads = max(1, (cores or os.cpu_count() or 1) // jobs)
    after = {stage: set(needs) for stage, needs in (after or {}).items()}
    remaining: dict[str, int] = {}
    for c in cells:
        remaining[c.stage] = remaining.get(c.stage, 0) + 1
    waiting = list(cells)
    results: list[CellResult] = []
    bar = tqdm(total=len(cells), desc="cells", unit="cell", disable=not progress)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        running: dict = {}

        def submit_ready() -> None:
            for c in [c for c in waiting if not any(remaining.get(s, 0) for s in after.get(c.stage, ()))]:
                waiting.remove(c)
                running[pool.submit(run_cell, c, root, threads, timeout, "python3", cwd)] = c

        submit_ready()
        while running:
            fut = next(as_completed(running))
            running.pop(fut)
            res = fut.result()
            results.append(res)
            remaining[res.cell.stage] -= 1
            bar.set_postfix_str(f"{res.status} {res.cell.stage}/{res.cell.key[:40]}")
            bar.update(1)
            if res.status == "failed":
                tqdm.write(f"FAILED {res.message}")
            submit_ready()
        if waiting:  # only a dependency cycle could leave cells behind; grids cannot express one
            raise MolliaError(f"{len(waiting)} cells never became ready (stage dependencies {after})")
    bar.close()
    order = {id(c): i for i, c in enumerate(cells)}
    return sorted(results, key=lambda r: order[id(r.cell)])


def describe_plan(grid: Grid, cells: list[Cell], skipped: list[str], root: Path | None = None) -> str:
    lines = [f"grid {grid.name!r} ({grid.path}): {len(cells)} cells"]
    by_stage: dict[str, list[Cell]] = {}
    for c in cells:
        by_stage.setdefault(c.stage, []).append(c)
    for stage in grid.stages:
        group = by_stage.get(stage.name, [])
        if not group:
            continue
        done = sum(is_done(c, root) for c in group)
        lines.append(f"  stage {stage.name}: {stage.notebook.name} x {len(group)} cells ({done} already done)")
        for c in group[:3]:
            lines.append(f"    {c.stem}/{c.key}")
        if len(group) > 3:
            lines.append(f"    ... {len(group) - 3} more")
    lines.extend(f"  {msg}" for msg in skipped)
    lines.append(f"total: {len(cells)} cells")
    return "\n".join(lines)


def run_grid(grid: Grid, jobs: int = 1, backend: str = "local", dry_run: bool = False, only: Iterable[str] | None = None,
             root: str | Path | None = None, progress: bool = True, out=print, cores: int | None = None,
             timeout: float | None = None,
             submit_stage: Callable[[list[Cell], Path], list[CellResult]] | None = None) -> list[CellResult]:
    """Validate and expand ``grid``, then run its cells, each after the stages it needs (``after``;
    default every earlier stage). Raises CellFailed if any cell failed.

    ``backend="slurm"`` runs each stage's unfinished cells through ``submit_stage(cells, root)``, one
    stage after the other; `mollia.study.slurm.run_grid_slurm` supplies it (this module does not
    import the SLURM backend)."""
    if backend not in ("local", "slurm"):
        raise MolliaError(f"unknown backend {backend!r}; known: local, slurm")
    if backend == "slurm" and submit_stage is None:
        raise MolliaError("the slurm backend runs through mollia.study.slurm.run_grid_slurm (it submits the stages)")
    root = Path(root or results_root()).resolve()
    cells, skipped = plan(grid, only)
    if dry_run:
        out(describe_plan(grid, cells, skipped, root))
        return []
    for msg in skipped:
        out(msg)
    results: list[CellResult] = []
    done = {(c.stage, c.key): is_done(c, root) for c in cells}
    for stage in grid.stages:
        group = [c for c in cells if c.stage == stage.name]
        if group:
            out(f"stage {stage.name}: {len(group)} cells, {sum(done[c.stage, c.key] for c in group)} already done"
                + (f" (after {', '.join(stage.after)})" if stage.after else ""))
    todo = [c for c in cells if not done[c.stage, c.key]]
    ran: list[CellResult] = []
    if todo and backend == "local":
        # one pool across stages: a cell starts as soon as the stages it needs have finished
        ran = run_cells(todo, jobs=jobs, root=root, cores=cores, timeout=timeout, progress=progress,
                        after={s.name: s.after for s in grid.stages})
    elif todo and backend == "slurm":
        for stage in grid.stages:  # one job array per stage, in order: a later stage reads an earlier one's output
            group = [c for c in todo if c.stage == stage.name]
            if group:
                ran.extend(submit_stage(group, root))
    ran_by_cell = {(r.cell.stage, r.cell.key): r for r in ran}  # (submitit returns copies of the cells)
    results = [ran_by_cell.get((c.stage, c.key)) or CellResult(c, "skipped") for c in cells]
    failed = [r for r in results if r.status == "failed"]
    ran = sum(r.status == "done" for r in results)
    cpu = sum(r.cpu_seconds for r in results if r.status != "skipped")
    out(f"grid {grid.name}: {ran} ran, {sum(r.status == 'skipped' for r in results)} skipped, {len(failed)} failed"
        + (f" (notebooks' CPU time {cpu:.0f} s)" if ran or failed else ""))
    if failed:
        raise CellFailed("; ".join(r.message for r in failed[:5]) + (f" (+{len(failed) - 5} more)" if len(failed) > 5 else ""))
    return results
