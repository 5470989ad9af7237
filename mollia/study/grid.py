"""Grid files (``params/*.yaml``): parsing, expansion into cells, validation against notebooks.

A grid names stages in order (probing before annotation before active learning). By default a
stage waits for every earlier stage; ``after:`` names the only ones it needs (``after: []`` for
none), so that the local runner keeps every core busy across independent stages.
Each stage names one notebook, the parameters fixed for all its cells and the swept ones::

    name: smoke
    vars:                       # optional; referenced as ${name} in any string value
      n_items: 40
    stages:
      - name: probing
        notebook: notebooks/01_llm_probing.ipynb
        requires_path: ${paper_probes_dir}   # optional: skip the stage (saying why) if absent
        unless_path: ...                      # optional: skip the stage if this path exists
        after: []                             # optional: the earlier stages it needs (default: all)
        params: {dataset: trec, T: 2}         # fixed
        sweep: {seed: [0, 1]}                 # cartesian product of the lists
        zip:                                  # optional: lists of equal length, zipped (one axis)
          - {dataset: [trec, bbc_news], n: [40, 20]}
        include:                              # optional: extra cells, each merged over params
          - {dataset: rotten_tomatoes, seed: 0}
        resources:                            # optional: what one cell asks a cluster for (SLURM backend)
          {cpus: 4, mem_gb: 32, gpus: 1, time_min: 120, partition: gpu, array_parallelism: 16}

Shared blocks: a top-level key starting with ``x-`` holds a YAML anchor (``x-al: &al {...}``)
that stages reuse with ``params: {<<: *al, seed: 1}`` (plain YAML merge keys).

``resources`` (all keys optional; the ``--slurm-*`` options of ``mollia grid`` fill the rest):
cpus per cell, mem_gb, gpus per cell, time_min (SLURM kills a cell past it), partition, and
array_parallelism (at most this many of the stage's cells run at once). The local backend ignores them.

Built-in variables: ``${paper_probes_dir}`` ($MOLLIA_PAPER_PROBES, else
mollia_home()/"paper-probes"), ``${mollia_home}``, ``${results_root}``, ``${live_probes_dir}``
(the committed live probes of the offline LLMs, mollia/data/live_probes). A string that is
exactly ``${name}`` takes the variable's value with its type; inside a longer string it is
substituted as text.

Every cell gets the stage's effective parameters: the notebook's defaults, updated with the
cell's values. The runner sets ``out_dir``; a grid may not.
"""

from __future__ import annotations

import ast
import hashlib
import itertools
import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import yaml

from mollia.errors import MolliaError, UnknownNameError
from mollia.paths import mollia_home, results_root


class GridError(MolliaError, ValueError):
    """A grid file or one of its cells is invalid (unknown or missing parameter, bad type...)."""


RUNNER_PARAMS = ("out_dir",)  # set by the runner, never by a grid
_STAGE_KEYS = {"name", "notebook", "params", "sweep", "zip", "include", "requires_path", "unless_path", "description",
               "after", "resources"}
_GRID_KEYS = {"name", "description", "vars", "stages"}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def paper_probes_dir() -> Path:
    """Where a user keeps the paper's released probes: $MOLLIA_PAPER_PROBES; else
    mollia_home()/paper-probes if it exists; else where `mollia probe download-released` puts them."""
    env = os.environ.get("MOLLIA_PAPER_PROBES")
    if env:
        return Path(env).expanduser()
    own = mollia_home() / "paper-probes"
    if own.exists():
        return own
    try:
        from mollia.probes.download import default_released_dir
    except ImportError:  # pragma: no cover - probes stage absent
        return own
    return default_released_dir()


def live_probes_dir() -> str:
    """The committed live probe tables of the offline LLMs (mollia/data/live_probes), relative to
    the working directory when inside it (portable cell keys), else absolute."""
    from mollia.probes.replay import LIVE_PROBES_DIR

    try:
        return str(LIVE_PROBES_DIR.relative_to(Path.cwd()))
    except ValueError:
        return str(LIVE_PROBES_DIR)


