"""The report: every ``metrics.json`` under results/ -> Tables 2-6 (markdown + CSV) and Figs. 4-12.

``build_report(results_root, out_tables, out_figures)`` reads only the metrics files (never an
executed notebook), writes each table as ``<name>.csv`` (tidy, our numbers and the paper's) and
``<name>.md`` (readable: ``mean ± std (n seeds)`` beside the paper's reported value), the figures
as PNG and PDF, and ``README.md`` in the tables folder listing what was written and what was not
(and why: no results of that kind yet).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mollia.atomic import write_text
from mollia.records import AnalysisRecord
from mollia.study import beyond, figures, tables
from mollia.study.claims import check_claims
from mollia.study import paper
from mollia.study.collect import Collected, cell_costs, collect

TABLE_TITLES = {
    "headline": "Final micro-F1 of every AL configuration (last iteration; robust loss at the paper's settings)",
    "table2": "Table 2: annotation accuracy (ours: mean ± std (seeds); paper: its reported value)",
    "table3": "Table 3: negative labels as shares of the label space (true / false negatives)",
    "table4": "Table 4 / Fig. 7: ablation variants (A: NL + AD, B: NL, C: AD, D: neither), final micro-F1",
    "table5": "Table 5: MoLAM XGBoost hyperparameters, ours (paper)",
    "table6": "Table 6: peak memory in MB (CUDA where a GPU ran, RSS otherwise) beside the paper's CUDA MB",
    "fig06_accurate": "Fig. 6 (the paper's statistic): accurate-detection rate, annotations not flagged and "
                      "right among all annotated ones",
    "fig06_flags": "Fig. 6 beside it (ours): precision of flags at catching wrong annotations",
    "claims": "The paper's claims against our results (mechanical verdicts; read the evidence)",
    "cost": "Cost of the study: cells, wall and CPU seconds per notebook (the runner's records)",
    "frontier": "Beyond the paper: the cost/accuracy frontier (final micro-F1 against human labels spent; "
                "differences paired over seeds: mean [95% t interval] (n))",
    "beyond_cost": "Beyond the paper: human labels and LLM compute per configuration, priced by params/prices.yaml",
    "labels": "Labels per AL run: human (initial set, validation split read by early stopping, queried by a "
              "human) and annotator-given; 'stop on annotated' runs read no validation label",
}
DEFAULT_PRICES = Path(__file__).resolve().parents[2] / "params" / "prices.yaml"


UNREADABLE_FIX = ("an AL run rewrites it from its state/ folder when the same `mollia al` command is rerun; a grid "
                  "cell: delete the cell's folder and rerun the grid (only that cell is redone)")


@dataclass
class ReportOutputs:
    tables_dir: Path
    figures_dir: Path
    tidy: dict[str, pd.DataFrame] = field(default_factory=dict)
    markdown: dict[str, str] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)
    n_al_runs: int = 0
    n_metrics: int = 0
    unreadable: list[str] = field(default_factory=list)

    def summary(self) -> str:
        figs = sorted({p.stem for p in self.files if p.suffix == ".png"})
        lines = [f"report: {self.n_metrics} metrics files ({self.n_al_runs} AL runs) -> "
                 f"{len(self.markdown)} tables in {self.tables_dir}, {len(figs)} figures in {self.figures_dir}"]
        lines += [f"  not produced: {name} ({why})" for name, why in self.missing.items()]
        lines += [f"  skipped, not valid JSON: {path}: {UNREADABLE_FIX}" for path in self.unreadable]
        return "\n".join(lines)

    def save_metrics(self, out_dir: str | Path) -> Path:
        from mollia.records import make_record, write_record

        return write_record(Path(out_dir) / "metrics.json", make_record(
            "report", tables=sorted(self.markdown), missing=self.missing,
            files=sorted(str(p) for p in self.files), n_al_runs=self.n_al_runs, n_metrics=self.n_metrics))


def build_report(results_root: str | Path, out_tables: str | Path, out_figures: str | Path,
                 prices: str | Path | None = None) -> ReportOutputs:
    """Write every table and figure the present results support; say which are missing and why.
    ``prices``: the prices file of the cost accounting (default ``params/prices.yaml`` of this
    checkout where it exists, else every price 0)."""
    results_root, out_tables, out_figures = Path(results_root), Path(out_tables), Path(out_figures)
    collected = collect(results_root)
    out = ReportOutputs(out_tables, out_figures, n_al_runs=collected.n_al_runs,
                        n_metrics=collected.n_al_runs + len(collected.annotation) + len(collected.analysis) +
                        len(collected.probing), unreadable=list(collected.unreadable))
    builders = {"headline": tables.headline, "table2": tables.table2, "table3": tables.table3,
                "table4": tables.table4, "table5": tables.table5, "table6": tables.table6}
    for name, build in builders.items():
        tidy, md = build(collected)
        _write_table(out, name, tidy, md)
    costs = cell_costs(results_root)
    if not costs.empty:
        cost = costs.groupby("notebook").agg(cells=("cell", "count"), wall_s=("wall_s", "sum"), cpu_s=("cpu_s", "sum"),
                                             threads=("threads", "max")).reset_index()
        cost.loc[len(cost)] = ["total", cost["cells"].sum(), cost["wall_s"].sum(), cost["cpu_s"].sum(), cost["threads"].max()]
        _write_table(out, "cost", cost, cost.round(1))
    accurate = tables.accurate_detection(collected)
    _write_table(out, "fig06_accurate", accurate, accurate.round(4) if not accurate.empty else accurate)
    labels, labels_md = tables.label_cost(collected)
    _write_table(out, "labels", labels, labels_md)
    if "labels" in out.markdown:  # the cost table counts human labels too (validation split included)
        out.markdown["cost"] = out.markdown.get("cost", "") + "\n" + out.markdown["labels"]
        write_text(out.tables_dir / "cost.md", out.markdown["cost"])
    flags = tables.flag_precision(collected)
    _write_table(out, "fig06_flags", flags, flags.round(4) if not flags.empty else flags)
    claims = check_claims(collected, out.tidy)
    front, runs = _beyond(collected, out, prices)
    claims = pd.concat([claims, beyond.beyond_claims(front)], ignore_index=True)
    _write_table(out, "claims", claims, claims)
    out.files += _figures(collected, accurate, flags, out_figures, out)
    made = beyond.frontier_figures(front, runs, out_figures)
    if not made:
        out.missing["beyond frontier"] = "no AL runs with an oracle arm to compare with"
    out.files += made
    write_text(out_tables / "README.md", _index(out))
    return out


def _beyond(collected: Collected, out: ReportOutputs, prices: str | Path | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The frontier and cost tables (mollia.study.beyond); returns the frontier and the per-run table."""
    runs = beyond.run_table(collected.al_all)
    front = beyond.frontier(runs)
    _write_table(out, "frontier", front, beyond.frontier_markdown(front))
    path = Path(prices) if prices is not None else DEFAULT_PRICES
    price_list = beyond.Prices.load(path) if (prices is not None or path.exists()) else beyond.Prices()
    pools = {} if collected.al_all.empty else _pool_sizes(collected)
    costs = beyond.cost_table(front, collected.probing, price_list, pools)
    _write_table(out, "beyond_cost", costs, beyond.cost_markdown(costs))
    return front, runs


