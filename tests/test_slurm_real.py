"""The SLURM backend against a real SLURM (sbatch, job arrays, scancel, time limits, partitions).

Run by ``make test-slurm``, which starts a single-node cluster on this machine with
``scripts/slurm_local.sh`` and points ``SLURM_CONF`` at it. Elsewhere these tests skip, saying why:
no ``sinfo`` on PATH (SLURM not installed), or no cluster answering (``sinfo`` fails). They read
``SLURM_CONF`` as SLURM does; they never start a cluster themselves.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
import yaml

from mollia.study.grid import Resources, load_grid, plan
from mollia.study.runner import CellFailed, cell_dir, is_done, partial_dir
from mollia.study.slurm import parse_scontrol, run_grid_slurm

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slurm


def _cluster() -> dict:
    if not shutil.which("sinfo"):
        pytest.skip("SLURM is not installed (no sinfo on PATH); `make test-slurm` installs nothing: run "
                    "`scripts/slurm_local.sh install` as root first")
    pytest.importorskip("submitit")
    proc = subprocess.run(["sinfo", "-h", "-o", "%P|%a|%t|%G|%c|%m"], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0 or not proc.stdout.strip():
        said = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        pytest.skip(f"no SLURM cluster answers (sinfo said: {said[-1][:200] if said else 'nothing'}); "
                    "`make test-slurm` starts one with scripts/slurm_local.sh")
    partitions, default, gres = [], None, ""
    for line in proc.stdout.split():
        name, avail, state, node_gres, cpus, _mem = line.split("|")
        if avail != "up":
            continue
        if name.endswith("*"):
            name = default = name[:-1]
        partitions.append(name)
        gres += node_gres
    if not partitions or not any(s in proc.stdout for s in ("idle", "mix")):
        pytest.skip(f"the SLURM cluster has no idle up partition: {proc.stdout.strip()}")
    return {"partitions": partitions, "default": default, "gpu": "gpu" in gres}


@pytest.fixture(scope="module")
def cluster() -> dict:
    return _cluster()


TOY_PARAMS = '''\
x: int = 1  # which cell
out_dir: str = "out"  # where metrics.json goes
'''
# sleeps while the marker file exists (so that one cell can be made slow and then fast again without
# changing its parameters, i.e. its key); logs each run
TOY_BODY = '''\
import json, os, pathlib, time
marker = pathlib.Path(os.environ["TOY_SLOW"] + f"-{x}")
with open(os.environ["TOY_LOG"], "a") as fh:
    fh.write(f"{x}\\n")
while marker.exists():
    time.sleep(1)
pathlib.Path(out_dir).mkdir(parents=True, exist_ok=True)
(pathlib.Path(out_dir) / "metrics.json").write_text(json.dumps({"kind": "toy", "x": x,
    "job": os.environ.get("SLURM_JOB_ID"), "partition": os.environ.get("SLURM_JOB_PARTITION")}))
'''


@pytest.fixture
def toy(tmp_path, monkeypatch):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell(TOY_PARAMS)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell(TOY_BODY)]
    path = tmp_path / "notebooks" / "toy.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    monkeypatch.setenv("TOY_LOG", str(tmp_path / "runs.log"))
    monkeypatch.setenv("TOY_SLOW", str(tmp_path / "slow"))
    monkeypatch.chdir(tmp_path)  # sbatch's working directory: the jobs run here
    return path


def write_grid(path: Path, stages: list[dict]) -> Path:
    path.write_text(yaml.safe_dump({"name": "toy", "stages": stages}))
    return path


def runs(tmp_path: Path) -> list[str]:
    log = tmp_path / "runs.log"
    return log.read_text().split() if log.exists() else []


def job_ids(lines: list[str]) -> list[str]:
    """Job ids from run_grid_slurm's 'submitted ... as job array N' / 'as job N' (one cell) lines."""
    return [m.group(1) for line in lines for m in [re.search(r"as job (?:array )?(\d+)", line)] if m]


def submit_in_background(grid, root: Path, lines: list[str]) -> tuple[threading.Thread, dict]:
    """run_grid_slurm in a thread (the test acts on the queue meanwhile); its results or CellFailed
    land in the returned dict."""
    outcome: dict = {}

    def submit() -> None:
        try:
            outcome["results"] = run_grid_slurm(grid, root=root, out=lines.append, poll_s=2)
        except CellFailed as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=submit)
    worker.start()
    return worker, outcome


def wait_until_running(tmp_path: Path, x: str, lines: list[str], limit_s: float = 120) -> str:
    """Wait for cell ``x`` to have started (its notebook logged itself); the submitted job id."""
    deadline = time.time() + limit_s
    while time.time() < deadline and (x not in runs(tmp_path) or not job_ids(lines)):
        time.sleep(0.5)
    assert job_ids(lines) and x in runs(tmp_path), f"cell {x} never started: {lines}"
    return job_ids(lines)[0]