def builtin_vars() -> dict[str, Any]:
    return {"paper_probes_dir": str(paper_probes_dir()), "mollia_home": str(mollia_home()),
            "results_root": str(results_root()),  # as given (relative stays relative: portable cell keys)
            "live_probes_dir": live_probes_dir()}


# -- notebook parameters -------------------------------------------------------------------------
@dataclass(frozen=True)
class NotebookParam:
    name: str
    type_name: str  # as written in the parameters cell ("int", "list[str]", "str | None", "None" if untyped)
    default: Any
    help: str

    @property
    def optional(self) -> bool:
        t = self.type_name.replace(" ", "")
        return "None" in t or t.startswith("Optional")

    @property
    def required(self) -> bool:
        """A parameter whose default is None but whose type does not allow None must be given."""
        return self.default is None and not self.optional and self.type_name not in ("None", "")


@lru_cache(maxsize=64)
def _notebook_params_cached(path: str, mtime: float) -> tuple[NotebookParam, ...]:
    """Parse the ``parameters`` cell with Python's own parser (papermill's inspector skips any line
    holding a second ``=``, e.g. in its help text; the grid must not miss a parameter)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        raise GridError(f"notebook {path} has no cell tagged 'parameters'")
    source = cells[0].source
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise GridError(f"notebook {path}: parameters cell is not valid Python: {exc}") from exc
    lines = source.splitlines()
    out = []
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, type_name, value = node.target.id, ast.unparse(node.annotation), node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, type_name, value = node.targets[0].id, "None", node.value
        else:
            continue
        try:
            default = ast.literal_eval(value) if value is not None else None
        except ValueError:
            raise GridError(f"notebook {path}: parameter {name!r} has a non-literal default "
                            f"{ast.unparse(value)!r} (the parameters cell holds literal values only)") from None
        last_line = lines[node.end_lineno - 1]
        comment = _comment_of(last_line)
        out.append(NotebookParam(name, type_name, default, comment))
    return tuple(out)


def _comment_of(line: str) -> str:
    """The ``# help`` text of a line (a '#' inside a string literal does not count)."""
    import io
    import tokenize

    try:
        for tok in tokenize.generate_tokens(io.StringIO(line).readline):
            if tok.type == tokenize.COMMENT:
                return tok.string.lstrip("#").strip()
    except (tokenize.TokenError, IndentationError):
        pass
    return ""


def notebook_params(path: str | Path) -> dict[str, NotebookParam]:
    """The typed parameters of a notebook's ``parameters`` cell (name, type as written, default, help)."""
    path = Path(path)
    if not path.exists():
        raise GridError(f"notebook {path} does not exist")
    return {p.name: p for p in _notebook_params_cached(str(path.resolve()), path.stat().st_mtime)}


_SCALARS = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "list": (list,),
            "dict": (dict,), "tuple": (list, tuple)}


def check_type(param: NotebookParam, value: Any) -> str | None:
    """Why ``value`` does not fit ``param``'s declared type, or None when it fits."""
    if value is None:
        return None if param.optional or param.type_name == "None" else "None given for a non-optional parameter"
    alternatives = [t.strip() for t in param.type_name.replace("Optional[", "").rstrip("]").split("|")]
    allowed: list[type] = []
    for alt in alternatives:
        base = alt.split("[", 1)[0].strip()
        if base in ("None", "Any", ""):
            if base != "None" or len(alternatives) == 1:
                return None
            continue
        if base not in _SCALARS:
            return None  # a type we do not check (e.g. Literal): papermill passes it through
        allowed.extend(_SCALARS[base])
    if isinstance(value, bool) and bool not in allowed:
        return f"expected {param.type_name}, got bool {value!r}"
    if not isinstance(value, tuple(allowed)):
        return f"expected {param.type_name}, got {type(value).__name__} {value!r}"
    return None


# -- grid -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Resources:
    """What one cell of a stage asks a cluster for; None leaves the choice to the runner's defaults."""

    cpus: int | None = None
    mem_gb: float | None = None
    gpus: int | None = None
    time_min: int | None = None
    partition: str | None = None
    array_parallelism: int | None = None

    def over(self, defaults: "Resources") -> "Resources":
        """These values where given, ``defaults`` elsewhere."""
        return Resources(**{k: (v if v is not None else getattr(defaults, k)) for k, v in vars(self).items()})