def _pool_sizes(collected: Collected) -> dict:
    """(dataset, probe set) -> pool size: the largest numeric ``pool_size`` recorded, else the
    length of a run's stored pool annotation (``state/annotation.npz``: one row per pool item)."""
    import numpy as np

    sizes = {}
    for (dataset, probe), g in collected.al_all.groupby(["dataset", "probe_set"]):
        numeric = pd.to_numeric(g["pool_size"], errors="coerce").dropna()
        if len(numeric):
            sizes[(dataset, probe)] = int(numeric.max())
            continue
        for path in g["path"].unique():
            npz = Path(path).parent / "state" / "annotation.npz"
            try:
                with np.load(npz, allow_pickle=False) as data:
                    sizes[(dataset, probe)] = int(len(data["item_ids"]))
                break
            except (OSError, KeyError, ValueError):
                continue
    return sizes


def _write_table(out: ReportOutputs, name: str, tidy: pd.DataFrame, md: pd.DataFrame) -> None:
    if md is None or md.empty:
        out.missing[name] = "no results of this kind under the results folder"
        return
    csv = out.tables_dir / f"{name}.csv"
    write_text(csv, tidy.to_csv(index=False))
    text = f"## {TABLE_TITLES.get(name, name)}\n\n" + tables.to_markdown(md)
    if name in ("table2", "table3", "table5", "table6"):
        text += f"\nPaper values: the paper's own reported numbers ({paper.PAPER}).\n"
    write_text(out.tables_dir / f"{name}.md", text)
    out.tidy[name], out.markdown[name] = tidy, text
    out.files += [csv, out.tables_dir / f"{name}.md"]


def _figures(collected: Collected, accurate: pd.DataFrame, flags: pd.DataFrame, folder: Path,
             out: ReportOutputs) -> list[Path]:
    files: list[Path] = []
    al = collected.al
    groups = {
        "fig04-09 learning curves": (lambda: figures.learning_curves(al, folder)) if not al.empty else None,
        "fig07 ablation": (lambda: figures.ablation_curves(al, folder)) if not al.empty else None,
        "fig10-11 sensitivity": (lambda: figures.sensitivity_curves(al, folder)) if not al.empty else None,
        "fig06 flags": lambda: figures.flag_bars(accurate, flags, folder),
        "fig12 examples": lambda: figures.qualitative(_first_per_dataset(collected.analysis), folder),
    }
    for name, make in groups.items():
        made = make() if make else []
        if not made:
            out.missing[name] = "no results of this kind (or too few configurations to compare)"
        files += made
    return files


def _first_per_dataset(analyses: list[AnalysisRecord]) -> list[AnalysisRecord]:
    chosen: dict[tuple, AnalysisRecord] = {}
    for rec in sorted(analyses, key=lambda r: r.seed or 0):
        key = (rec.dataset, rec.probe_set, rec.annotator)
        if rec.qualitative and key not in chosen:
            chosen[key] = rec
    return list(chosen.values())


def _index(out: ReportOutputs) -> str:
    lines = ["# mollia report", "", "Regenerate with `mollia report` (reads results/**/metrics.json).", "",
             "## Tables", ""]
    lines += [f"- [{name}]({name}.md): {TABLE_TITLES.get(name, name)}" for name in out.markdown]
    lines += ["", "## Figures", ""]
    lines += [f"- {p.name}" for p in sorted(out.files) if p.suffix == ".png"]
    if out.missing:
        lines += ["", "## Not produced", ""] + [f"- {k}: {v}" for k, v in out.missing.items()]
    return "\n".join(lines) + "\n"
