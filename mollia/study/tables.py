"""Tables 2-6 (and the headline AL table) from collected metrics, beside the paper's numbers.

Every table is a tidy DataFrame (written as CSV) plus a markdown rendering where our value reads
``mean ± std (n)`` over seeds and the paper's column is labelled as the paper's reported value.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from mollia.al.config import GROUND_TRUTH_ANNOTATORS
from mollia.records import AnalysisRecord, AnnotationRecord
from mollia.study import paper
from mollia.study.collect import CONFIG_COLUMNS, Collected, summarise_seeds
from mollia.study.stats import MIN_EVAL_ITEMS

DEFAULT_ROBUST = {"alpha": paper.SETTINGS["alpha"], "lambda_start": paper.SETTINGS["lambda_start"],
                  "lambda_end": paper.SETTINGS["lambda_end"]}


def fmt(mean: Any, std: Any = None, n: Any = None, digits: int = 4) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "–"
    text = f"{mean:.{digits}f}"
    if std is not None and n is not None and n > 1:
        text += f" ± {std:.{digits}f}"
    if n is not None:
        text += f" ({n})"
    return text


def to_markdown(df: pd.DataFrame) -> str:
    """A plain pipe table (no extra dependency)."""
    if df.empty:
        return "_no results_\n"
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, row in df.iterrows():
        cells = []
        for v in row.tolist():
            if isinstance(v, float):
                cells.append("–" if math.isnan(v) else f"{v:.4g}")
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# -- Table 2 ----------------------------------------------------------------------------------------
def table2_rows(results: dict, dataset: str) -> list[dict]:
    """The one Table 2 row builder (the report, notebook 02, ``mollia table2``): per method of one
    dataset's ``{method: {mean, std, per_seed, skipped?}}``, ours beside the paper's value."""
    rows = []
    for method, res in results.items():
        method = paper.canonical_method(method)
        per_seed = res.get("per_seed") or []
        mean, ref = res.get("mean"), paper.paper_value(paper.TABLE2, method, dataset)
        rows.append({"dataset": dataset, "method": method, "mean": mean, "std": res.get("std"),
                     "n_seeds": len(per_seed) if per_seed else (1 if mean is not None else 0), "paper": ref,
                     "ours - paper": None if mean is None or ref is None else mean - ref,
                     "note": res.get("skipped", "")})
    return rows


def format_table2(results: dict, dataset: str) -> str:
    """`table2_rows` as a plain-text table (``mollia table2``, notebook 02)."""
    lines = [f"Table 2 ({dataset}): annotation accuracy on the items outside each seed's labelled set",
             f"{'method':<30}{'ours (mean ± std)':>20}{'paper':>9}{'diff':>9}  note"]
    for r in table2_rows(results, dataset):
        ours = "—" if r["mean"] is None else f"{r['mean']:.4f} ± {r['std']:.4f}"
        paper_s = "" if r["paper"] is None else f"{r['paper']:.4f}"
        diff = "" if r["ours - paper"] is None else f"{r['ours - paper']:+.4f}"
        lines.append(f"{r['method']:<30}{ours:>20}{paper_s:>9}{diff:>9}  {r['note']}")
    return "\n".join(lines)


def table2(collected: Collected) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Annotation accuracy per method and dataset (mean, std over seeds) beside the paper's."""
    rows = []
    for rec in collected.annotation:
        probe = _annotation_probe_set(rec)
        n_eval = annotation_eval_items(rec)
        rows += [{**{k: r[k] for k in ("dataset", "method", "mean", "std", "n_seeds", "paper")}, "probe_set": probe,
                  "n_eval": n_eval}
                 for r in table2_rows(rec.results, rec.dataset)]
    tidy = pd.DataFrame(rows, columns=["dataset", "probe_set", "method", "mean", "std", "n_seeds", "n_eval", "paper"])
    if tidy.empty:
        return tidy, tidy
    tidy = tidy.drop_duplicates(["dataset", "probe_set", "method"], keep="last")
    tidy["column"] = tidy["dataset"] + np.where(tidy["probe_set"] != "", " [" + tidy["probe_set"] + "]", "")
    # fewer than MIN_EVAL_ITEMS evaluation items: the column is an illustration, not evidence
    small = pd.to_numeric(tidy["n_eval"], errors="coerce") < MIN_EVAL_ITEMS
    if small.any():
        tidy.loc[small, "column"] = [f"{c} (illustration: {int(n)} items)"
                                     for c, n in zip(tidy.loc[small, "column"], tidy.loc[small, "n_eval"])]
    wide = {}
    for _, r in tidy.iterrows():
        entry = wide.setdefault(r["method"], {"method": paper.table2_label(r["method"])})
        entry[f"{r['column']} ours"] = fmt(r["mean"], r["std"], r["n_seeds"])
        if r["paper"] is not None and not pd.isna(r["paper"]):
            entry[f"{r['dataset']} paper"] = f"{r['paper']:.4f}"
    methods = sorted(wide, key=lambda m: (paper.table2_position(m), m))
    md = pd.DataFrame([wide[m] for m in methods]).fillna("–")
    return tidy.drop(columns="column"), md


