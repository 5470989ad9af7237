"""The house rules of ../shared/DESIGN.md, checked on the source: stages import one way only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "mollia"
STAGES = ["data", "models", "probes", "annotators", "al", "study"]
SHARED = {"mollia", "mollia.errors", "mollia.paths", "mollia.atomic"}
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