# key -> (accepted types, smallest value, what it means); bool is rejected separately (it is an int)
_RESOURCE_KEYS: dict[str, tuple[tuple[type, ...], float | None, str]] = {
    "cpus": ((int,), 1, "CPUs per cell"),
    "mem_gb": ((int, float), 0.001, "memory per cell in GB"),
    "gpus": ((int,), 0, "GPUs per cell"),
    "time_min": ((int,), 1, "minutes per cell before SLURM kills it"),
    "partition": ((str,), None, "SLURM partition"),
    "array_parallelism": ((int,), 1, "cells of the stage running at once"),
}


def parse_resources(raw: Any, where: str) -> Resources:
    """A stage's ``resources:`` mapping, checked key by key (unknown keys, wrong types, values out of range)."""
    if raw is None:
        return Resources()
    if not isinstance(raw, dict):
        raise GridError(f"{where}: 'resources' must be a mapping of {sorted(_RESOURCE_KEYS)}, got {raw!r}")
    unknown = sorted(set(raw) - set(_RESOURCE_KEYS))
    if unknown:
        raise GridError(f"{where}: unknown resource(s) {unknown}; known: "
                        + ", ".join(f"{k} ({meaning})" for k, (_, _, meaning) in _RESOURCE_KEYS.items()))
    for key, value in raw.items():
        types, low, meaning = _RESOURCE_KEYS[key]
        if isinstance(value, bool) or not isinstance(value, types) or (isinstance(value, str) and not value.strip()):
            raise GridError(f"{where}: resource {key!r} ({meaning}) must be "
                            f"{' or '.join(t.__name__ for t in types)}, got {value!r}")
        if low is not None and value < low:
            raise GridError(f"{where}: resource {key!r} ({meaning}) must be at least {low:g}, got {value!r}")
    return Resources(**raw)


@dataclass(frozen=True)
class Stage:
    name: str
    notebook: Path
    params: dict[str, Any]
    sweep: dict[str, list]
    zips: list[dict[str, list]]
    include: list[dict[str, Any]]
    requires_path: str | None = None
    description: str = ""
    unless_path: str | None = None
    # stages whose cells must finish before this one's start (default: every earlier stage)
    after: tuple[str, ...] = ()
    resources: Resources = field(default_factory=Resources)

    @property
    def stem(self) -> str:
        return self.notebook.stem

    def missing_requirement(self) -> str | None:
        """Why this stage does not run here (its required path is absent, or its ``unless_path``
        exists: a fallback stage for when something better is missing), or None."""
        if self.requires_path and not Path(self.requires_path).expanduser().exists():
            return f"stage {self.name!r} skipped: {self.requires_path} does not exist"
        if self.unless_path and Path(self.unless_path).expanduser().exists():
            return f"stage {self.name!r} skipped: {self.unless_path} exists (it stands in only where that is absent)"
        return None


@dataclass(frozen=True)
class Cell:
    """One notebook execution: a stage and its full parameters (``out_dir`` excluded)."""

    stage: str
    notebook: Path
    params: dict[str, Any]
    swept: tuple[str, ...] = field(default=())

    @property
    def stem(self) -> str:
        return self.notebook.stem

    @property
    def key(self) -> str:
        return cell_key(self.params, self.swept)


@dataclass(frozen=True)
class Grid:
    name: str
    path: Path
    stages: list[Stage]
    description: str = ""

    def stage(self, name: str) -> Stage:
        for s in self.stages:
            if s.name == name:
                return s
        raise UnknownNameError("stage", name, [s.name for s in self.stages])


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def params_hash(params: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(params).encode()).hexdigest()[:10]


