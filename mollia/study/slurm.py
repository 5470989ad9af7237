"""SLURM backend: one submitit job array per stage; each array task runs one cell.

Each task calls `mollia.study.runner.run_cell`, i.e. the same papermill subprocess and the same
atomic publish as the local backend, so a cluster run and a laptop run leave the same folders and
resume the same way. ``cluster`` is passed to ``submitit.AutoExecutor``: None picks SLURM where
``sbatch`` exists; "local" and "debug" run on this machine (the tests use them).
"""

from __future__ import annotations

from pathlib import Path

from mollia.study.grid import Cell
from mollia.study.runner import CellResult, run_cell


def _run_one(cell: Cell, root: str, threads: int, timeout: float | None) -> CellResult:
    return run_cell(cell, root=root, threads=threads, timeout=timeout)


def run_cells_submitit(cells: list[Cell], root: str | Path, cluster: str | None = None, partition: str | None = None,
                       cpus_per_task: int = 4, gpus_per_node: int = 0, timeout_min: int = 240, mem_gb: int = 32,
                       array_parallelism: int = 64, folder: str | Path | None = None,
                       out=print) -> list[CellResult]:
    """Submit ``cells`` as one job array and wait for it (the next stage reads its outputs);
    returns one result per cell, in order."""
    import submitit

    folder = Path(folder or Path(root) / ".submitit")
    executor = submitit.AutoExecutor(folder=folder, cluster=cluster)
    options = {"timeout_min": timeout_min, "cpus_per_task": cpus_per_task, "mem_gb": mem_gb, "name": "mollia-grid"}
    if executor.cluster == "slurm":
        options["slurm_array_parallelism"] = array_parallelism
        if partition:
            options["slurm_partition"] = partition
        if gpus_per_node:
            options["gpus_per_node"] = gpus_per_node
    executor.update_parameters(**options)
    n = len(cells)
    jobs = executor.map_array(_run_one, cells, [str(root)] * n, [cpus_per_task] * n, [timeout_min * 60.0] * n)
    out(f"submitted {n} cells as a job array through submitit ({executor.cluster}); logs in {folder}")
    results = []
    for cell, job in zip(cells, jobs):
        try:
            results.append(job.result())
        except Exception as exc:  # a job that died (preempted, out of memory) is a failed cell, not a crash
            results.append(CellResult(cell, "failed", 0.0, f"{cell.stage}/{cell.key}: job {job.job_id} failed: {exc}"))
    return results
