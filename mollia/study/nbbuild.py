"""The notebooks are their own single source: the ``.ipynb`` files under ``notebooks/`` (edit them in
Jupyter and store them without outputs). This module used to hold a second copy of notebooks
04/05/06/07/09 as string literals; now it only CHECKS the files, and the tests run the check:

- stored without outputs, a first code cell tagged ``parameters``;
- the AL notebooks' parameters agree with `ALConfig`, the one declaration of an AL run: every
  parameter named like a field has the field's type and default (a notebook cannot say None, so
  ``str | None`` is ``str`` with "" and ``int | None`` / ``float | None`` are 0, the convention of
  `ALConfig.from_notebook`). The CLI derives its options from the same fields
  (`mollia.cli.al.add_remaining_fields`), and the grid validates cells against these parameter
  cells, so all four agree or a test fails.

    python -m mollia.study.nbbuild notebooks   # lists the problems, exit status 1 if any
"""

from __future__ import annotations

import sys
from dataclasses import MISSING, fields
from pathlib import Path

AL_NOTEBOOKS = ("03_active_learning.ipynb", "04_ablation.ipynb", "05_sensitivity.ipynb",
                "07_beyond_the_paper.ipynb")
# what a notebook writes for ALConfig's None (it has no None literal); see ALConfig.from_notebook
_NONE_AS = {"str": "", "int": 0, "float": 0.0}


def al_parameter_drift(path: str | Path) -> list[str]:
    """Where the parameters cell of an AL notebook disagrees with `ALConfig` (empty: none)."""
    from mollia.al.config import ALConfig
    from mollia.study.grid import notebook_params

    declared = {f.name: f for f in fields(ALConfig)}
    problems = []
    for name, param in notebook_params(path).items():
        field = declared.get(name)
        if field is None:
            continue
        default = field.default if field.default is not MISSING else field.default_factory()
        field_type = str(field.type).replace(" ", "")
        optional = field_type.endswith("|None")
        base = field_type.removesuffix("|None")
        if param.type_name.replace(" ", "") != base:
            problems.append(f"{Path(path).name}: {name}: {param.type_name} but ALConfig says {field.type}")
            continue
        expected = _NONE_AS.get(base) if optional and default is None else default
        if param.default != expected or type(param.default) is not type(expected):
            problems.append(f"{Path(path).name}: {name} = {param.default!r} but ALConfig's default is {default!r}"
                            + (f" (written {expected!r} in a notebook)" if expected != default else ""))
    return problems


def check(folder: str | Path = "notebooks") -> list[str]:
    """Every problem of the notebooks in ``folder`` (see the module doc)."""
    import nbformat

    folder = Path(folder)
    problems = []
    for path in sorted(folder.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        if any(c.outputs or c.execution_count is not None for c in code):
            problems.append(f"{path.name}: a code cell holds outputs (store notebooks without them)")
        if not code or "parameters" not in code[0].metadata.get("tags", []):
            problems.append(f"{path.name}: the first code cell is not tagged 'parameters'")
        if path.name in AL_NOTEBOOKS:
            problems += al_parameter_drift(path)
    return problems


if __name__ == "__main__":  # pragma: no cover
    found = check(sys.argv[1] if len(sys.argv) > 1 else "notebooks")
    print("\n".join(found) or "notebooks: ok")
    sys.exit(1 if found else 0)