def annotation_eval_items(rec: AnnotationRecord) -> int | None:
    """Items an annotation record's accuracies are computed on (all items less the labelled ones)."""
    n_labelled = rec.params.get("n_labelled")
    if not rec.n_items or n_labelled in (None, ""):
        return None
    return int(rec.n_items) - int(n_labelled)


def _annotation_probe_set(rec: AnnotationRecord) -> str:
    from mollia.study.collect import probe_set

    if rec.probe_set:
        return rec.probe_set
    source = rec.params.get("probes_dir") or rec.get("probes")
    return probe_set(source) if source not in (None, "", "None") else ""


# -- Table 3 ----------------------------------------------------------------------------------------
def table3(collected: Collected) -> tuple[pd.DataFrame, pd.DataFrame]:
    """True / false negative labels as shares of the label space (Eq. 5), per dataset."""
    rows = []
    for rec in collected.analysis + collected.annotation:
        neg = rec.negative_labels
        if "rates" in neg:  # the annotators' record: Eq. 5 on every probed item, per rule
            rates = neg["rates"].get(neg.get("default_rule", "all")) or {}
            who, probe = f"Eq. 5, all items (rule {neg.get('default_rule', 'all')})", _annotation_probe_set(rec)
        else:  # notebook 06: the annotator's y- on the items outside its labelled set
            # (an annotation record of that older shape: MoLAM's, as before)
            rates, who, probe = neg, rec.annotator if isinstance(rec, AnalysisRecord) else "molam", rec.probe_set
        tn, fn = rates.get("true_negative_rate"), rates.get("false_negative_rate")
        if tn is None or fn is None:
            continue
        rows.append({"dataset": rec.dataset, "probe_set": probe, "annotator": who, "seed": rec.get("seed"),
                     "true_negative": tn, "false_negative": fn})
    tidy = pd.DataFrame(rows, columns=["dataset", "probe_set", "annotator", "seed", "true_negative", "false_negative"])
    if tidy.empty:
        return tidy, tidy
    tidy = tidy.drop_duplicates(["dataset", "probe_set", "annotator", "seed"], keep="last")
    md_rows = []
    for (dataset, probe, annotator), g in tidy.groupby(["dataset", "probe_set", "annotator"], sort=True):
        tn, fn = summarise_seeds(g["true_negative"]), summarise_seeds(g["false_negative"])
        p_tn, p_fn = paper.paper_value(paper.TABLE3, "true_negative", dataset), paper.paper_value(paper.TABLE3, "false_negative", dataset)
        md_rows.append({"dataset": dataset, "probes": probe, "annotator": annotator,
                        "true neg. (ours)": fmt(tn["mean"], tn["std"], tn["n"]),
                        "true neg. (paper)": "–" if p_tn is None else f"{p_tn:.4f}",
                        "false neg. (ours)": fmt(fn["mean"], fn["std"], fn["n"]),
                        "false neg. (paper)": "–" if p_fn is None else f"{p_fn:.4f}"})
    return tidy, pd.DataFrame(md_rows)


