"""Which of the paper's claims our results support: a paired comparison over seeds per claim.

Each check pairs two arms run with the same seeds and reports the number of paired seeds ``n``,
the mean difference and its 95% t interval (`mollia.study.stats`); the verdict follows the
interval: "holds" / "does not hold" only when it lies wholly on one side, "inconclusive"
otherwise or with fewer than 5 seeds, "n/a" where the statistic is vacuous (no negative labels)
or rests on fewer than 100 evaluation items (an illustration). "not run" where the results
needed are absent. The verdicts are mechanical: read them with the numbers beside them.
"""

from __future__ import annotations

import pandas as pd

from mollia.study.collect import Collected
from mollia.study.stats import PairedDifference, mean_interval, paired_difference, verdict
from mollia.study.tables import DEFAULT_ROBUST, default_robust, final_rows, variant_runs

COLUMNS = ["claim", "where", "evidence", "n", "difference", "95% interval", "verdict"]
ORACLE_GAP = 0.02  # "comparable to the oracle": a gap of at most 2 points of micro-F1
FALSE_NEGATIVE_RARE = 0.005  # "false negative labels are rare": below 0.5% of the label space


def _is_llm_baseline(method) -> bool:
    """The ensembles and the single LLMs (argmax z or the vote rule, any spelling) MoLAM is compared with."""
    from mollia.annotators.spec import AnnotatorSpec
    from mollia.errors import UnknownNameError

    try:
        return AnnotatorSpec.parse(str(method), warn=False).reads_llms_only
    except UnknownNameError:
        return False


def _row(claim: str, where: str, evidence: str, diff: PairedDifference, threshold: float = 0.0,
         **verdict_kw) -> dict:
    return {"claim": claim, "where": where, "evidence": evidence, "n": diff.n,
            "difference": round(diff.mean, 4) if diff.n else None,
            "95% interval": "–" if diff.n < 2 or pd.isna(diff.low) else f"[{diff.low:+.4f}, {diff.high:+.4f}]",
            "verdict": verdict(diff, threshold, **verdict_kw)}


def _mean(per_seed: dict) -> float:
    return float(pd.Series(per_seed, dtype=float).mean()) if per_seed else float("nan")


def _best(arms: dict[str, dict]) -> str:
    """The arm with the highest mean over its seeds."""
    return max(arms, key=lambda k: _mean(arms[k]))


def _per_seed_final(runs: pd.DataFrame, by: str, metric: str = "micro_f1") -> dict[str, dict]:
    """{arm: {seed: final metric}} from the last iteration of each run."""
    last = final_rows(runs)
    return {arm: dict(zip(g["seed"].astype(int), g[metric].astype(float))) for arm, g in last.groupby(by)}


def _n_eval_al(runs: pd.DataFrame) -> int | None:
    """Test items of the runs (None where the records predate ``n_test``)."""
    if "n_test" not in runs or runs["n_test"].isna().all():
        return None
    return int(runs["n_test"].min())


def _table2_claims(collected: Collected) -> list[dict]:
    from mollia.study.tables import _annotation_probe_set, annotation_eval_items

    rows = []
    for rec in collected.annotation:
        results = rec.results
        arms = {m: dict(zip(r.get("seeds") or range(len(r.get("per_seed") or [])), r.get("per_seed") or []))
                for m, r in results.items() if r.get("per_seed")}
        if "molam" not in arms:
            continue
        others = {m: v for m, v in arms.items() if _is_llm_baseline(m)}
        if not others:
            continue
        best = _best(others)
        dataset, probe = rec.dataset, _annotation_probe_set(rec)
        n_eval = annotation_eval_items(rec)
        diff = paired_difference(arms["molam"], others[best])
        rows.append(_row("Table 2: MoLAM annotates more accurately than LLMs-V, LLMs-L and every single LLM",
                         f"{dataset} [{probe}]" if probe else dataset,
                         f"molam {_mean(arms['molam']):.3f} vs best other {best} {_mean(others[best]):.3f}"
                         + (f"; {n_eval} evaluation items" if n_eval is not None else ""),
                         diff, n_eval=n_eval))
    return rows


def _al_claims(collected: Collected) -> list[dict]:
    al = default_robust(collected.al)
    if al.empty:
        return []
    rows = []
    for key, g in al.groupby(["dataset", "probe_set", "backbone", "setting", "strategy"]):
        dataset, probe, backbone, setting, strategy = key
        arms = _per_seed_final(g, "annotator")
        if "molam" not in arms:
            continue
        where = f"{dataset} [{probe}] {strategy} {backbone} ({setting})"
        n_eval = _n_eval_al(g)
        m = arms["molam"]
        others = {a: v for a, v in arms.items() if _is_llm_baseline(a)}
        if others:
            best = _best(others)
            rows.append(_row("Figs. 4/5/8/9: AL with MoLAM ends above LLMs-V, LLMs-L and single-LLM annotation",
                             where, f"molam {_mean(m):.3f} vs best other {best} {_mean(others[best]):.3f}",
                             paired_difference(m, others[best]), n_eval=n_eval))
        if "oracle" in arms:
            # comparable: the gap oracle - molam is below ORACLE_GAP, i.e. ORACLE_GAP - gap > 0
            gap = paired_difference(arms["oracle"], m)
            margin = PairedDifference(gap.n, ORACLE_GAP - gap.mean, ORACLE_GAP - gap.high, ORACLE_GAP - gap.low)
            rows.append(_row(f"Figs. 4/5/8/9: AL with MoLAM is comparable to the oracle (gap <= {ORACLE_GAP})",
                             where, f"oracle {_mean(arms['oracle']):.3f}, molam {_mean(m):.3f}, gap "
                                    f"{gap.text()}; difference = {ORACLE_GAP} - gap", margin, n_eval=n_eval))
    return rows