def _slug(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        text = "+".join(_slug(v) for v in value)
    elif isinstance(value, float):
        text = f"{value:g}"
    else:
        text = str(value)
    text = Path(text).name if ("/" in text and len(text) > 20) else text  # a long path: its last part
    return re.sub(r"[^A-Za-z0-9.+_-]+", "-", text).strip("-")[:40] or "x"


def cell_key(params: dict[str, Any], swept: Iterable[str] = ()) -> str:
    """Readable, unique folder name: the swept values in order, then a short hash of every parameter."""
    parts = [f"{_slug(name)}={_slug(params[name])}" for name in swept if name in params]
    readable = "_".join(parts)[:120].rstrip("_-") or "cell"
    return f"{readable}__{params_hash(params)}"


def _substitute(value: Any, variables: dict[str, Any], where: str) -> Any:
    if isinstance(value, str):
        whole = _VAR.fullmatch(value)
        if whole:
            name = whole.group(1)
            if name not in variables:
                raise UnknownNameError("grid variable", name, variables)
            return variables[name]

        def repl(m: re.Match) -> str:
            if m.group(1) not in variables:
                raise UnknownNameError("grid variable", m.group(1), variables)
            return str(variables[m.group(1)])

        return _VAR.sub(repl, value)
    if isinstance(value, list):
        return [_substitute(v, variables, where) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, variables, where) for k, v in value.items()}
    return value


def load_grid(path: str | Path, root: str | Path | None = None) -> Grid:
    """Parse a grid file. Notebook paths are relative to ``root`` (default: the grid file's parent's parent,
    i.e. the repository holding ``params/``), or absolute."""
    path = Path(path)
    if not path.exists():
        raise GridError(f"grid file {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise GridError(f"grid file {path}: invalid YAML: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("stages"), list) or not raw["stages"]:
        raise GridError(f"grid file {path}: expected a mapping with a non-empty list 'stages'")
    # top-level keys starting with "x-" hold YAML anchors to reuse (``<<: *name`` merges them)
    unknown = {k for k in raw if not str(k).startswith("x-")} - _GRID_KEYS
    if unknown:
        raise GridError(f"grid file {path}: unknown top-level key(s) {sorted(unknown)}; known {sorted(_GRID_KEYS)}")
    root = Path(root) if root is not None else path.resolve().parent.parent
    variables = builtin_vars()
    for k, v in (raw.get("vars") or {}).items():
        variables[k] = _substitute(v, variables, f"vars.{k}")
    stages, seen = [], set()
    for i, s in enumerate(raw["stages"]):
        where = f"grid file {path}, stage {i}"
        if not isinstance(s, dict) or "name" not in s or "notebook" not in s:
            raise GridError(f"{where}: each stage needs 'name' and 'notebook'")
        unknown = set(s) - _STAGE_KEYS
        if unknown:
            raise GridError(f"{where} ({s['name']}): unknown key(s) {sorted(unknown)}; known {sorted(_STAGE_KEYS)}")
        if s["name"] in seen:
            raise GridError(f"{where}: duplicate stage name {s['name']!r}")
        seen.add(s["name"])
        s = _substitute(s, variables, where)
        sweep = s.get("sweep") or {}
        for k, v in sweep.items():
            if not isinstance(v, list) or not v:
                raise GridError(f"{where} ({s['name']}): sweep {k!r} must be a non-empty list, got {v!r}")
        zips = s.get("zip") or []
        for z in zips:
            lengths = {k: len(v) if isinstance(v, list) else -1 for k, v in z.items()}
            if len(set(lengths.values())) != 1 or -1 in lengths.values():
                raise GridError(f"{where} ({s['name']}): zip lists must all be lists of one length, got {lengths}")
        after = s.get("after")
        if after is None:
            after = [st.name for st in stages]
        if not isinstance(after, list) or not all(isinstance(a, str) for a in after):
            raise GridError(f"{where} ({s['name']}): 'after' must be a list of stage names, got {after!r}")
        earlier = [st.name for st in stages]
        unknown_after = [a for a in after if a not in earlier]
        if unknown_after:
            raise GridError(f"{where} ({s['name']}): 'after' names {unknown_after}, which are not earlier stages "
                            f"(earlier: {earlier})")
        nb = Path(s["notebook"])
        stages.append(Stage(name=s["name"], notebook=nb if nb.is_absolute() else root / nb,
                            params=dict(s.get("params") or {}), sweep=dict(sweep), zips=list(zips),
                            include=list(s.get("include") or []), requires_path=s.get("requires_path"),
                            description=s.get("description", ""), unless_path=s.get("unless_path"),
                            after=tuple(after), resources=parse_resources(s.get("resources"), f"{where} ({s['name']})")))
    return Grid(name=str(raw.get("name", path.stem)), path=path, stages=stages, description=raw.get("description", ""))


