"""Every notebook in notebooks/: stored without outputs, a typed parameters cell with help, listed by
``papermill --help-notebook``, and executed through the real papermill path on params/smoke.yaml."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from mollia.study.grid import load_grid, notebook_params, plan
from mollia.study.runner import cell_dir, run_grid

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
TYPED_LINE = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*): (?P<type>[\w\[\], ]+) = (?P<value>.+?)  # (?P<help>\S.*)$")


def test_there_are_notebooks():
    assert {"04_ablation", "05_sensitivity", "06_analysis", "09_report"} <= {p.stem for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: a code cell holds outputs"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_code_cell_is_a_typed_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "parameters" in first.metadata.get("tags", []), f"{path.name}: first code cell is not tagged 'parameters'"
    lines = [ln for ln in first.source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    bad = [ln for ln in lines if not TYPED_LINE.match(ln)]
    assert not bad, f"{path.name}: parameter lines not of the form `name: type = value  # help`: {bad}"
    declared = notebook_params(path)
    assert "out_dir" in declared
    assert len(declared) == len(lines), f"{path.name}: papermill parsed {len(declared)} of {len(lines)} parameter lines"
    assert all(p.help for p in declared.values())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_help_notebook_lists_every_parameter_with_help(path):
    from papermill.cli import papermill

    result = CliRunner().invoke(papermill, [str(path), "--help-notebook"])
    assert result.exit_code == 0, result.output
    for p in notebook_params(path).values():
        assert f"  {p.name}: " in result.output and p.help in result.output


def test_smoke_grid_executes_every_notebook(paper_dir, tmp_path, monkeypatch):
    """The real path: `mollia grid params/smoke.yaml` runs each notebook as a papermill subprocess."""
    monkeypatch.setenv("MOLLIA_PAPER_PROBES", str(paper_dir / "probes"))
    monkeypatch.chdir(tmp_path)  # relative paths of the grid resolve here, not in the repository
    grid = load_grid(REPO / "params" / "smoke.yaml")
    cells, skipped = plan(grid)
    assert not skipped
    assert {c.notebook.resolve() for c in cells} == {p.resolve() for p in NOTEBOOKS}, "every notebook is in smoke.yaml"
    root = tmp_path / "results"
    results = run_grid(grid, jobs=1, root=root, progress=False, out=print)
    assert [r.status for r in results] == ["done"] * len(cells)
    for cell in cells:
        metrics = json.loads((cell_dir(cell, root) / "metrics.json").read_text())
        assert metrics.get("kind"), f"{cell.stem}: metrics.json has no kind"
        executed = nbformat.read(cell_dir(cell, root) / "notebook.ipynb", as_version=4)
        assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    # a second run redoes nothing
    again = run_grid(grid, jobs=1, root=root, progress=False, out=print)
    assert {r.status for r in again} == {"skipped"}
    report = json.loads(next((root / "09_report").glob("*/metrics.json")).read_text())
    assert report["kind"] == "report" and report["n_al_runs"] >= 3


def test_notebooks_are_the_single_source_and_agree_with_alconfig(tmp_path):
    """The .ipynb files are the only copy (nbbuild holds no notebook text) and the AL notebooks'
    parameters match ALConfig's fields (type and default); a drifted default is caught."""
    import json

    from mollia.study import nbbuild

    assert not hasattr(nbbuild, "NOTEBOOKS") and nbbuild.check(REPO / "notebooks") == []
    for name in nbbuild.AL_NOTEBOOKS:
        assert (REPO / "notebooks" / name).exists()
    drifted = json.loads((REPO / "notebooks" / "03_active_learning.ipynb").read_text())
    cell = next(c for c in drifted["cells"] if "parameters" in c["metadata"].get("tags", []))
    cell["source"] = [ln.replace("iterations: int = 10", "iterations: int = 9") for ln in cell["source"]]
    (tmp_path / "03_active_learning.ipynb").write_text(json.dumps(drifted))
    assert nbbuild.check(tmp_path) == ["03_active_learning.ipynb: iterations = 9 but ALConfig's default is 10"]


def test_cli_options_are_derived_from_alconfig():
    """Every ALConfig field is a `mollia al` option with the field's default; parsing no option gives ALConfig()."""
    import argparse
    from dataclasses import fields

    from mollia.al.config import ALConfig
    from mollia.cli import al

    parser = argparse.ArgumentParser()
    al.register(parser.add_subparsers())
    args = parser.parse_args(["al", "--out", "x"])
    assert al.config_from_args(args) == ALConfig()
    assert {f.name for f in fields(ALConfig)} <= set(vars(args))
    args = parser.parse_args(["al", "--out", "x", "--weight-decay", "0.1", "--no-discrepancy"])
    assert al.config_from_args(args).weight_decay == 0.1 and al.config_from_args(args).discrepancy is False