def scontrol(job: str) -> list[dict[str, str]]:
    text = subprocess.run(["scontrol", "show", "job", "-o", job], capture_output=True, text=True, check=True).stdout
    return [dict(m.groups() for m in re.finditer(r"(\w[\w/:]*)=(\S*)", line)) for line in text.splitlines() if line]


def test_smoke_grid_through_sbatch_then_resumes(cluster, tmp_path):
    """`mollia grid params/smoke.yaml --backend slurm`: one job array per stage through sbatch, every cell
    published whole in results/, and a second submission submits nothing."""
    sys.path.insert(0, str(Path(__file__).parent))
    from conftest import _find_paper_dir

    env = dict(os.environ, MOLLIA_RESULTS=str(tmp_path / "results"), PYTHONPATH=str(REPO))
    paper = _find_paper_dir()
    if paper is not None:  # else the stages that replay the paper's probes are skipped, saying so
        env["MOLLIA_PAPER_PROBES"] = str(paper / "probes")
    root = tmp_path / "results"
    cmd = [sys.executable, "-c", "import sys; from mollia.cli import main; sys.exit(main())", "grid",
           str(REPO / "params" / "smoke.yaml"), "--backend", "slurm", "--results", str(root),
           "--slurm-cpus", "1", "--slurm-mem", "3", "--slurm-time", "20", "--slurm-poll", "2"]
    first = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1500)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    arrays = job_ids(first.stdout.splitlines())
    old = dict(os.environ)
    os.environ.update(env)
    try:
        cells, skipped = plan(load_grid(REPO / "params" / "smoke.yaml"))
    finally:
        os.environ.clear()
        os.environ.update(old)
    stages = list(dict.fromkeys(c.stage for c in cells))
    assert len(arrays) == len(stages), first.stdout  # one array per stage that has cells
    for job, stage in zip(arrays, stages):
        tasks = scontrol(job)
        assert {t["JobName"] for t in tasks} == {f"mollia-{stage}"} and {t["JobState"] for t in tasks} == {"COMPLETED"}
        n = sum(c.stage == stage for c in cells)  # submitit sends one cell as a plain job, more as an array
        assert len(tasks) == n and all(t.get("ArrayJobId", job) == job for t in tasks)
    for cell in cells:
        folder = cell_dir(cell, root)
        assert {"metrics.json", "params.json", "notebook.ipynb"} <= {p.name for p in folder.iterdir()}, folder
        assert json.loads((folder / "metrics.json").read_text()).get("kind")
        assert not partial_dir(cell, root).exists()  # published by a rename: nothing left half-way
    second = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert not job_ids(second.stdout.splitlines()), second.stdout  # nothing submitted
    assert f"0 ran, {len(cells)} skipped, 0 failed" in second.stdout


def test_parse_scontrol_expands_pending_array_tasks():
    text = ("JobId=4 ArrayJobId=4 ArrayTaskId=1-3%1 JobState=PENDING Reason=JobArrayTaskLimit ExitCode=0:0\n"
            "JobId=5 ArrayJobId=4 ArrayTaskId=0 JobState=TIMEOUT Reason=TimeLimit ExitCode=0:15\n")
    states = parse_scontrol(text)
    assert sorted(states) == ["4_0", "4_1", "4_2", "4_3"]
    assert states["4_0"].state == "TIMEOUT" and "TimeLimit" in states["4_0"].describe()
    assert states["4_3"].state == "PENDING"


