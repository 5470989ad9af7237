"""Which of the paper's claims our results support, computed from the report's tidy tables.

Each check compares means over seeds and says whether the difference exceeds the spread (the
larger of the two standard deviations); "not run" where the results needed are absent. The
verdicts are mechanical: read them with the numbers beside them.
"""

from __future__ import annotations

import pandas as pd

from mollia.study.collect import Collected


def _verdict(diff: float, spread: float, n: int | None = None) -> str:
    if pd.isna(diff):
        return "not run"
    if n is not None and n < 2:
        return ("holds" if diff > 0 else "does not hold") + " (one seed: no spread to compare with)"
    if diff > spread:
        return "holds"
    if diff > 0:
        return "holds (within seed spread)"
    if diff > -spread:
        return "does not hold (within seed spread)"
    return "does not hold"


def _fmt(mean: float, std: float) -> str:
    return f"{mean:.3f}±{std:.3f}"


def _is_llm_baseline(method) -> bool:
    """The ensembles and the single LLMs (``llm:`` argmax z, ``llm-vote:`` argmax c) MoLAM is compared with."""
    return method in ("llms-v", "llms-l") or str(method).startswith(("llm:", "llm-vote:"))


def _flag_precision_note(flags: pd.DataFrame, dataset: str, probe: str) -> str:
    """Our statistic beside the paper's: the precision of the discrepancy flag and of the best other."""
    mean = flags[(flags["dataset"] == dataset) & (flags["probe_set"] == probe)].groupby("flag")["mean"].mean().dropna()
    if "discrepancy" not in mean.index or len(mean) < 2:
        return ""
    best = mean.drop("discrepancy").idxmax()
    return f" (ours, flag precision: discrepancy {mean['discrepancy']:.3f} vs {best} {mean[best]:.3f})"


