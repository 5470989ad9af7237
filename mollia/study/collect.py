"""Read every ``metrics.json`` under a results root into tidy frames (never an executed notebook).

Records are read through `mollia.records` into their typed classes: ``al`` (`ALRecord`: one run,
per-iteration rows), ``annotation`` (`AnnotationRecord`: Table 2 style), ``analysis``
(`AnalysisRecord`: notebook 06), ``probing`` (`ProbingRecord`: notebook 01); others are listed and
ignored; a record of another schema or with missing fields is listed as unreadable.
Folders the runner uses for unfinished work (``.partial``) and the report's own outputs are skipped.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mollia.al.config import BEYOND_DEFAULTS
from mollia.records import RECORD_CLASSES, ALRecord, AnalysisRecord, AnnotationRecord, ProbingRecord, RecordError, \
    parse_record
from mollia.study.experiments import variant_of
from mollia.study.grid import canonical_json, params_hash

log = logging.getLogger(__name__)

SKIP_PARTS = {".partial", ".submitit", "tables", "00_tour"}  # the tour (notebook 00) is a demonstration, not evidence
AL_PARAM_COLUMNS = ("dataset", "strategy", "annotator", "backbone", "seed", "negative_learning", "discrepancy",
                    "alpha", "lambda_start", "lambda_end", "iterations", "initial", "batch_size", "pool_size",
                    "epochs", "probes")
ROW_COLUMNS = ("iteration", "n_labelled", "micro_f1", "accuracy", "macro_f1", "added_label_accuracy", "n_negative",
               "negative_error_rate", "discrepancy_rate", "discrepancy_precision", "lambda", "wall_s",
               "peak_memory_mb", "memory_kind", "n_human", "n_human_caught", "trained_label_accuracy",
               "n_validation_labels", "n_test")
# beyond-the-paper options (ALConfig records them only when not at their defaults)
BEYOND_COLUMNS = tuple(BEYOND_DEFAULTS)
FLAGS = ("discrepancy", "entropy", "margin", "consistency")
# what identifies one configuration across seeds
CONFIG_COLUMNS = tuple(c for c in AL_PARAM_COLUMNS if c not in ("seed",)) + ("probe_set",)


def probe_set(probes: Any) -> str:
    """A short name for where a run's annotations came from (released paper probes or our own)."""
    if probes in (None, ""):
        return "none"
    text = str(probes)
    if "paper" in text.lower():
        return "paper-llms"
    return Path(text).name or text


@dataclass
class Collected:
    root: Path
    al: pd.DataFrame  # one row per (run, iteration) of the paper's method (beyond-the-paper options at defaults)
    al_all: pd.DataFrame = field(default_factory=pd.DataFrame)  # every AL run, the beyond-the-paper ones too
    annotation: list[AnnotationRecord] = field(default_factory=list)
    analysis: list[AnalysisRecord] = field(default_factory=list)
    probing: list[ProbingRecord] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    @property
    def n_al_runs(self) -> int:
        return 0 if self.al.empty else self.al["run_id"].nunique()


def metrics_files(root: str | Path) -> list[Path]:
    root = Path(root)
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("metrics.json")
                  if not SKIP_PARTS.intersection(p.relative_to(root).parts) and
                  not any(part.startswith(".old-") for part in p.relative_to(root).parts))


def _al_rows(record: ALRecord, path: Path, root: Path) -> list[dict]:
    params = record.params
    run_id = params_hash(params)
    base = {c: params.get(c) for c in AL_PARAM_COLUMNS}
    base.update({c: canonical_json(params.get(c, BEYOND_DEFAULTS[c])) if c == "loss_params" else
                 params.get(c, BEYOND_DEFAULTS[c]) for c in BEYOND_COLUMNS})
    # early stopping on annotated labels is the paper's method with honest label accounting (its
    # setting names it), not a beyond-the-paper arm
    base["beyond"] = any(c in params and params[c] != BEYOND_DEFAULTS[c] for c in BEYOND_COLUMNS
                         if not c.startswith("early_stopping"))
    base.update(run_id=run_id, source=path.relative_to(root).parts[0], done=bool(record.done),
                variant=variant_of(params), probe_set=probe_set(params.get("probes")), path=str(path),
                early_stopping=params.get("early_stopping", "validation"),
                setting=f"{params.get('initial')}+{params.get('iterations')}x{params.get('batch_size')}"
                        f" pool {params.get('pool_size') or 'all'}"
                        + ("" if params.get("early_stopping", "validation") == "validation"
                           else f", stop on {params['early_stopping']}"))
    rows = []
    for r in record.rows:
        row = dict(base)
        row.update({c: r.get(c) for c in ROW_COLUMNS})
        fp = r.get("flag_precision") or {}
        row.update({f"flag_{f}": fp.get(f) for f in FLAGS})
        # the paper's Fig. 6 statistic; records written before it hold what it follows from exactly
        ad = r["accurate_detection"] if "accurate_detection" in r else accurate_detection_from(r)
        ad = ad or {}
        row.update({f"accurate_{f}": ad.get(f) for f in FLAGS})
        rows.append(row)
    return rows