def expand_stage(stage: Stage, defaults: dict[str, Any] | None = None) -> list[Cell]:
    """All cells of a stage: product(sweep) x product(zip axes), plus ``include`` cells.

    ``defaults`` (the notebook's parameter defaults) fill what the grid leaves out, so a cell's
    parameters are complete and its key changes when a default changes.
    """
    defaults = dict(defaults or {})
    for name in RUNNER_PARAMS:
        defaults.pop(name, None)
    axes: list[list[dict[str, Any]]] = [[{k: v} for v in vals] for k, vals in stage.sweep.items()]
    for z in stage.zips:
        names = list(z)
        axes.append([dict(zip(names, values)) for values in zip(*(z[n] for n in names))])
    swept = tuple(list(stage.sweep) + [n for z in stage.zips for n in z])
    combos = [{}] if not axes else [{k: v for d in combo for k, v in d.items()} for combo in itertools.product(*axes)]
    if stage.include and not axes and not stage.sweep:
        combos = []  # only the included cells
    cells, keys = [], set()
    for extra in combos + list(stage.include):
        if not isinstance(extra, dict):
            raise GridError(f"stage {stage.name!r}: include entries must be mappings, got {extra!r}")
        params = {**defaults, **stage.params, **extra}
        cell_swept = swept + tuple(k for k in extra if k not in swept)
        cell = Cell(stage.name, stage.notebook, params, cell_swept)
        if cell.key not in keys:  # identical cells (e.g. an include repeating a sweep point) run once
            keys.add(cell.key)
            cells.append(cell)
    return cells


def validate_stage(stage: Stage) -> dict[str, NotebookParam]:
    """Reject unknown, runner-owned or missing parameters, mistyped values and values naming nothing
    known (`mollia.study.values`: dataset, strategy, annotator, backbone, models ...), before running
    anything."""
    from mollia.study.values import value_problem

    declared = notebook_params(stage.notebook)
    if "out_dir" not in declared:
        raise GridError(f"notebook {stage.notebook} has no 'out_dir' parameter (every study notebook needs one)")
    given: dict[str, list] = {k: [v] for k, v in stage.params.items()}
    for k, v in stage.sweep.items():
        given.setdefault(k, []).extend(v)
    for z in stage.zips:
        for k, v in z.items():
            given.setdefault(k, []).extend(v)
    for inc in stage.include:
        for k, v in inc.items():
            given.setdefault(k, []).append(v)
    for name in given:
        if name in RUNNER_PARAMS:
            raise GridError(f"stage {stage.name!r}: parameter {name!r} is set by the runner; remove it from the grid")
        if name not in declared:
            raise GridError(f"stage {stage.name!r}: unknown parameter {name!r} for {stage.notebook.name}; "
                            f"it declares: {', '.join(sorted(declared))}")
        for value in given[name]:
            problem = check_type(declared[name], value) or value_problem(name, value)
            if problem:
                raise GridError(f"stage {stage.name!r}: parameter {name!r} of {stage.notebook.name}: {problem}")
    missing = [p.name for p in declared.values() if p.required and p.name not in given and p.name not in RUNNER_PARAMS]
    if missing:
        raise GridError(f"stage {stage.name!r}: missing required parameter(s) {missing} of {stage.notebook.name}")
    return declared


def plan(grid: Grid, only: Iterable[str] | None = None) -> tuple[list[Cell], list[str]]:
    """Validate every stage and expand it. Returns (cells in stage order, skip messages)."""
    only = list(only or [])
    for name in only:
        grid.stage(name)  # unknown stage -> clear error
    cells, skipped = [], []
    for stage in grid.stages:
        if only and stage.name not in only:
            continue
        declared = validate_stage(stage)
        reason = stage.missing_requirement()
        if reason:
            skipped.append(reason)
            continue
        cells.extend(expand_stage(stage, {k: p.default for k, p in declared.items()}))
    return cells, skipped