# -- AL summaries -----------------------------------------------------------------------------------
def final_rows(al: pd.DataFrame) -> pd.DataFrame:
    """The last recorded iteration of each run."""
    if al.empty:
        return al
    idx = al.groupby("run_id")["iteration"].idxmax()
    return al.loc[idx]


def _group_final(al: pd.DataFrame, by: list[str], metric: str = "micro_f1") -> pd.DataFrame:
    last = final_rows(al)
    rows = []
    for key, g in last.groupby(by, sort=True, dropna=False):
        s = summarise_seeds(g[metric])
        rows.append(dict(zip(by, key if isinstance(key, tuple) else (key,)), mean=s["mean"], std=s["std"], n_seeds=s["n"],
                         n_labelled=int(g["n_labelled"].max()) if g["n_labelled"].notna().any() else None))
    return pd.DataFrame(rows)


def _at_paper_robust_settings(al: pd.DataFrame) -> pd.Series:
    """Rows whose alpha / lambda_start / lambda_end are the paper's (`DEFAULT_ROBUST`)."""
    mask = pd.Series(True, index=al.index)
    for k, v in DEFAULT_ROBUST.items():
        mask &= np.isclose(pd.to_numeric(al[k], errors="coerce").astype(float), v)
    return mask


def default_robust(al: pd.DataFrame) -> pd.DataFrame:
    """Runs with the paper's robust-loss settings (variant A, alpha 0.5, lambda 0.4 -> 1)."""
    if al.empty:
        return al
    return al[al["variant"].eq("A") & _at_paper_robust_settings(al)]


