"""The house rules of ../shared/DESIGN.md, checked on the source: stages import one way only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "mollia"
STAGES = ["data", "models", "probes", "annotators", "al", "study"]
SHARED = {"mollia", "mollia.errors", "mollia.paths", "mollia.atomic", "mollia.records", "mollia.digest"}
# what each stage may import of mollia, besides itself and the shared helpers
ALLOWED = {
    "data": set(),
    "models": set(),
    "probes": {"data", "models"},
    "annotators": {"data", "models", "probes"},
    "al": {"data", "models", "probes", "annotators"},
    "study": {"data", "models", "probes", "annotators", "al"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _files(stage: str):
    return sorted((PKG / stage).rglob("*.py"))


@pytest.mark.parametrize("stage", STAGES)
def test_stage_imports_flow_one_way(stage):
    bad = []
    for f in _files(stage):
        for name in _imports(f):
            if not name.startswith("mollia") or name in SHARED:
                continue
            other = name.split(".")[1]
            if other != stage and other not in ALLOWED[stage]:
                bad.append(f"{f.relative_to(PKG)} imports {name}")
    assert not bad, "\n".join(bad)


def test_nothing_imports_cli_and_papermill_submitit_stay_in_study():
    bad = []
    for f in PKG.rglob("*.py"):
        rel = f.relative_to(PKG)
        for name in _imports(f):
            if name.startswith("mollia.cli") and rel.parts[0] != "cli":
                bad.append(f"{rel} imports {name}")
            if name.split(".")[0] in {"papermill", "submitit"} and rel.parts[0] != "study":
                bad.append(f"{rel} imports {name}")
    assert not bad, "\n".join(bad)


# Stage packages are library code: scoring against ground truth, figures and records belong to
# mollia.study (one module per notebook). These imports mark scoring / plotting / ground-truth
# loading; a stage module that needs one is doing the study's job.
LIBRARY_STAGES = ["data", "models", "probes", "annotators", "al"]
STUDY_ONLY_IMPORTS = ("matplotlib", "seaborn", "sklearn.metrics", "mollia.study")
STUDY_ONLY_NAMES = {"load_probes_and_truth", "truth_from_dataset", "negative_label_rates", "expected_calibration_error",
                    "test_metrics"}
# No exception: the AL driver's per-iteration test scores come from the study (`score_test`,
# mollia.study.scoring), injected by mollia.study.active_learning.run_al.
EXCEPTIONS: set[tuple[str, str]] = set()


def _imported_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for a in node.names}


@pytest.mark.parametrize("stage", LIBRARY_STAGES)
def test_stages_do_not_score_plot_or_load_ground_truth(stage):
    bad = []
    for f in _files(stage):
        rel = str(f.relative_to(PKG))
        for name in _imports(f):
            hit = next((p for p in STUDY_ONLY_IMPORTS if name == p or name.startswith(p + ".")), None)
            if hit and (rel, hit) not in EXCEPTIONS:
                bad.append(f"{rel} imports {name}")
        bad += [f"{rel} imports {n}" for n in sorted(_imported_names(f) & STUDY_ONLY_NAMES)]
    assert not bad, "\n".join(bad)


def test_the_study_only_rule_can_fail(tmp_path):
    """The checker sees a plotting import inside a function (the way stage code would hide one)."""
    f = tmp_path / "x.py"
    f.write_text("def draw():\n    import matplotlib.pyplot as plt\n    from mollia.study.probes_truth import load_probes_and_truth\n")
    assert "matplotlib.pyplot" in _imports(f) and "load_probes_and_truth" in _imported_names(f)


def _module_graph() -> dict[str, set[str]]:
    graph = {}
    for f in PKG.rglob("*.py"):
        parts = f.relative_to(PKG.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        tree = ast.parse(f.read_text(), filename=str(f))
        deps = {n for n in _imports(f) if n.startswith("mollia.")}
        # "from mollia.x import y" names module mollia.x.y when that is a module
        deps |= {f"{node.module}.{a.name}" for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mollia")
                 for a in node.names}
        graph[name] = deps
    return {m: {n for n in deps if n in graph and n != m} for m, deps in graph.items()}


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    cycles, state = [], {}

    def visit(m, path):
        state[m] = 1
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                cycles.append(" -> ".join(path[path.index(n):] + [n]))
            elif n not in state:
                visit(n, path + [n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    return cycles


def test_no_import_cycle_between_modules_of_the_study():
    """The study's modules import each other one way (runner <- slurm, never back), counting
    imports inside functions too."""
    graph = {m: d for m, d in _module_graph().items() if m.startswith("mollia.study")}
    assert "mollia.study.runner" in graph["mollia.study.slurm"]  # the graph sees real edges
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a -> b -> c -> a"]
    cycles = _cycles(graph)
    assert not cycles, "\n".join(cycles)
