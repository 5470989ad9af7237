"""SLURM backend: each stage's cells as submitit job arrays (several where a stage is larger than the
cluster's MaxArraySize; a one-cell stage is a plain job); each array task runs one cell.

Each task calls `mollia.study.runner.run_cell`, i.e. the same papermill subprocess and the same
atomic publish as the local backend, so a cluster run and a laptop run leave the same folders and
resume the same way: submitting the grid again skips every finished cell and reruns the others (a
cell killed mid-way resumes inside its ``.partial`` folder where its notebook supports it).

What one cell asks for comes from its stage's ``resources:`` in the grid file, over the defaults
(the ``--slurm-*`` options). The stages run in order, each array waited for before the next is
submitted (a later stage reads an earlier one's outputs). While waiting, job states come from SLURM
itself (``scontrol show job``, else ``sacct``), so a task that SLURM cancelled, timed out or lost
before it wrote a result is reported as a failed cell naming SLURM's state and reason, instead of a
wait that never ends (submitit's own polling needs ``sacct``, which needs slurmdbd); a task SLURM
requeues (preemption) is waited for.

``cluster`` is passed to ``submitit.AutoExecutor``: None picks SLURM where ``sbatch`` exists;
"local" and "debug" run on this machine without SLURM.

This module imports the runner, never the other way round: ``run_grid_slurm`` hands the runner a
per-stage submitter.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from mollia.errors import MolliaError
from mollia.study.grid import Cell, Grid, Resources, Stage, plan
from mollia.study.runner import CellResult, describe_plan, is_done, run_cell, run_grid

# what a cell asks for when neither its stage nor the command line says (the CLI's --slurm-* defaults)
DEFAULT_RESOURCES = Resources(cpus=4, mem_gb=32, gpus=0, time_min=240, partition=None, array_parallelism=64)
# states of a task that SLURM put back in the queue (after a preemption or `scontrol requeue`)
REQUEUED_STATES = {"PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED"}
# SLURM job states after which a task never runs again (PREEMPTED is not here: it may be requeued)
FINAL_STATES = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL",
                "DEADLINE", "REVOKED"}


@dataclass(frozen=True)
class SlurmState:
    """One task's state as SLURM reports it."""

    state: str  # e.g. RUNNING, TIMEOUT, CANCELLED (sacct's "CANCELLED by 0" is cut to its first word)
    reason: str = ""  # scontrol's Reason (TimeLimit, NonZeroExitCode, ...) or sacct's
    exit_code: str = ""
    source: str = ""  # "scontrol" or "sacct"

    def describe(self) -> str:
        parts = [self.state]
        if self.reason and self.reason not in ("None", "(null)"):
            parts.append(f"reason {self.reason}")
        if self.exit_code:
            parts.append(f"exit code {self.exit_code}")
        return ", ".join(parts) + (f" (from {self.source})" if self.source else "")


def resolve(stage: Stage, defaults: Resources = DEFAULT_RESOURCES) -> Resources:
    """The stage's ``resources:`` over ``defaults`` over ``DEFAULT_RESOURCES``."""
    return stage.resources.over(defaults.over(DEFAULT_RESOURCES))


