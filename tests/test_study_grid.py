"""Grid files, validation before running, the local runner (resume, skip, atomicity), submitit, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml

from mollia.cli import main as cli_main
from mollia.study.grid import GridError, cell_key, expand_stage, load_grid, notebook_params, plan
from mollia.study.runner import CellFailed, cell_dir, is_done, partial_dir, run_grid

REPO = Path(__file__).resolve().parents[1]

TOY_PARAMS = '''\
x: int = 1  # an integer
name: str = "a"  # a name
fail: bool = False  # raise instead of finishing
out_dir: str = "out"  # where metrics.json goes
'''
TOY_BODY = '''\
import json, os, pathlib
log = pathlib.Path(os.environ["TOY_LOG"])
with open(log, "a") as fh:
    fh.write(f"{name}-{x}\\n")
if fail:
    raise RuntimeError("asked to fail")
pathlib.Path(out_dir).mkdir(parents=True, exist_ok=True)
(pathlib.Path(out_dir) / "metrics.json").write_text(json.dumps({"kind": "toy", "x": x, "name": name,
    "threads": os.environ.get("OMP_NUM_THREADS")}))
'''


def write_toy(path: Path, params: str = TOY_PARAMS, body: str = TOY_BODY) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell(body)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def write_grid(path: Path, stages: list[dict], **top) -> Path:
    path.write_text(yaml.safe_dump({"name": "toy", "stages": stages, **top}))
    return path


@pytest.fixture
def toy(tmp_path, monkeypatch):
    nb = write_toy(tmp_path / "notebooks" / "toy.ipynb")
    log = tmp_path / "toy.log"
    monkeypatch.setenv("TOY_LOG", str(log))
    return nb, log


def runs(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


# -- parsing and expansion ------------------------------------------------------------------------
def test_expand_sweep_zip_include_and_keys(tmp_path, toy):
    nb, _ = toy
    grid = load_grid(write_grid(tmp_path / "g.yaml", [{
        "name": "s", "notebook": str(nb), "params": {"name": "b"},
        "sweep": {"x": [1, 2, 3]}, "include": [{"x": 9, "name": "z"}]}]))
    cells, skipped = plan(grid)
    assert not skipped
    assert [(c.params["x"], c.params["name"]) for c in cells] == [(1, "b"), (2, "b"), (3, "b"), (9, "z")]
    assert all(c.params["fail"] is False for c in cells)  # notebook defaults fill what the grid leaves out
    keys = [c.key for c in cells]
    assert len(set(keys)) == 4 and keys[0].startswith("x=1__")
    assert cell_key({"x": 1, "name": "b", "fail": False}, ["x"]) == keys[0]  # deterministic

    zipped = load_grid(write_grid(tmp_path / "z.yaml", [{
        "name": "s", "notebook": str(nb), "sweep": {"fail": [False]},
        "zip": [{"x": [1, 2], "name": ["p", "q"]}]}]))
    assert [(c.params["x"], c.params["name"]) for c in plan(zipped)[0]] == [(1, "p"), (2, "q")]


def test_variables_and_requires_path(tmp_path, toy, monkeypatch, capsys):
    nb, _ = toy
    monkeypatch.setenv("MOLLIA_PAPER_PROBES", str(tmp_path / "absent"))
    grid = load_grid(write_grid(tmp_path / "g.yaml", [
        {"name": "needs", "notebook": str(nb), "requires_path": "${paper_probes_dir}", "params": {"name": "${who}"}},
        {"name": "free", "notebook": str(nb), "params": {"name": "${who}-2", "x": "${n}"}}],
        vars={"who": "me", "n": 5}))
    cells, skipped = plan(grid)
    assert [c.stage for c in cells] == ["free"] and cells[0].params["name"] == "me-2" and cells[0].params["x"] == 5
    assert len(skipped) == 1 and str(tmp_path / "absent") in skipped[0]
    (tmp_path / "absent").mkdir()
    assert [c.stage for c in plan(grid)[0]] == ["needs", "free"]
    fallback = load_grid(write_grid(tmp_path / "u.yaml", [
        {"name": "instead", "notebook": str(nb), "unless_path": "${paper_probes_dir}"}]))
    cells, skipped = plan(fallback)
    assert not cells and "exists" in skipped[0]
    monkeypatch.setenv("MOLLIA_PAPER_PROBES", str(tmp_path / "gone"))
    assert [c.stage for c in plan(load_grid(tmp_path / "u.yaml"))[0]] == ["instead"]


@pytest.mark.parametrize("stage, message", [
    ({"params": {"nope": 1}}, "unknown parameter 'nope'"),
    ({"sweep": {"x": ["one", "two"]}}, "expected int"),
    ({"params": {"out_dir": "x"}}, "set by the runner"),
    ({"sweep": {"x": []}}, "non-empty list"),
    ({"zip": [{"x": [1, 2], "name": ["a"]}]}, "one length"),
    ({"bogus_key": 1}, "unknown key"),
    ({"after": ["later"]}, "not earlier stages"),
    ({"after": "s"}, "list of stage names"),
])
def test_invalid_grids_are_rejected_before_running(tmp_path, toy, stage, message):
    nb, log = toy
    path = write_grid(tmp_path / "g.yaml", [{"name": "s", "notebook": str(nb), **stage}])
    with pytest.raises(GridError, match=message):
        run_grid(load_grid(path), root=tmp_path / "results", progress=False, out=lambda *_: None)
    assert not runs(log)


def test_missing_required_parameter_and_missing_notebook(tmp_path):
    nb = write_toy(tmp_path / "req.ipynb", params='x: int = None  # required: no default\nout_dir: str = "o"  # out\n')
    assert notebook_params(nb)["x"].required
    with pytest.raises(GridError, match=r"missing required parameter\(s\) \['x'\]"):
        plan(load_grid(write_grid(tmp_path / "g.yaml", [{"name": "s", "notebook": str(nb)}])))
    with pytest.raises(GridError, match="does not exist"):
        plan(load_grid(write_grid(tmp_path / "h.yaml", [{"name": "s", "notebook": str(tmp_path / "none.ipynb")}])))
    no_out = write_toy(tmp_path / "noout.ipynb", params="x: int = 1  # x\n")
    with pytest.raises(GridError, match="no 'out_dir'"):
        plan(load_grid(write_grid(tmp_path / "i.yaml", [{"name": "s", "notebook": str(no_out)}])))


# -- running --------------------------------------------------------------------------------------
def test_run_writes_atomically_and_skips_done_cells(tmp_path, toy):
    nb, log = toy
    root = tmp_path / "results"
    grid = load_grid(write_grid(tmp_path / "g.yaml", [{"name": "s", "notebook": str(nb), "sweep": {"x": [1, 2]}}]))
    results = run_grid(grid, jobs=2, root=root, progress=False, out=lambda *_: None, cores=4)
    assert [r.status for r in results] == ["done", "done"]
    cells, _ = plan(grid)
    for c in cells:
        final = cell_dir(c, root)
        assert final.parent.name == "toy"
        assert json.loads((final / "params.json").read_text()) == c.params
        m = json.loads((final / "metrics.json").read_text())
        assert m["x"] == c.params["x"] and m["threads"] == "2"  # 4 cores / 2 jobs
        executed = nbformat.read(final / "notebook.ipynb", as_version=4)
        assert any("injected-parameters" in cell.metadata.get("tags", []) for cell in executed.cells)
        assert not partial_dir(c, root).exists()
        cost = json.loads((final / "runner.json").read_text())
        assert cost["cpu_s"] > 0 and cost["wall_s"] >= cost["cpu_s"] / 4 and cost["threads"] == 2
    assert sorted(runs(log)) == ["a-1", "a-2"]
    again = run_grid(grid, jobs=2, root=root, progress=False, out=lambda *_: None)
    assert [r.status for r in again] == ["skipped", "skipped"] and len(runs(log)) == 2
    # a folder whose params.json no longer matches (e.g. a hand edit) is not done: it reruns
    (cell_dir(cells[0], root) / "params.json").write_text(json.dumps({"x": 5}))
    assert not is_done(cells[0], root)
    third = run_grid(grid, jobs=1, root=root, progress=False, out=lambda *_: None)
    assert [r.status for r in third] == ["done", "skipped"] and runs(log).count("a-1") == 2
    assert is_done(cells[0], root)


TIMED_PARAMS = TOY_PARAMS + 'sleep: float = 0.0  # seconds to wait before finishing\n'
TIMED_BODY = '''\
import time
with open(os.environ["TOY_LOG"], "a") as fh:
    fh.write(f"start-{name} {time.time()}\\n")
time.sleep(sleep)
with open(os.environ["TOY_LOG"], "a") as fh:
    fh.write(f"end-{name} {time.time()}\\n")
pathlib.Path(out_dir).mkdir(parents=True, exist_ok=True)
(pathlib.Path(out_dir) / "metrics.json").write_text(json.dumps({"kind": "toy", "name": name}))
'''


def test_stages_wait_only_for_the_stages_they_name(tmp_path, toy):
    """``after: []`` lets an independent stage share the pool with a slow earlier one; a stage
    without ``after`` waits for every earlier stage."""
    _, log = toy
    nb = write_toy(tmp_path / "notebooks" / "timed.ipynb", params=TIMED_PARAMS,
                   body="import json, os, pathlib\n" + TIMED_BODY)
    grid = load_grid(write_grid(tmp_path / "g.yaml", [
        {"name": "slow", "notebook": str(nb), "params": {"name": "slow", "sleep": 6.0}},
        {"name": "independent", "notebook": str(nb), "after": [], "params": {"name": "independent"}},
        {"name": "last", "notebook": str(nb), "params": {"name": "last"}}]))
    assert [s.after for s in grid.stages] == [(), (), ("slow", "independent")]
    results = run_grid(grid, jobs=2, root=tmp_path / "results", progress=False, out=lambda *_: None)
    assert [r.status for r in results] == ["done", "done", "done"]
    t = dict(line.split() for line in log.read_text().splitlines())
    t = {k: float(v) for k, v in t.items()}
    assert t["start-independent"] < t["end-slow"]  # ran beside the slow stage, not after it
    assert t["start-last"] > max(t["end-slow"], t["end-independent"])


def test_killed_grid_resumes_without_redoing_finished_cells(tmp_path, toy):
    nb, log = toy
    root = tmp_path / "results"
    # a cell that dies midway leaves only its partial folder: never a final folder, never metrics there
    failing = load_grid(write_grid(tmp_path / "f.yaml", [{"name": "s", "notebook": str(nb),
                                                          "params": {"fail": True, "name": "bad"}}]))
    with pytest.raises(CellFailed, match="papermill exited 1; log .*runner.log"):
        run_grid(failing, root=root, progress=False, out=lambda *_: None)
    cell = plan(failing)[0][0]
    assert not cell_dir(cell, root).exists() and partial_dir(cell, root).exists()

    # kill a real `mollia grid` process (and its papermill child: the whole process group) after
    # its first cell finished
    grid_path = write_grid(tmp_path / "g.yaml", [{"name": "s", "notebook": str(nb), "sweep": {"x": [1, 2]}}])
    env = dict(os.environ, MOLLIA_RESULTS=str(root))
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from mollia.cli import main; sys.exit(main())", "grid",
                             str(grid_path), "--jobs", "1"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    cells = plan(load_grid(grid_path))[0]
    deadline = time.time() + 180
    while not is_done(cells[0], root) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = [c for c in cells if is_done(c, root)]
    assert cells[0] in finished, "the first cell should have finished before the kill"
    results = run_grid(load_grid(grid_path), root=root, progress=False, out=lambda *_: None)
    statuses = {r.cell.params["x"]: r.status for r in results}
    assert all(statuses[c.params["x"]] == "skipped" for c in finished)
    assert all(is_done(c, root) for c in cells)
    assert runs(log).count("a-1") == 1  # the finished cell never ran again


def test_dry_run_prints_plan_and_runs_nothing(tmp_path, toy):
    nb, log = toy
    grid = load_grid(write_grid(tmp_path / "g.yaml", [{"name": "s", "notebook": str(nb), "sweep": {"x": [1, 2, 3]},
                                                         "params": {"name": "q"}}]))
    lines = []
    assert run_grid(grid, dry_run=True, root=tmp_path / "r", out=lines.append) == []
    assert "total: 3 cells" in lines[0] and not runs(log)


def test_submitit_local_executor_runs_cells(tmp_path, toy):
    pytest.importorskip("submitit")
    nb, log = toy
    root = tmp_path / "results"
    grid = load_grid(write_grid(tmp_path / "g.yaml", [{"name": "s", "notebook": str(nb), "sweep": {"x": [7, 8]}}]))
    from mollia.study.grid import Resources
    from mollia.study.slurm import run_grid_slurm

    results = run_grid_slurm(grid, Resources(cpus=1, mem_gb=1, time_min=5), cluster="local", root=root,
                             out=lambda *_: None)
    assert sorted(r.status for r in results) == ["done", "done"]
    assert all(is_done(c, root) for c in plan(grid)[0])
    assert (root / ".submitit").is_dir()
    assert sorted(runs(log)) == ["a-7", "a-8"]


# -- the project's grids --------------------------------------------------------------------------
def test_paper_grid_dry_run_lists_the_full_grid(capsys):
    assert cli_main(["grid", str(REPO / "params" / "paper.yaml"), "--dry-run"]) == 0
    text = capsys.readouterr().out
    # 4 datasets x 4 strategies x 5 seeds x 2 backbones x 9 annotators (oracle, molam, llms-v, llms-l, 5 LLMs)
    assert "stage active_learning: 03_active_learning.ipynb x 1440 cells" in text
    cells, _ = plan(load_grid(REPO / "params" / "paper.yaml"))
    al = [c for c in cells if c.stage == "active_learning"]
    assert {c.params["backbone"] for c in al} == {"finetune:distilbert-base-uncased", "finetune:distilroberta-base"}
    assert {c.params["dataset"] for c in al} == {"ag_news", "imdb", "trec", "pubmed-20k-rct"}
    assert {c.params["seed"] for c in al} == {0, 1, 2, 3, 4}
    assert "total:" in text


@pytest.mark.parametrize("name", ["smoke", "offline", "paper"])
def test_project_grids_validate(name):
    cells, _ = plan(load_grid(REPO / "params" / f"{name}.yaml"))
    assert cells


def test_demo_runs_the_grid_then_the_report_and_a_second_run_only_reports(tmp_path, toy):
    from mollia.study.demo import run_demo

    nb, log = toy
    grid = write_grid(tmp_path / "g.yaml", [{"name": "s", "notebook": str(nb), "sweep": {"x": [1]}}])
    lines: list[str] = []
    assert run_demo(grid, jobs=1, results=tmp_path / "r", figures=tmp_path / "f", fetch=False, out=lines.append) == 0
    assert (tmp_path / "r" / "tables" / "README.md").exists() and runs(log) == ["a-1"]
    assert any("figures:" in ln for ln in lines)
    lines.clear()
    assert run_demo(grid, jobs=1, results=tmp_path / "r", figures=tmp_path / "f", fetch=False, out=lines.append) == 0
    assert runs(log) == ["a-1"] and any("1 already done" in ln for ln in lines)


def test_demo_writes_beside_the_committed_evidence_not_over_it(monkeypatch, tmp_path):
    from mollia.study.demo import demo_outputs

    monkeypatch.delenv("MOLLIA_RESULTS", raising=False)
    monkeypatch.delenv("MOLLIA_FIGURES", raising=False)
    monkeypatch.chdir(tmp_path)
    results, figures = demo_outputs()
    assert results == tmp_path / "results" / "demo" and figures == results / "figures"
    monkeypatch.setenv("MOLLIA_RESULTS", str(tmp_path / "r"))
    monkeypatch.setenv("MOLLIA_FIGURES", str(tmp_path / "f"))
    assert demo_outputs() == (tmp_path / "r", tmp_path / "f")


# -- issue 13: --dry-run checks what values name, not only their names and types -----------------
AL_NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_active_learning.ipynb"


@pytest.mark.parametrize("params,message", [
    ({"strategy": "corset"}, "unknown strategy 'corset'; known: bemps, coreset"),
    ({"annotator": "molamm"}, "unknown annotator 'molamm'"),
    ({"backbone": "head:bert-huge"}, "unknown model 'bert-huge'"),
    ({"backbone": "head:smollm2-135m-instruct"}, "'smollm2-135m-instruct' is not an encoder"),
    ({"backbone": "mlp"}, "backbone must be 'head:<encoder>'"),
    ({"dataset": "treck"}, "unknown dataset 'treck'; known: ag_news"),
])
def test_dry_run_rejects_values_that_name_nothing(tmp_path, params, message, capsys):
    from mollia.cli import main

    (name, bad), = params.items()
    good = {"strategy": "random", "annotator": "oracle", "backbone": "head:minilm-l6", "dataset": "trec"}[name]
    path = write_grid(tmp_path / "g.yaml", [{"name": "al", "notebook": str(AL_NOTEBOOK),
                                              "params": {"dataset": "trec", "iterations": 1},
                                              "sweep": {name: [good, bad]}}])  # a bad value among good ones
    assert main(["grid", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "stage 'al': parameter" in err and message in err


def test_dry_run_accepts_a_registered_user_dataset(tmp_path, monkeypatch, capsys):
    import pandas as pd

    from mollia.cli import main

    monkeypatch.setenv("MOLLIA_HOME", str(tmp_path / "home"))
    csv = tmp_path / "mine.csv"
    pd.DataFrame({"text": [f"t {i}" for i in range(40)], "label": ["a", "b"] * 20}).to_csv(csv, index=False)
    grid = write_grid(tmp_path / "g.yaml", [{"name": "al", "notebook": str(AL_NOTEBOOK),
                                              "params": {"dataset": "mine", "annotator": "oracle"}}])
    assert main(["grid", str(grid), "--dry-run"]) == 2
    assert "unknown dataset 'mine'" in capsys.readouterr().err
    assert main(["data", "add", str(csv), "--name", "mine"]) == 0
    assert main(["grid", str(grid), "--dry-run"]) == 0
    assert "total: 1 cells" in capsys.readouterr().out