def headline(collected: Collected) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Final micro-F1 per dataset, backbone, strategy and annotator (the curves' last point)."""
    al = default_robust(collected.al)
    if al.empty:
        return pd.DataFrame(), pd.DataFrame()
    tidy = _group_final(al, ["dataset", "probe_set", "backbone", "setting", "strategy", "annotator"])
    md = tidy.assign(**{"final micro-F1": [fmt(m, s, n) for m, s, n in zip(tidy["mean"], tidy["std"], tidy["n_seeds"])]})
    md = md.pivot_table(index=["dataset", "probe_set", "backbone", "setting", "annotator"], columns="strategy",
                        values="final micro-F1", aggfunc="first").reset_index().fillna("–")
    md.columns.name = None
    strategies = [s for s in STRATEGY_ORDER if s in md.columns] + sorted(c for c in set(tidy["strategy"]) - set(STRATEGY_ORDER))
    md = md[["dataset", "probe_set", "backbone", "setting", "annotator", *strategies]]
    md = md.sort_values(["dataset", "probe_set", "backbone", "setting", "annotator"], key=_annotator_key).reset_index(drop=True)
    return tidy, md


ANNOTATOR_ORDER = ("oracle", "oracle-robust", "molam", "mol", "llms-v", "llms-l")
STRATEGY_ORDER = ("random", "coreset", "bemps", "noise_stability", "entropy", "margin")


def _annotator_key(col: pd.Series) -> pd.Series:
    if col.name != "annotator":
        return col
    return col.map(lambda a: (f"{ANNOTATOR_ORDER.index(a):02d}" if a in ANNOTATOR_ORDER else f"99{a}"))


# -- Table 4 (ablation) -----------------------------------------------------------------------------
def variant_runs(al: pd.DataFrame) -> pd.DataFrame:
    """MoLAM runs at the paper's alpha / lambda, in panels where more than one ablation variant ran."""
    if al.empty:
        return al
    mask = al["annotator"].eq("molam") & _at_paper_robust_settings(al)
    return al[mask].groupby(["dataset", "probe_set", "backbone", "setting", "strategy"]).filter(
        lambda g: g["variant"].nunique() > 1)


def table4(collected: Collected) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Final micro-F1 of the ablation variants A-D (Table 4's configurations; the paper shows Fig. 7)."""
    sub = variant_runs(collected.al)
    if sub.empty:
        return pd.DataFrame(), pd.DataFrame()
    tidy = _group_final(sub, ["dataset", "probe_set", "backbone", "setting", "strategy", "variant"])
    md = tidy.assign(cell=[fmt(m, s, n) for m, s, n in zip(tidy["mean"], tidy["std"], tidy["n_seeds"])])
    md = md.pivot_table(index=["dataset", "probe_set", "backbone", "setting", "strategy"], columns="variant", values="cell",
                        aggfunc="first").reset_index().fillna("–")
    md.columns.name = None
    return tidy, md


# -- label cost -------------------------------------------------------------------------------------
def label_cost(collected: Collected) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labels one AL run uses, per configuration: the human ones (the initial set, the validation
    split's true labels read by early stopping, the oracle's or the hybrid budget's queried labels)
    and the LLM-annotated ones. Counted from the records (the last iteration of each run)."""
    al = collected.al
    if al.empty or "n_validation_labels" not in al:
        return pd.DataFrame(), pd.DataFrame()
    al = al.assign(n_human=pd.to_numeric(al.get("n_human"), errors="coerce").fillna(0))
    routed = al.groupby("run_id")["n_human"].sum()
    last = final_rows(al).set_index("run_id")
    last = last.assign(routed=routed.reindex(last.index).fillna(0))
    rows = []
    for key, g in last.groupby(["dataset", "probe_set", "setting", "annotator"], sort=True):
        initial = int(pd.to_numeric(g["initial"]).max())
        validation = pd.to_numeric(g["n_validation_labels"], errors="coerce")
        queried = int(pd.to_numeric(g["n_labelled"]).max()) - initial
        routed_max = int(g["routed"].max())
        by_human = queried if key[3] in GROUND_TRUTH_ANNOTATORS else routed_max
        val = None if validation.isna().all() else int(validation.max())
        rows.append({"dataset": key[0], "probe_set": key[1], "setting": key[2], "annotator": key[3],
                     "runs": int(len(g)), "initial (human)": initial,
                     "validation (human)": "?" if val is None else val,
                     "queried by a human": by_human, "queried by the annotator": queried - by_human,
                     "human labels in all": "?" if val is None else initial + val + by_human})
    tidy = pd.DataFrame(rows)
    return tidy, tidy.sort_values(["dataset", "probe_set", "setting", "annotator"], key=_annotator_key)


# -- Table 5 ----------------------------------------------------------------------------------------
def table5(collected: Collected) -> tuple[pd.DataFrame, pd.DataFrame]:
    """MoLAM's XGBoost hyperparameters: ours (as recorded by the annotation runs) beside the paper's."""
    ours: dict[str, dict] = {}
    for rec in collected.annotation:
        if rec.hyperparameters is not None:  # records that named it molam_hyperparameters: migrated on read
            ours[rec.dataset] = rec.hyperparameters
    try:  # where no run recorded them: what our MoLAM uses by default for that dataset
        from mollia.annotators.molam import hyperparameters_for
    except ImportError:  # pragma: no cover - annotators stage absent
        hyperparameters_for = None
    if hyperparameters_for is not None:
        seen = set(paper.DATASETS) | {r.dataset for r in collected.annotation} | (
            set(collected.al["dataset"]) if not collected.al.empty else set())
        for dataset in seen:
            if dataset and dataset not in ours:
                ours[dataset] = hyperparameters_for(dataset)
    rows = []
    for name in paper.TABLE5:
        for i, dataset in enumerate(paper.DATASETS):
            rows.append({"hyperparameter": name, "dataset": dataset, "paper": paper.TABLE5[name][i],
                         "ours": (ours.get(dataset) or {}).get(name)})
    for dataset, hp in ours.items():
        if dataset not in paper.DATASETS:
            for name in paper.TABLE5:
                rows.append({"hyperparameter": name, "dataset": dataset, "paper": None, "ours": hp.get(name)})
    tidy = pd.DataFrame(rows)
    md = tidy.assign(cell=[f"{o if o is not None else '–'} (paper {p if p is not None else '–'})"
                           for o, p in zip(tidy["ours"], tidy["paper"])])
    md = md.pivot_table(index="hyperparameter", columns="dataset", values="cell", aggfunc="first").reset_index()
    md.columns.name = None
    return tidy, md


# -- Table 6 ----------------------------------------------------------------------------------------
def table6(collected: Collected) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Peak memory per dataset and backbone (CUDA where a GPU ran, RSS otherwise), in MB."""
    al = collected.al
    if al.empty or al["peak_memory_mb"].isna().all():
        return pd.DataFrame(), pd.DataFrame()
    rows = []
    for (dataset, backbone, kind), g in al.groupby(["dataset", "backbone", "memory_kind"], dropna=False):
        per_run = g.groupby("run_id")["peak_memory_mb"].max()
        rows.append({"dataset": dataset, "backbone": backbone, "memory_kind": kind, "peak_mb_max": float(per_run.max()),
                     "peak_mb_mean": float(per_run.mean()), "n_runs": int(len(per_run)),
                     "paper_cuda_mb": paper.paper_value(paper.TABLE6, backbone, dataset)})
    tidy = pd.DataFrame(rows)
    md = pd.DataFrame({"dataset": tidy["dataset"], "backbone": tidy["backbone"], "kind": tidy["memory_kind"],
                       "peak MB (max over runs)": tidy["peak_mb_max"].round(0), "runs": tidy["n_runs"],
                       "paper CUDA MB": tidy["paper_cuda_mb"].map(lambda v: "–" if v is None or pd.isna(v) else f"{v:.0f}")})
    return tidy, md


# -- Fig. 6 data ------------------------------------------------------------------------------------
# Two statistics per flag (discrepancy, entropy, margin, consistency; the last three flag as many
# items as the discrepancy does), both from the per-iteration records (`mollia.al.records`):
#   accurate_detection  the PAPER's Fig. 6: annotations not flagged and right / all annotated ones;
#   flag_precision      OURS: wrong annotations among the flagged ones.
FIG6_STATISTICS = {"accurate_detection": "accurate_", "flag_precision": "flag_"}


def _per_flag(collected: Collected, prefix: str) -> pd.DataFrame:
    """Mean over iterations per run, then mean and std over runs, of each ``<prefix><flag>`` column."""
    al = collected.al
    cols = [c for c in al.columns if c.startswith(prefix)] if not al.empty else []
    if not cols or al[cols].isna().all().all():
        return pd.DataFrame()
    rows = []
    for (dataset, probe, annotator), g in al[~al["annotator"].isin(GROUND_TRUTH_ANNOTATORS)].groupby(["dataset", "probe_set", "annotator"]):
        for c in cols:  # (the oracle makes no wrong annotation: nothing to flag)
            per_run = g.groupby("run_id")[c].mean()
            s = summarise_seeds(per_run)
            if s["n"]:
                rows.append({"dataset": dataset, "probe_set": probe, "annotator": annotator, "flag": c[len(prefix):],
                             "mean": s["mean"], "std": s["std"], "n_runs": s["n"]})
    return pd.DataFrame(rows)


def flag_precision(collected: Collected) -> pd.DataFrame:
    """Ours: mean precision of each flag at catching wrong annotations, over iterations and seeds."""
    return _per_flag(collected, FIG6_STATISTICS["flag_precision"])


def accurate_detection(collected: Collected) -> pd.DataFrame:
    """The paper's Fig. 6 statistic per flag ("the proportion of correctly identified accurate
    annotations among all annotated instances"), mean over iterations and seeds."""
    return _per_flag(collected, FIG6_STATISTICS["accurate_detection"])


def config_label(row: pd.Series) -> str:
    return " ".join(f"{c}={row[c]}" for c in CONFIG_COLUMNS if c in row)