def executor_parameters(resources: Resources, cluster: str, name: str) -> dict:
    """submitit parameters for one stage's array (turned into ``#SBATCH`` lines on SLURM)."""
    params = {"timeout_min": resources.time_min, "cpus_per_task": resources.cpus, "mem_gb": resources.mem_gb,
              "name": name}
    if cluster == "slurm":
        params["slurm_array_parallelism"] = resources.array_parallelism
        # SLURM warns a task (USR2) this long before its limit; our tasks ignore it (see
        # _leave_time_limits_to_slurm), a short limit gets a short warning all the same
        params["slurm_signal_delay_s"] = int(min(90, max(10, resources.time_min * 60 // 4)))
        if resources.partition:
            params["slurm_partition"] = resources.partition
        if resources.gpus:
            params["gpus_per_node"] = resources.gpus
    return params


def sbatch_options(resources: Resources, n_cells: int) -> str:
    """The request of one stage as sbatch would read it (for the dry run)."""
    parts = [f"--array=0-{n_cells - 1}%{min(resources.array_parallelism, n_cells)}", f"--cpus-per-task={resources.cpus}",
             f"--mem={resources.mem_gb:g}G", f"--time={resources.time_min}"]
    if resources.gpus:
        parts.append(f"--gpus-per-node={resources.gpus}")
    if resources.partition:
        parts.append(f"--partition={resources.partition}")
    return " ".join(parts)


def _run_one(cell: Cell, root: str, threads: int, timeout: float | None) -> CellResult:
    """One array task (runs on the cluster)."""
    _leave_time_limits_to_slurm()
    return run_cell(cell, root=root, threads=threads, timeout=timeout)


def _leave_time_limits_to_slurm() -> None:
    """SLURM sends its early warning (submitit's ``--signal=USR2@...``) to every process of the task:
    it would kill the papermill subprocess and its kernel (USR2's default action), and submitit's
    handler would end the task itself, so that SLURM records FAILED by the task's own exit. Ignored
    here (the papermill child and its kernel inherit the ignore), the cell runs on until SLURM stops it
    at its limit (accounting: TIMEOUT, reason TimeLimit) or requeues it when preempted (the requeued
    task resumes in the cell's .partial folder)."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGUSR2, signal.SIG_IGN)


# -- SLURM's view of the tasks --------------------------------------------------------------------
def _expand_tasks(spec: str) -> list[str]:
    """Task indices of scontrol's ArrayTaskId ("3", "1-3%1", "0,2,5-7")."""
    out: list[str] = []
    for part in spec.split("%")[0].split(","):
        if "-" in part:
            lo, hi = part.split("-", 1)
            if lo.isdigit() and hi.isdigit():
                out.extend(str(i) for i in range(int(lo), int(hi) + 1))
        elif part.isdigit():
            out.append(part)
    return out


def parse_scontrol(text: str) -> dict[str, SlurmState]:
    """``scontrol show job -o`` output (one job per line, ``Key=Value`` fields) -> states by task id
    ("<array job>_<task>", or the plain job id outside an array)."""
    states: dict[str, SlurmState] = {}
    for line in text.splitlines():
        fields = dict(m.groups() for m in re.finditer(r"(\w[\w/:]*)=(\S*)", line))
        if "JobState" not in fields:
            continue
        state = SlurmState(fields["JobState"], fields.get("Reason", ""), fields.get("ExitCode", ""), "scontrol")
        array, tasks = fields.get("ArrayJobId"), fields.get("ArrayTaskId")
        if array and tasks:
            for task in _expand_tasks(tasks):
                states[f"{array}_{task}"] = state
        else:
            states[fields["JobId"]] = state
    return states


def parse_sacct(text: str) -> dict[str, SlurmState]:
    """``sacct -n -P -X -o JobID,State,Reason,ExitCode`` output -> states by task id."""
    states = {}
    for line in text.splitlines():
        parts = line.split("|")
        if len(parts) >= 4 and parts[0]:
            states[parts[0]] = SlurmState(parts[1].split()[0] if parts[1] else "", parts[2], parts[3], "sacct")
    return states


def slurm_states(job_ids: Iterable[str]) -> dict[str, SlurmState]:
    """States of these tasks: scontrol first (it knows queued jobs and, for MinJobAge, finished ones),
    then sacct for what scontrol no longer knows (sacct needs slurmdbd; without it those stay unknown)."""
    job_ids = list(job_ids)
    states: dict[str, SlurmState] = {}
    for array in sorted({j.split("_")[0] for j in job_ids}):
        proc = subprocess.run(["scontrol", "show", "job", "-o", array], capture_output=True, text=True)
        if proc.returncode == 0:
            states.update(parse_scontrol(proc.stdout))
    missing = [j for j in job_ids if j not in states]
    if missing and shutil.which("sacct"):
        proc = subprocess.run(["sacct", "-n", "-P", "-X", "-o", "JobID,State,Reason,ExitCode", "-j", ",".join(missing)],
                              capture_output=True, text=True)
        if proc.returncode == 0:
            states.update(parse_sacct(proc.stdout))
    return {j: states[j] for j in job_ids if j in states}


def _failure(exc: BaseException) -> str:
    """The gist of a submitit error: the last line of the task's traceback (submitit's message wraps
    it between dashed lines, followed by where the logs are)."""
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    dashes = [i for i, ln in enumerate(lines) if set(ln) == {"-"}]
    if len(dashes) >= 2 and dashes[1] - dashes[0] > 1:
        return lines[dashes[1] - 1]
    return lines[-1] if lines else type(exc).__name__


def _outcome(cell: Cell, job) -> CellResult:
    """The task's own result (its pickle exists)."""
    try:
        return job.result()
    except Exception as exc:  # submitit pickled the task's exception
        return CellResult(cell, "failed", 0.0, f"{cell.stage}/{cell.key}: job {job.job_id} failed: {_failure(exc)}")


def _with_state(result: CellResult, state: SlurmState | None) -> CellResult:
    """A failed result also names SLURM's state when SLURM did not see the task complete."""
    if result.status != "failed" or state is None or state.state == "COMPLETED":
        return result
    return CellResult(result.cell, "failed", result.seconds, f"{result.message}; SLURM: {state.describe()}",
                      result.cpu_seconds)


def _wait_slurm(cells: list[Cell], jobs: list, poll_s: float, unknown_after: int,
                settle_s: float = 30.0) -> list[CellResult]:
    """Wait for every task. A result pickle means the task's Python ran to its end (its cell succeeded
    or failed); a failed one is held until SLURM's state is final (a cancelled or timed-out task writes
    its pickle while still COMPLETING), at most ``settle_s``, and dropped if SLURM requeues the task
    (only a newer pickle counts then). A final SLURM state without a pickle means SLURM stopped the task
    before its Python could answer."""
    from tqdm.auto import tqdm

    results: dict[int, CellResult] = {}
    held: dict[int, tuple[CellResult, float]] = {}
    stale: dict[int, float] = {}  # mtime of a result pickle left by a run that SLURM then requeued
    unknown: dict[int, int] = {}
    bar = tqdm(total=len(cells), desc=f"stage {cells[0].stage}", unit="cell")
    delay = min(1.0, poll_s)
    while len(results) < len(cells):
        waiting = [i for i in range(len(cells)) if i not in results]
        states = slurm_states(jobs[i].job_id for i in waiting)
        for i in waiting:
            cell, job = cells[i], jobs[i]
            state = states.get(job.job_id)
            final = state is not None and state.state in FINAL_STATES
            pickle = job.paths.result_pickle
            if i not in held and pickle.exists() and pickle.stat().st_mtime > stale.get(i, float("-inf")):
                held[i] = (_outcome(cell, job), time.monotonic())
            if i in held:
                result, since = held[i]
                if result.status == "failed" and state is not None and state.state in REQUEUED_STATES:
                    # SLURM requeued the task (preemption, `scontrol requeue`): its next run answers
                    stale[i] = pickle.stat().st_mtime
                    del held[i]
                elif result.status != "failed" or final or state is None or time.monotonic() - since > settle_s:
                    results[i] = _with_state(result, state)
            elif final:
                time.sleep(0.5)  # the task may have written its result just before SLURM reported it finished
                if job.paths.result_pickle.exists():
                    results[i] = _with_state(_outcome(cell, job), state)
                else:
                    results[i] = CellResult(cell, "failed", 0.0, f"{cell.stage}/{cell.key}: SLURM job {job.job_id} "
                                            f"ended without a result: {state.describe()}; log {job.paths.stderr}")
            elif state is None:
                unknown[i] = unknown.get(i, 0) + 1
                if unknown[i] >= unknown_after:  # purged from slurmctld and no accounting to ask
                    results[i] = CellResult(cell, "failed", 0.0, f"{cell.stage}/{cell.key}: SLURM no longer knows job "
                                            f"{job.job_id} and it left no result; log {job.paths.stderr}")
            if i in results:
                bar.update(1)
                bar.set_postfix_str(f"{results[i].status} {cell.key[:40]}")
                if results[i].status == "failed":
                    bar.write(f"FAILED {results[i].message}")
        if len(results) < len(cells):
            time.sleep(delay)
            delay = min(poll_s, delay * 1.5)  # quick at first, then gentle on slurmctld
    bar.close()
    return [results[i] for i in range(len(cells))]


def max_array_size(default: int = 1001) -> int:
    """The cluster's MaxArraySize (``scontrol show config``; SLURM's default 1001: indices 0-1000)."""
    if shutil.which("scontrol"):
        proc = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True)
        match = re.search(r"^MaxArraySize\s*=\s*(\d+)", proc.stdout, re.M)
        if proc.returncode == 0 and match:
            return int(match.group(1))
    return default


def array_chunks(n: int, resources: Resources, max_size: int) -> list[tuple[int, int, int]]:
    """(start, stop, parallelism) of each job array for ``n`` cells: arrays of at most ``max_size``
    tasks (SLURM refuses larger ones), the stage's parallelism shared among them."""
    starts = list(range(0, n, max_size))
    share = max(1, resources.array_parallelism // max(1, len(starts)))
    return [(start, min(n, start + max_size), share) for start in starts]


def run_cells_submitit(cells: list[Cell], root: str | Path, resources: Resources = DEFAULT_RESOURCES,
                       cluster: str | None = None, folder: str | Path | None = None, timeout: float | None = None,
                       poll_s: float = 30.0, unknown_after: int = 10, out=print) -> list[CellResult]:
    """Submit ``cells`` (one stage) as job arrays and wait for them; one result per cell, in order.

    ``timeout`` (seconds) kills a cell's notebook inside its task; by default only SLURM's time
    limit (``resources.time_min``) applies."""
    import submitit

    resources = resources.over(DEFAULT_RESOURCES)
    folder = Path(folder or Path(root) / ".submitit")
    executor = submitit.AutoExecutor(folder=folder, cluster=cluster)
    name = f"mollia-{cells[0].stage}"
    if executor.cluster != "slurm":
        executor.update_parameters(**executor_parameters(resources, executor.cluster, name))
        n = len(cells)
        jobs = executor.map_array(_run_one, cells, [str(root)] * n, [resources.cpus] * n, [timeout] * n)
        out(f"stage {cells[0].stage}: {n} cells through submitit ({executor.cluster}); logs in {folder}")
        results = []
        for cell, job in zip(cells, jobs):
            try:
                results.append(job.result())
            except Exception as exc:  # a job that died is a failed cell, not a crash
                results.append(CellResult(cell, "failed", 0.0, f"{cell.stage}/{cell.key}: job {job.job_id} failed: "
                                                                f"{_failure(exc)}"))
        return results
    jobs = []
    for start, stop, parallelism in array_chunks(len(cells), resources, max_array_size()):
        chunk = Resources(**{**vars(resources), "array_parallelism": parallelism})
        executor.update_parameters(**executor_parameters(chunk, "slurm", name))
        part = cells[start:stop]
        n = len(part)
        submitted = executor.map_array(_run_one, part, [str(root)] * n, [resources.cpus] * n, [timeout] * n)
        jobs.extend(submitted)
        # submitit submits a single cell as a plain job, more as an array
        what = f"job array {submitted[0].job_id.split('_')[0]}" if n > 1 else f"job {submitted[0].job_id}"
        out(f"stage {cells[0].stage}: submitted {n} cell{'s' if n > 1 else ''} as {what} "
            f"(sbatch {sbatch_options(chunk, n)}); logs in {folder}")
    return _wait_slurm(cells, jobs, poll_s, unknown_after)


def run_grid_slurm(grid: Grid, defaults: Resources = DEFAULT_RESOURCES, cluster: str | None = None,
                   dry_run: bool = False, only: Iterable[str] | None = None, root: str | Path | None = None,
                   out=print, timeout: float | None = None, poll_s: float = 30.0,
                   probe_s_per_item: float | None = None) -> list[CellResult]:
    """``mollia grid --backend slurm``: every stage as one job array, in order; resumable like the local
    runner. ``dry_run`` prints what would be submitted (arrays, requests, a GPU-hour estimate)."""
    if dry_run:
        cells, skipped = plan(grid, only)
        from mollia.paths import results_root

        out(describe_slurm_plan(grid, cells, skipped, defaults, Path(root or results_root()).resolve(), probe_s_per_item))
        return []

    stages = {s.name: s for s in grid.stages}

    def submit(stage_cells: list[Cell], root_: Path) -> list[CellResult]:
        return run_cells_submitit(stage_cells, root_, resolve(stages[stage_cells[0].stage], defaults), cluster=cluster,
                                  timeout=timeout, poll_s=poll_s, out=out)

    return run_grid(grid, backend="slurm", only=only, root=root, out=out, submit_stage=submit)


# -- the dry run: what would be submitted, and what it would cost -----------------------------------
# Assumed GPU seconds per probed item per 7-9B LLM. Not measured: this machine has no GPU and the
# paper reports no times. Derivation (an estimate, so one significant figure): one 8B model in bf16
# is ~16 GB of weights; an A40 (the paper's GPU) reads them in ~25 ms (696 GB/s), once per decoding
# step; a batch of 8 items needs ~8 steps (max_new_tokens) for its T samples plus one prefill of
# ~8 x 200 tokens (~0.2 s at ~150 TFLOP/s), i.e. ~0.05 s per item at full speed; x4 for real-world
# efficiency. Give yours with --probe-s-per-item after timing a few batches on your GPU.
ASSUMED_PROBE_S_PER_ITEM = 0.2


def probe_items(cell: Cell) -> int | None:
    """Items one probing cell probes per model: ``n``, capped by the dataset's pool (None: unknown)."""
    n = cell.params.get("n")
    if not isinstance(n, int):
        return None
    from mollia.data import registry
    from mollia.errors import UnknownNameError

    try:
        spec = registry.get(str(cell.params.get("dataset")))
    except UnknownNameError:  # the user's own dataset: n as given
        return n
    # the hub pool: the paper's sample (pool_size; None = all) within the train split (paper_sizes[0]),
    # e.g. 10,000 for ag_news, imdb, pubmed and TREC's 5,000 train questions (`DatasetSpec.pool`)
    bounds = [b for b in (spec.pool_size, spec.paper_sizes[0] if spec.paper_sizes else None) if b]
    return min([n, *bounds])


def describe_slurm_plan(grid: Grid, cells: list[Cell], skipped: list[str], defaults: Resources, root: Path,
                        probe_s_per_item: float | None = None) -> str:
    """Per stage: the job array, its size, the request, and GPU hours (reserved, and for probing estimated)."""
    s_per_item = ASSUMED_PROBE_S_PER_ITEM if probe_s_per_item is None else probe_s_per_item
    digits = 1 if probe_s_per_item is None else 2  # an assumption: one figure; a measurement: two
    max_size = max_array_size()
    lines = [describe_plan(grid, cells, skipped, root), "",
             f"SLURM submission (stages in order; job arrays of at most MaxArraySize={max_size} tasks):"]
    total_reserved, total_probe = 0.0, 0.0
    for stage in grid.stages:
        group = [c for c in cells if c.stage == stage.name]
        if not group:
            continue
        todo = [c for c in group if not is_done(c, root)]
        res = resolve(stage, defaults)
        reserved = len(todo) * (res.gpus or 0) * res.time_min / 60
        total_reserved += reserved
        chunks = array_chunks(len(todo), res, max_size) or [(0, 0, res.array_parallelism)]
        lines.append(f"  {stage.name}: {len(todo)} cells to run ({len(group) - len(todo)} done) in "
                     f"{len(chunks)} job array{'s' if len(chunks) > 1 else ''}:")
        for start, stop, parallelism in chunks:
            chunk = Resources(**{**vars(res), "array_parallelism": parallelism})
            lines.append(f"    sbatch {sbatch_options(chunk, max(1, stop - start))}")
        if not res.gpus:
            continue
        line = f"    GPU hours reserved at most: {reserved:,.0f} (tasks x GPUs x time limit)"
        if stage.notebook.stem == "01_llm_probing":
            probes = sum(probe_items(c) * len(c.params.get("models") or []) for c in todo if probe_items(c))
            estimate = probes * s_per_item / 3600
            total_probe += estimate
            line += (f"; probing estimate about {_significant(estimate, digits)} GPU hours = {probes:,} "
                     f"item-model probes x {s_per_item:g} s")
        lines.append(line)
    source = ("given with --probe-s-per-item" if probe_s_per_item is not None else
              "an ASSUMPTION, not a measurement: no GPU here and the paper reports no times; derived from an A40's "
              "memory bandwidth for an 8B bf16 model, x4 margin; see mollia/study/slurm.py")
    lines.append(f"total GPU hours reserved at most: {total_reserved:,.0f}; probing estimate: about "
                 f"{_significant(total_probe, digits)} "
                 f"(at {s_per_item:g} GPU s per item per model, {source})")
    return "\n".join(lines)


def _significant(hours: float, digits: int) -> str:
    """``hours`` to ``digits`` significant figures (an estimate is no more precise than its inputs)."""
    return f"{float(f'{hours:.{digits}g}'):,g}"


def require_sbatch() -> None:
    if not shutil.which("sbatch"):
        raise MolliaError("--backend slurm needs SLURM's sbatch on PATH (or --slurm-cluster local/debug to run "
                          "without SLURM); scripts/slurm_local.sh starts a single-node SLURM on this machine")