def accurate_detection_from(row: dict) -> dict | None:
    """The accurate-detection rate per flag (``mollia.al.records.accurate_detection_rate``) of a record
    row written before it was recorded, from the fields it holds: with B annotated items, m = B *
    discrepancy_rate flagged by each flag and p_f its flag precision, the right annotations left
    unflagged are B * added_label_accuracy - m * (1 - p_f), so the rate is acc - rate * (1 - p_f);
    nothing flagged (m = 0): acc."""
    acc, rate = row.get("added_label_accuracy"), row.get("discrepancy_rate")
    if acc is None or rate is None:
        return None
    if rate == 0:
        return {f: float(acc) for f in FLAGS}
    precision = row.get("flag_precision") or {}
    return {f: None if precision.get(f) is None else float(acc) - float(rate) * (1.0 - float(precision[f]))
            for f in FLAGS}


def collect(root: str | Path) -> Collected:
    """Every metrics.json under ``root``, by kind. AL runs with identical parameters count once."""
    root = Path(root)
    al_rows, seen = [], set()
    out = Collected(root=root, al=pd.DataFrame())
    for path in metrics_files(root):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            out.unreadable.append(str(path))
            continue
        kind = record.get("kind") if isinstance(record, dict) else None
        if kind not in RECORD_CLASSES:
            out.other.append(str(path))
            continue
        try:  # one of ours: read through mollia.records (schema version and fields checked)
            record = parse_record(record, str(path))
        except RecordError as exc:
            log.warning("%s", exc)
            out.unreadable.append(str(path))
            continue
        if isinstance(record, ALRecord):
            key = canonical_json(record.params)
            if key in seen:  # e.g. ablation variant A = the main run with the same parameters
                continue
            seen.add(key)
            al_rows.extend(_al_rows(record, path, root))
        elif isinstance(record, AnnotationRecord):
            out.annotation.append(record)
        elif isinstance(record, AnalysisRecord):
            out.analysis.append(record)
        elif isinstance(record, ProbingRecord):
            out.probing.append(record)
        else:  # report, tour: not evidence
            out.other.append(str(path))
    if al_rows:
        df = pd.DataFrame(al_rows)
        for c in ("micro_f1", "accuracy", "macro_f1", "added_label_accuracy", "negative_error_rate",
                  "discrepancy_rate", "discrepancy_precision", "peak_memory_mb", "wall_s",
                  *(f"flag_{f}" for f in FLAGS), *(f"accurate_{f}" for f in FLAGS)):
            df[c] = pd.to_numeric(df[c], errors="coerce")
        df["pool_size"] = df["pool_size"].astype(object).where(df["pool_size"].notna(), "all")
        out.al_all = df
        out.al = df[~df["beyond"]].reset_index(drop=True)
    return out


def summarise_seeds(values: pd.Series) -> dict[str, float]:
    vals = pd.to_numeric(values, errors="coerce").dropna()
    return {"mean": float(vals.mean()) if len(vals) else float("nan"),
            "std": float(vals.std(ddof=0)) if len(vals) > 1 else 0.0, "n": int(len(vals))}


def cell_costs(root: str | Path) -> pd.DataFrame:
    """Wall and CPU seconds of every finished cell (the runner's ``runner.json``), per notebook."""
    root = Path(root)
    rows = []
    if root.exists():
        for path in sorted(root.glob("*/*/runner.json")):
            if SKIP_PARTS.intersection(path.relative_to(root).parts):
                continue
            try:
                rec = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            rows.append({"notebook": path.parts[-3], "cell": path.parts[-2], "wall_s": rec.get("wall_s"),
                         "cpu_s": rec.get("cpu_s"), "threads": rec.get("threads")})
    return pd.DataFrame(rows, columns=["notebook", "cell", "wall_s", "cpu_s", "threads"])