def _ablation_claims(collected: Collected) -> list[dict]:
    runs = variant_runs(collected.al)
    rows = []
    if runs.empty:
        return rows
    for key, g in runs.groupby(["dataset", "probe_set", "backbone", "setting", "strategy"]):
        arms = _per_seed_final(g, "variant")
        where = " ".join(str(k) for k in key)
        n_eval = _n_eval_al(g)
        if {"A", "D"} <= set(arms):
            rows.append(_row("Fig. 7: the full method (A) beats the variant with neither component (D)", where,
                             f"A {_mean(arms['A']):.3f}, D {_mean(arms['D']):.3f}",
                             paired_difference(arms["A"], arms["D"]), n_eval=n_eval))
        if {"B", "C"} <= set(arms):  # (B - D) - (C - D) = B - C
            rows.append(_row("Fig. 7: negative learning (B - D) gives a larger gain than annotation discrepancy (C - D)",
                             where, f"B {_mean(arms['B']):.3f}, C {_mean(arms['C']):.3f}; difference = B - C",
                             paired_difference(arms["B"], arms["C"]), n_eval=n_eval))
    return rows


def _table3_claims(tidy: dict[str, pd.DataFrame]) -> list[dict]:
    t3 = tidy.get("table3", pd.DataFrame())
    rows = []
    if t3.empty:
        return rows
    for (dataset, probe, annotator), g in t3.groupby(["dataset", "probe_set", "annotator"]):
        fn = pd.to_numeric(g["false_negative"], errors="coerce")
        tn = pd.to_numeric(g["true_negative"], errors="coerce")
        diff = mean_interval((FALSE_NEGATIVE_RARE - fn).tolist())
        vacuous = "no negative labels at all" if (fn.fillna(0) == 0).all() and (tn.fillna(0) == 0).all() else None
        rows.append(_row(f"Table 3: false negative labels are rare (< {FALSE_NEGATIVE_RARE} of the label space)",
                         f"{dataset} [{probe}] {annotator}",
                         f"false {fn.mean():.4f}, true {tn.mean():.4f}; difference = {FALSE_NEGATIVE_RARE} - false",
                         diff, vacuous=vacuous))
    return rows


FIG6_FLAGS = ("discrepancy", "entropy", "margin", "consistency")


def _fig6_claims(collected: Collected) -> list[dict]:
    """Discrepancy vs the best other flag on the PAPER's Fig. 6 statistic (the accurate-detection rate:
    annotations not flagged and right among all annotated ones; ``accurate_<flag>`` columns), paired
    within each MoLAM run (mean over its iterations); our flag precision is quoted beside it."""
    al = default_robust(collected.al)
    cols = [f"accurate_{f}" for f in FIG6_FLAGS if f"accurate_{f}" in al.columns]
    if al.empty or "accurate_discrepancy" not in cols or len(cols) < 2:
        return []
    rows = []
    for (dataset, probe), g in al[al["annotator"] == "molam"].groupby(["dataset", "probe_set"]):
        per_run = g.groupby("run_id")[cols].mean().dropna(subset=["accurate_discrepancy"])
        others = [c for c in cols if c != "accurate_discrepancy" and per_run[c].notna().any()]
        if per_run.empty or not others:
            continue
        best = max(others, key=lambda c: per_run[c].mean())
        both = per_run[["accurate_discrepancy", best]].dropna()
        diff = mean_interval((both["accurate_discrepancy"] - both[best]).tolist())
        precision = g.groupby("run_id")[[c for c in g.columns if c.startswith("flag_")]].mean().mean().dropna()
        ours = ""
        if "flag_discrepancy" in precision.index and len(precision) > 1:
            rival = precision.drop("flag_discrepancy").idxmax()
            ours = (f"; ours, flag precision: discrepancy {precision['flag_discrepancy']:.3f} vs {rival[5:]} "
                    f"{precision[rival]:.3f}")
        rows.append(_row("Fig. 6: annotation discrepancy has the highest true-positive detection rate (correctly "
                         "identified accurate annotations among all annotated ones) of discrepancy, entropy, margin "
                         "and consistency", f"{dataset} [{probe}] molam runs",
                         f"accurate-detection rate: discrepancy {both['accurate_discrepancy'].mean():.3f} vs "
                         f"{best[9:]} {both[best].mean():.3f} (pairs = runs){ours}", diff))
    return rows


def check_claims(collected: Collected, tidy: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rows = (_table2_claims(collected) + _al_claims(collected) + _ablation_claims(collected)
            + _table3_claims(tidy) + _fig6_claims(collected))
    return pd.DataFrame(rows, columns=COLUMNS)


__all__ = ["check_claims", "COLUMNS", "DEFAULT_ROBUST"]