def test_stage_resources_reach_sbatch(cluster, toy, tmp_path):
    """Per-stage `resources:` become the array's sbatch request, as scontrol reports it."""
    other = next((p for p in cluster["partitions"] if p != cluster["default"]), cluster["default"])
    first = {"cpus": 1, "mem_gb": 0.25, "time_min": 3, "partition": other, "array_parallelism": 1}
    if cluster["gpu"]:
        first["gpus"] = 1
    grid = load_grid(write_grid(tmp_path / "g.yaml", [
        {"name": "first", "notebook": str(toy), "sweep": {"x": [1, 2, 3]}, "resources": first},
        {"name": "second", "notebook": str(toy), "sweep": {"x": [4]},
         "resources": {"cpus": 2, "mem_gb": 0.5, "time_min": 7}}]))
    lines: list[str] = []
    root = tmp_path / "results"
    results = run_grid_slurm(grid, Resources(cpus=1, mem_gb=1, time_min=5), root=root, out=lines.append, poll_s=2)
    assert [r.status for r in results] == ["done"] * 4
    first_job, second_job = job_ids(lines)
    tasks = scontrol(first_job)
    assert tasks and all(t["Partition"] == other and t["TimeLimit"] == "00:03:00" and t["MinMemoryNode"] == "256M"
                         and t["NumCPUs"] == "1" for t in tasks), tasks
    assert {t["ArrayTaskThrottle"] for t in tasks} == {"1"}  # array_parallelism
    assert sorted(t["ArrayTaskId"] for t in tasks) == ["0", "1", "2"]
    if cluster["gpu"]:
        assert {t.get("TresPerNode") for t in tasks} == {"gres:gpu:1"}
    (second,) = scontrol(second_job)
    assert second["NumCPUs"] == "2" and second["TimeLimit"] == "00:07:00" and second["MinMemoryNode"] == "512M"
    assert second["Partition"] == cluster["default"] and "TresPerNode" not in second
    metrics = [json.loads((cell_dir(c, root) / "metrics.json").read_text()) for c in plan(grid)[0]]
    assert [m["partition"] for m in metrics] == [other] * 3 + [cluster["default"]]  # where SLURM ran them


def test_cancelled_and_timed_out_cells_fail_with_the_slurm_reason_then_rerun(cluster, toy, tmp_path):
    """A cell scancel'led and a cell past its --time fail, naming SLURM's state; the next submission
    reruns exactly those two (same keys) and skips the finished one."""
    grid = load_grid(write_grid(tmp_path / "g.yaml", [
        {"name": "s", "notebook": str(toy), "sweep": {"x": [1, 2, 3]},
         "resources": {"cpus": 1, "mem_gb": 0.25, "time_min": 1}}]))
    (tmp_path / "slow-1").touch()  # cell 1 runs past its 1-minute limit
    (tmp_path / "slow-2").touch()  # cell 2 is cancelled while it runs
    lines: list[str] = []
    root = tmp_path / "results"
    worker, outcome = submit_in_background(grid, root, lines)
    array = wait_until_running(tmp_path, "2", lines)
    subprocess.run(["scancel", f"{array}_1"], check=True)  # task 1 = cell x=2
    worker.join(timeout=300)
    assert not worker.is_alive(), "the grid never returned"
    assert "error" in outcome, outcome
    message = str(outcome["error"])
    cells = plan(grid)[0]
    cancelled = next(part for part in message.split("; s/") if cells[1].key in part)
    timed_out = next(part for part in message.split("; s/") if cells[0].key in part)
    assert "CANCELLED" in cancelled, message
    assert "TIMEOUT" in timed_out and "TimeLimit" in timed_out, message  # SLURM's own words
    assert is_done(cells[2], root) and not is_done(cells[0], root) and not is_done(cells[1], root)
    assert not cell_dir(cells[0], root).exists() and partial_dir(cells[0], root).exists()  # nothing half-published
    # the next submission reruns the two failed cells, now fast, and skips the finished one
    (tmp_path / "slow-1").unlink()
    (tmp_path / "slow-2").unlink()
    before = runs(tmp_path)
    again = run_grid_slurm(grid, root=root, out=lines.append, poll_s=2)
    assert [r.status for r in again] == ["done", "done", "skipped"]
    assert sorted(runs(tmp_path)[len(before):]) == ["1", "2"]
    assert all(is_done(c, root) for c in cells)


def test_a_requeued_task_is_waited_for_not_reported_failed(cluster, toy, tmp_path):
    """A task that SLURM requeues while it runs (what preemption with PreemptMode=REQUEUE does; here
    `scontrol requeue`) leaves a failed result from its first run; the grid waits for the second."""
    grid = load_grid(write_grid(tmp_path / "g.yaml", [
        {"name": "s", "notebook": str(toy), "sweep": {"x": [1]}, "resources": {"cpus": 1, "mem_gb": 0.25}}]))
    (tmp_path / "slow-1").touch()
    lines: list[str] = []
    worker, outcome = submit_in_background(grid, tmp_path / "results", lines)
    job = wait_until_running(tmp_path, "1", lines)
    subprocess.run(["scontrol", "requeue", job], check=True)
    deadline = time.time() + 60
    while time.time() < deadline and scontrol(job)[0]["JobState"] not in ("PENDING", "REQUEUED"):
        time.sleep(0.2)
    (tmp_path / "slow-1").unlink()  # the second run finishes
    worker.join(timeout=400)
    assert not worker.is_alive(), "the grid never returned"
    assert "error" not in outcome, outcome.get("error")
    assert [r.status for r in outcome["results"]] == ["done"]
    assert runs(tmp_path) == ["1", "1"]  # it ran twice: before and after the requeue
    assert scontrol(job)[0]["Restarts"] == "1"
