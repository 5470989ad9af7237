"""Text tables of the annotation results beside the paper's reported numbers."""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from mollia.annotators.reference import paper_value


def table2_frame(results: Mapping[str, Mapping[str, Any]], dataset: str) -> pd.DataFrame:
    """One row per method: ours (mean, std, seeds) and the paper's reported value, with the difference."""
    rows = []
    for method, r in results.items():
        paper = paper_value(method, dataset)
        mean = r.get("mean")
        rows.append({"method": method, "mean": mean, "std": r.get("std"), "seeds": len(r.get("per_seed", [])),
                     "paper": paper, "ours - paper": None if mean is None or paper is None else mean - paper,
                     "note": r.get("skipped", "")})
    return pd.DataFrame(rows)


def format_table2(results: Mapping[str, Mapping[str, Any]], dataset: str) -> str:
    lines = [f"Table 2 ({dataset}): annotation accuracy on the items outside each seed's labelled set",
             f"{'method':<22}{'ours (mean ± std)':>20}{'paper':>9}{'diff':>9}  note"]
    for method, r in results.items():
        paper = paper_value(method, dataset)
        mean, std = r.get("mean"), r.get("std")
        ours = "—" if mean is None else f"{mean:.4f} ± {std:.4f}"
        paper_s = "" if paper is None else f"{paper:.4f}"
        diff = "" if mean is None or paper is None else f"{mean - paper:+.4f}"
        lines.append(f"{method:<22}{ours:>20}{paper_s:>9}{diff:>9}  {r.get('skipped', '')}")
    return "\n".join(lines)