def check_claims(collected: Collected, tidy: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rows: list[dict] = []

    # Table 2: MoLAM annotates better than both ensembles and every single LLM
    t2 = tidy.get("table2", pd.DataFrame())
    if not t2.empty:
        for (dataset, probe), g in t2.groupby(["dataset", "probe_set"]):
            g = g.set_index("method")
            if "molam" not in g.index:
                continue
            m = g.loc["molam"]
            others = g.loc[[i for i in g.index if _is_llm_baseline(i)]]
            if others.empty:
                continue
            best = others["mean"].astype(float).idxmax()
            diff = float(m["mean"]) - float(others.loc[best, "mean"])
            rows.append({"claim": "Table 2: MoLAM annotates more accurately than LLMs-V, LLMs-L and every single LLM",
                         "where": f"{dataset} [{probe}]" if probe else dataset,
                         "evidence": f"molam {_fmt(m['mean'], m['std'])} vs best other {best} "
                                     f"{_fmt(others.loc[best, 'mean'], others.loc[best, 'std'])}",
                         "verdict": _verdict(diff, max(float(m["std"]), float(others.loc[best, "std"])),
                                             min(int(m["n_seeds"]), int(others.loc[best, "n_seeds"])))})

    # Figs. 4, 5, 8, 9: AL with MoLAM beats the ensembles and single LLMs, close to the oracle
    head = tidy.get("headline", pd.DataFrame())
    if not head.empty:
        for (dataset, probe, backbone, setting, strategy), g in head.groupby(["dataset", "probe_set", "backbone", "setting",
                                                                              "strategy"]):
            g = g.set_index("annotator")
            if "molam" not in g.index:
                continue
            m = g.loc["molam"]
            others = g.loc[[i for i in g.index if _is_llm_baseline(i)]]
            where = f"{dataset} [{probe}] {strategy} {backbone} ({setting})"
            if not others.empty:
                best = others["mean"].astype(float).idxmax()
                rows.append({"claim": "Figs. 4/5/8/9: AL with MoLAM ends above LLMs-V, LLMs-L and single-LLM annotation",
                             "where": where,
                             "evidence": f"molam {_fmt(m['mean'], m['std'])} vs best other {best} "
                                         f"{_fmt(others.loc[best, 'mean'], others.loc[best, 'std'])}",
                             "verdict": _verdict(float(m["mean"]) - float(others.loc[best, "mean"]),
                                                 max(float(m["std"]), float(others.loc[best, "std"])),
                                                 min(int(m["n_seeds"]), int(others.loc[best, "n_seeds"])))})
            if "oracle" in g.index:
                o = g.loc["oracle"]
                gap = float(o["mean"]) - float(m["mean"])
                rows.append({"claim": "Figs. 4/5/8/9: AL with MoLAM is comparable to the oracle (gap <= 0.02)",
                             "where": where, "evidence": f"oracle {_fmt(o['mean'], o['std'])}, molam "
                                                         f"{_fmt(m['mean'], m['std'])}, gap {gap:+.3f}",
                             "verdict": _verdict(0.02 - gap, 0.0)})

    # Table 4 / Fig. 7: A best; negative learning the largest gain
    t4 = tidy.get("table4", pd.DataFrame())
    if not t4.empty:
        for key, g in t4.groupby(["dataset", "probe_set", "backbone", "setting", "strategy"]):
            g = g.set_index("variant")
            where = " ".join(str(k) for k in key)
            if {"A", "D"} <= set(g.index):
                rows.append({"claim": "Fig. 7: the full method (A) beats the variant with neither component (D)", "where": where,
                             "evidence": f"A {_fmt(g.loc['A', 'mean'], g.loc['A', 'std'])}, D {_fmt(g.loc['D', 'mean'], g.loc['D', 'std'])}",
                             "verdict": _verdict(float(g.loc["A", "mean"] - g.loc["D", "mean"]),
                                                 max(float(g.loc["A", "std"]), float(g.loc["D", "std"])),
                                                 min(int(g.loc["A", "n_seeds"]), int(g.loc["D", "n_seeds"])))})
            if {"B", "C", "D"} <= set(g.index):
                gain_nl = float(g.loc["B", "mean"] - g.loc["D", "mean"])
                gain_ad = float(g.loc["C", "mean"] - g.loc["D", "mean"])
                rows.append({"claim": "Fig. 7: negative learning gives a larger gain than annotation discrepancy",
                             "where": where, "evidence": f"B-D {gain_nl:+.3f}, C-D {gain_ad:+.3f}",
                             "verdict": _verdict(gain_nl - gain_ad, 0.0)})

    # Table 3: false negative labels are rare
    t3 = tidy.get("table3", pd.DataFrame())
    if not t3.empty:
        for (dataset, probe), g in t3.groupby(["dataset", "probe_set"]):
            fn = float(g["false_negative"].mean())
            rows.append({"claim": "Table 3: false negative labels are rare (< 0.005 of the label space)",
                         "where": f"{dataset} [{probe}]", "evidence": f"false {fn:.4f}, true {g['true_negative'].mean():.4f}",
                         "verdict": _verdict(0.005 - fn, 0.0)})

    # Fig. 6: discrepancy has the highest true-positive detection rate. The verdict uses the paper's
    # statistic (fig06_accurate); our flag precision (fig06_flags) is quoted beside it.
    accurate = tidy.get("fig06_accurate", pd.DataFrame())
    flags = tidy.get("fig06_flags", pd.DataFrame())
    if not accurate.empty:
        for (dataset, probe), g in accurate.groupby(["dataset", "probe_set"]):
            mean = g.groupby("flag")["mean"].mean().dropna()
            if "discrepancy" not in mean.index or len(mean) < 2:
                continue
            best_other = mean.drop("discrepancy").idxmax()
            ours = "" if flags.empty else _flag_precision_note(flags, dataset, probe)
            rows.append({"claim": "Fig. 6: annotation discrepancy has the highest true-positive detection rate "
                                  "(correctly identified accurate annotations among all annotated ones) of "
                                  "discrepancy, entropy, margin and consistency", "where": f"{dataset} [{probe}]",
                         "evidence": f"accurate-detection rate: discrepancy {mean['discrepancy']:.3f} vs {best_other} "
                                     f"{mean[best_other]:.3f}{ours}",
                         "verdict": _verdict(float(mean["discrepancy"] - mean[best_other]), 0.0)})
    return pd.DataFrame(rows, columns=["claim", "where", "evidence", "verdict"])
