"""The SLURM backend without a cluster: per-stage resources in grid files, what reaches sbatch, SLURM's
state parsing, array chunking, the paper grid's dry run. (Against a real SLURM: test_slurm_real.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mollia.cli import main as cli_main
from mollia.errors import MolliaError
from mollia.study.grid import GridError, Resources, load_grid
from mollia.study.runner import run_grid
from mollia.study.slurm import (DEFAULT_RESOURCES, _failure, array_chunks, executor_parameters, parse_sacct,
                                parse_scontrol, resolve, sbatch_options)

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "09_report.ipynb"


def grid_with(tmp_path: Path, resources) -> Path:
    path = tmp_path / "g.yaml"
    stage = {"name": "s", "notebook": str(NOTEBOOK)}
    if resources is not None:
        stage["resources"] = resources
    path.write_text(yaml.safe_dump({"name": "g", "stages": [stage]}))
    return path


def test_stage_resources_parse_and_override_the_defaults(tmp_path):
    grid = load_grid(grid_with(tmp_path, {"cpus": 2, "mem_gb": 0.5, "gpus": 1, "time_min": 30, "partition": "gpu",
                                          "array_parallelism": 8}))
    res = resolve(grid.stages[0], Resources(cpus=16, partition="cpu", time_min=999))
    assert res == Resources(cpus=2, mem_gb=0.5, gpus=1, time_min=30, partition="gpu", array_parallelism=8)
    # absent keys come from the command line's defaults, then the built-in ones
    plain = load_grid(grid_with(tmp_path, {"gpus": 2}))
    res = resolve(plain.stages[0], Resources(cpus=16, partition="cpu"))
    assert (res.cpus, res.partition, res.gpus, res.time_min) == (16, "cpu", 2, DEFAULT_RESOURCES.time_min)


@pytest.mark.parametrize("resources, problem", [
    ({"gpu": 1}, "unknown resource(s) ['gpu']"),
    ({"cpus": 0}, "'cpus' (CPUs per cell) must be at least 1"),
    ({"cpus": 1.5}, "'cpus' (CPUs per cell) must be int"),
    ({"gpus": True}, "'gpus' (GPUs per cell) must be int"),
    ({"mem_gb": "32G"}, "'mem_gb' (memory per cell in GB) must be int or float"),
    ({"time_min": -5}, "'time_min'"),
    ({"partition": ""}, "'partition' (SLURM partition) must be str"),
    ({"array_parallelism": 0}, "'array_parallelism'"),
    ([1, 2], "'resources' must be a mapping"),
])
def test_bad_resources_are_named(tmp_path, resources, problem):
    with pytest.raises(GridError) as err:
        load_grid(grid_with(tmp_path, resources))
    assert problem in str(err.value) and "stage 0 (s)" in str(err.value)


def test_requests_become_sbatch_options():
    res = Resources(cpus=2, mem_gb=0.5, gpus=1, time_min=30, partition="gpu", array_parallelism=8)
    params = executor_parameters(res, "slurm", "mollia-s")
    assert params["cpus_per_task"] == 2 and params["mem_gb"] == 0.5 and params["timeout_min"] == 30
    assert params["slurm_partition"] == "gpu" and params["gpus_per_node"] == 1 and params["slurm_array_parallelism"] == 8
    assert sbatch_options(res, 20) == "--array=0-19%8 --cpus-per-task=2 --mem=0.5G --time=30 --gpus-per-node=1 --partition=gpu"
    # the local executor takes no SLURM-only options
    assert not {k for k in executor_parameters(res, "local", "x") if k.startswith("slurm") or k == "gpus_per_node"}


def test_large_stages_split_into_arrays_slurm_accepts():
    res = DEFAULT_RESOURCES.over(Resources())
    assert array_chunks(1440, res, 1001) == [(0, 1001, 32), (1001, 1440, 32)]
    assert array_chunks(5, res, 1001) == [(0, 5, 64)]
    assert array_chunks(0, res, 1001) == []


def test_slurm_states_are_parsed_from_scontrol_and_sacct():
    states = parse_scontrol("JobId=9 ArrayJobId=8 ArrayTaskId=0,2-3%2 JobState=PENDING Reason=JobArrayTaskLimit\n"
                            "JobId=7 JobState=CANCELLED Reason=None ExitCode=0:15\n")
    assert sorted(states) == ["7", "8_0", "8_2", "8_3"]
    assert states["7"].describe() == "CANCELLED, exit code 0:15 (from scontrol)"
    acct = parse_sacct("12_0|TIMEOUT|TimeLimit|0:0\n12_1|CANCELLED by 0|None|0:15\n")
    assert acct["12_0"].state == "TIMEOUT" and acct["12_1"].state == "CANCELLED"


def test_submitit_errors_are_cut_to_the_task_s_own_error():
    text = ("Job (task=0) failed during processing with trace:\n----------------------\nTraceback (most recent call "
            "last):\n  File \"x.py\", line 1\nRuntimeError: out of GPU memory\n----------------------\n"
            "You can check full logs with 'job.stderr(0)'\n  - /tmp/log.out\n")
    assert _failure(RuntimeError(text)) == "RuntimeError: out of GPU memory"
    assert _failure(RuntimeError("plain")) == "plain"


def test_the_runner_does_not_submit_to_slurm_itself(tmp_path):
    grid = load_grid(grid_with(tmp_path, None))
    with pytest.raises(MolliaError, match="run_grid_slurm"):
        run_grid(grid, backend="slurm", root=tmp_path / "r")


def test_paper_grid_dry_run_sizes_the_cluster_job(capsys, monkeypatch):
    import mollia.study.slurm as slurm

    monkeypatch.setattr(slurm, "max_array_size", lambda: 1001)  # SLURM's default, whatever cluster is near
    assert cli_main(["grid", str(REPO / "params" / "paper.yaml"), "--backend", "slurm", "--dry-run"]) == 0
    text = capsys.readouterr().out
    # the grid's own requests per stage, 1440 AL cells in arrays SLURM accepts (default MaxArraySize 1001)
    assert "probing: 4 cells to run (0 done) in 1 job array" in text
    assert "--array=0-3%4 --cpus-per-task=8 --mem=64G --time=720 --gpus-per-node=1" in text
    assert "active_learning: 1440 cells to run (0 done) in 2 job arrays" in text
    # 4 datasets, pools of 10,000 (TREC: its 5,000 train questions) x 5 LLMs
    assert "175,000 item-model probes x 0.2 s" in text and "ASSUMPTION" in text
    assert cli_main(["grid", str(REPO / "params" / "paper.yaml"), "--backend", "slurm", "--dry-run",
                     "--probe-s-per-item", "0.5"]) == 0
    text = capsys.readouterr().out
    assert "about 24 GPU hours = 175,000 item-model probes x 0.5 s" in text and "given with --probe-s-per-item" in text
