"""The report on fixture results written in the agreed metrics.json schemas."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mollia.atomic import write_json
from mollia.study.collect import collect
from mollia.study.grid import params_hash
from mollia.study.report import build_report

AL_DEFAULTS = dict(dataset="trec", probes="/data/paper-probes", strategy="random", annotator="molam",
                   backbone="head:minilm-l6", iterations=3, seed=0, initial=50, batch_size=50, negative_learning=True,
                   discrepancy=True, alpha=0.5, lambda_start=0.4, lambda_end=1.0, epochs=40, pool_size=None)


def al_record(base_f1: float, **params) -> dict:
    p = dict(AL_DEFAULTS, **params)
    rows = []
    for it in range(p["iterations"] + 1):
        rows.append({"iteration": it, "n_labelled": 50 + 50 * it, "micro_f1": base_f1 + 0.05 * it + 0.01 * p["seed"],
                     "accuracy": base_f1, "macro_f1": base_f1 - 0.1, "added_label_accuracy": None if it == 0 else 0.8,
                     "n_negative": 3 * it, "negative_error_rate": None if it == 0 else 0.01,
                     "discrepancy_rate": None if it == 0 else 0.2, "discrepancy_precision": None if it == 0 else 0.6,
                     "flag_precision": None if it == 0 else {"discrepancy": 0.6, "entropy": 0.4, "margin": 0.45,
                                                             "consistency": 0.3},
                     # the paper's Fig. 6 statistic, chosen to rank the flags otherwise than ours
                     "accurate_detection": None if it == 0 else {"discrepancy": 0.50, "entropy": 0.45,
                                                                 "margin": 0.44, "consistency": 0.55},
                     "lambda": 0.4, "wall_s": 1.0, "peak_memory_mb": 500.0 + it, "memory_kind": "rss"})
    return {"schema": 1, "kind": "al", "done": True, "params": p, "rows": rows}


def write_al(root: Path, stem: str, base_f1: float, **params) -> dict:
    rec = al_record(base_f1, **params)
    write_json(root / stem / params_hash(rec["params"]) / "metrics.json", rec)
    write_json(root / stem / params_hash(rec["params"]) / "runner.json", {"wall_s": 10.0, "cpu_s": 8.0, "threads": 1})
    return rec


@pytest.fixture
def fixture_results(tmp_path) -> Path:
    root = tmp_path / "results"
    for seed in (0, 1):
        for strategy in ("random", "coreset"):
            for annotator, f1 in (("oracle", 0.7), ("molam", 0.65), ("llms-v", 0.6)):
                write_al(root, "03_active_learning", f1, strategy=strategy, annotator=annotator, seed=seed)
        for variant, (nl, ad), f1 in (("A", (True, True), 0.65), ("B", (True, False), 0.6), ("D", (False, False), 0.5)):
            write_al(root, "04_ablation", f1, negative_learning=nl, discrepancy=ad, seed=seed)
        write_al(root, "05_sensitivity", 0.55, lambda_start=0.0, lambda_end=0.0, seed=seed)
        write_al(root, "05_sensitivity", 0.58, alpha=1.0, seed=seed)
        write_json(root / "06_analysis" / f"s{seed}" / "metrics.json", {
            "schema": 1, "kind": "analysis", "dataset": "trec", "probe_set": "paper-llms", "annotator": "molam",
            "baselines": ["llms-l", "llms-v"], "seed": seed,
            "negative_labels": {"true_negative_rate": 0.25 + 0.01 * seed, "false_negative_rate": 0.001},
            "qualitative": [{"label_names": ["a", "b"], "text": "why is the sky blue?", "truth": "b",
                             "z": {"gemma": [0.6, 0.4]}, "c": {"gemma": [1.0, 0.0]},
                             "labels": {"llms-l": "a", "llms-v": "a", "molam": "b"}}]})
    write_json(root / "02_annotation_models" / "trec" / "metrics.json", {
        "schema": 1, "kind": "annotation", "dataset": "trec", "params": {"probes_dir": "/x/paper-probes"},
        "results": {"molam": {"mean": 0.79, "std": 0.01, "per_seed": [0.78, 0.79, 0.80]},
                    "llms-v": {"mean": 0.70, "std": 0.0, "per_seed": [0.70, 0.70, 0.70]},
                    "llm:yi": {"mean": 0.77, "std": 0.0, "per_seed": [0.77, 0.77, 0.77]},
                    "ours-stack": {"mean": 0.81, "std": 0.02, "per_seed": [0.8, 0.82, 0.81]}},
        "negative_labels": {"default_rule": "all", "rates": {"all": {"true_negative_rate": 0.2, "false_negative_rate": 0.0001},
                                                             "mean": {"true_negative_rate": 0.3, "false_negative_rate": 0.01}}},
        "hyperparameters": {"learning_rate": 0.05, "max_depth": 6, "n_estimators": 300}})
    # things the report must ignore: an unfinished cell, a foreign kind, a corrupt file
    write_al(root / "03_active_learning" / ".partial", "x", 0.1, seed=7)
    write_json(root / "01_llm_probing" / "c" / "metrics.json", {"schema": 1, "kind": "something-else"})
    (root / "junk").mkdir()
    (root / "junk" / "metrics.json").write_text("{not json")
    return root


def test_collect_dedups_skips_partial_and_groups_kinds(fixture_results):
    c = collect(fixture_results)
    # 12 main runs + ablation B, D (A duplicates a main run) x 2 seeds + 2 sensitivity x 2 seeds
    assert c.n_al_runs == 12 + 4 + 4
    assert 7 not in set(c.al["seed"])  # the .partial run is not read
    assert len(c.annotation) == 1 and len(c.analysis) == 2
    assert any("junk" in u for u in c.unreadable)
    assert set(c.al["variant"]) == {"A", "B", "D"}
    assert set(c.al["probe_set"]) == {"paper-llms"}


def test_report_writes_tables_and_figures_beside_paper(fixture_results, tmp_path):
    tables_dir, figs = tmp_path / "tables", tmp_path / "figs"
    out = build_report(fixture_results, tables_dir, figs)
    for name in ("headline", "table2", "table3", "table4", "table5", "table6", "fig06_accurate", "fig06_flags"):
        assert (tables_dir / f"{name}.md").exists() and (tables_dir / f"{name}.csv").exists(), name
    t2 = (tables_dir / "table2.md").read_text()
    assert "0.7900 ± 0.0100 (3)" in t2 and "0.8040" in t2  # ours beside the paper's MoLAM on TREC
    assert "ours-stack" in t2 and "| YI |" in t2 and "0.7682" in t2  # short LLM names meet the paper's rows
    assert "trec [paper-llms] ours" in t2
    t3 = pd.read_csv(tables_dir / "table3.csv")
    assert len(t3) == 3 and "0.2511" in (tables_dir / "table3.md").read_text()
    assert "Eq. 5, all items" in (tables_dir / "table3.md").read_text()
    head = pd.read_csv(tables_dir / "headline.csv")
    row = head[(head.strategy == "random") & (head.annotator == "oracle")].iloc[0]
    # last iteration micro-F1: 0.7 + 0.15 + 0.01 * seed over seeds 0, 1
    assert row["mean"] == pytest.approx(0.855) and row["std"] == pytest.approx(0.005) and row["n_seeds"] == 2
    t4 = pd.read_csv(tables_dir / "table4.csv")
    assert set(t4["variant"]) == {"A", "B", "D"}
    assert t4.set_index("variant").loc["A", "mean"] > t4.set_index("variant").loc["D", "mean"]
    t6 = (tables_dir / "table6.md").read_text()
    assert "rss" in t6 and "503" in t6
    assert "0.05 (paper 0.05)" in (tables_dir / "table5.md").read_text()
    pngs = sorted(p.name for p in figs.glob("*.png"))
    assert sum(n.startswith("fig04-09_curves") for n in pngs) == 2  # random and coreset panels
    for prefix in ("fig06_flags", "fig07_ablation", "fig10_lambda", "fig11_alpha", "fig12_examples"):
        assert any(n.startswith(prefix) for n in pngs), prefix
    assert len(list(figs.glob("*.pdf"))) == len(pngs)
    cost = pd.read_csv(tables_dir / "cost.csv").set_index("notebook")
    assert cost.loc["03_active_learning", "cells"] == 12 and cost.loc["03_active_learning", "cpu_s"] == 96.0
    claims = pd.read_csv(tables_dir / "claims.csv")
    assert claims.columns.tolist() == ["claim", "where", "evidence", "n", "difference", "95% interval", "verdict"]
    # two seeds per arm (three for Table 2, one Eq. 5 value, four MoLAM runs for Fig. 6): no verdict
    paper_claims = claims[~claims["claim"].str.startswith("Ours:")]  # the beyond-the-paper rows have their own rule
    assert paper_claims["verdict"].str.startswith("inconclusive (").all() and (paper_claims["n"] < 5).all()
    a_vs_d = claims[claims["claim"].str.startswith("Fig. 7: the full")].iloc[0]
    assert a_vs_d["difference"] == pytest.approx(0.15)  # A 0.80 vs D 0.65 on each seed
    t2_claim = claims[claims["claim"].str.startswith("Table 2")].iloc[0]
    assert "llm:yi" in t2_claim["evidence"] and t2_claim["difference"] == pytest.approx(0.02)  # .79 vs .77
    # Fig. 6: the paper's statistic under its name, ours beside it; the verdict follows the paper's
    accurate = pd.read_csv(tables_dir / "fig06_accurate.csv").query("annotator == 'molam'").set_index("flag")["mean"]
    assert accurate.to_dict() == pytest.approx({"discrepancy": 0.50, "entropy": 0.45, "margin": 0.44,
                                                "consistency": 0.55})
    ours = pd.read_csv(tables_dir / "fig06_flags.csv").query("annotator == 'molam'").set_index("flag")["mean"]
    assert ours["discrepancy"] == pytest.approx(0.6) and ours["entropy"] == pytest.approx(0.4)
    fig6 = claims[claims["claim"].str.startswith("Fig. 6")].iloc[0]
    assert "discrepancy 0.500 vs consistency 0.550" in fig6["evidence"]
    assert "flag precision: discrepancy 0.600 vs margin 0.450" in fig6["evidence"]
    # the paper's statistic decides: .50 - .55 on each of the 4 MoLAM runs (ours alone, .60 > .45, would
    # point the other way); 4 runs < 5: inconclusive
    assert fig6["difference"] == pytest.approx(-0.05) and fig6["verdict"].startswith("inconclusive")
    gap = claims[claims["claim"].str.contains("oracle")].iloc[0]
    assert gap["difference"] == pytest.approx(0.02 - 0.05) and "gap +0.050" in gap["evidence"]
    assert not out.missing
    assert "tables" in out.summary()


def test_report_on_empty_results_says_what_is_missing(tmp_path):
    out = build_report(tmp_path / "nothing", tmp_path / "t", tmp_path / "f")
    assert "table2" in out.missing and "fig07 ablation" in out.missing
    assert (tmp_path / "t" / "README.md").exists()


def test_report_cli(fixture_results, tmp_path, capsys):
    from mollia.cli import main

    assert main(["report", "--results", str(fixture_results), "--figures", str(tmp_path / "figs")]) == 0
    assert "AL runs" in capsys.readouterr().out
    assert (fixture_results / "tables" / "table2.md").exists()


def test_vote_single_llm_rows_carry_the_papers_single_llm_numbers():
    from mollia.study import paper

    # the paper's single-LLM Table 2 rows are argmax c (Yi on TREC .7682): llm-vote rows get them too
    assert paper.paper_value(paper.TABLE2, "llm-vote:yi-1.5-9b-chat", "trec") == 0.7682
    assert paper.paper_value(paper.TABLE2, "llm-vote:yi", "trec") == 0.7682
    assert paper.paper_value(paper.TABLE2, "llm:yi", "trec") == 0.7682
    assert paper.paper_value(paper.TABLE2, "llm-vote:smollm2-135m-instruct", "trec") is None
    assert paper.TABLE2_LABELS["llm-vote:yi-1.5-9b-chat"] == "YI (vote)"
    order = paper.TABLE2_ORDER
    assert order.index("llm-vote:yi-1.5-9b-chat") == order.index("llm:yi-1.5-9b-chat") + 1


def test_one_paper_lookup_resolves_names_one_way():
    from mollia.annotators.molam import hyperparameters_for
    from mollia.study import paper
    from mollia.study.annotation import table2_frame

    # full name, short name and vote form are one row; another model of the same family is not the paper's
    assert paper.paper_value(paper.TABLE2, "llm:gemma-2-9b-it", "imdb") == 0.9373
    assert paper.paper_value(paper.TABLE2, "llm:gemma", "imdb") == 0.9373
    assert paper.paper_value(paper.TABLE2, "llm:gemma-3-270m", "imdb") is None  # the old prefix match said .9373
    assert paper.paper_value(paper.TABLE2, "molam", "my-own-data") is None
    assert paper.paper_value(paper.TABLE3, "false_negative", "trec") == 0.0001
    assert paper.paper_value(paper.TABLE5, "max_depth", "trec") == hyperparameters_for("trec")["max_depth"] == 6
    # notebook 02's table uses the same lookup as the report
    frame = table2_frame({"llm:gemma-3-270m": {"mean": 0.5, "std": 0.0, "per_seed": [0.5]},
                          "llm-vote:yi": {"mean": 0.75, "std": 0.0, "per_seed": [0.75]}}, "trec")
    import math

    first, second = frame["paper"].tolist()
    assert (first is None or math.isnan(first)) and second == 0.7682


def test_claims_are_paired_over_five_seeds(tmp_path):
    """Five seeds: MoLAM's AL curve ends above llms-v on every seed by .04-.06 (holds); the oracle gap
    is .05 +- .01 (> .02: does not hold); Table 3 without any negative label is n/a; Table 2 judged on
    fewer than 100 evaluation items is n/a."""
    root = tmp_path / "results"
    for seed in range(5):
        for annotator, f1 in (("oracle", 0.70 + 0.002 * seed), ("molam", 0.65), ("llms-v", 0.60 - 0.005 * (seed % 3))):
            write_al(root, "03_active_learning", f1, annotator=annotator, seed=seed)
        write_json(root / "06_analysis" / f"s{seed}" / "metrics.json", {
            "schema": 1, "kind": "analysis", "dataset": "trec", "probe_set": "paper-llms", "annotator": "molam",
            "seed": seed, "negative_labels": {"true_negative_rate": 0.0, "false_negative_rate": 0.0}})
    write_json(root / "02_annotation_models" / "bbc" / "metrics.json", {
        "schema": 1, "kind": "annotation", "dataset": "bbc_news", "n_items": 10, "params": {"n_labelled": 5,
                                                                                           "probes_dir": "/x/live"},
        "results": {"molam": {"per_seed": [0.8, 0.6, 0.8, 1.0, 0.8], "seeds": [0, 1, 2, 3, 4]},
                    "llms-v": {"per_seed": [0.6, 0.6, 0.6, 0.6, 0.6], "seeds": [0, 1, 2, 3, 4]}}})
    build_report(root, tmp_path / "tables", tmp_path / "figs")
    claims = pd.read_csv(tmp_path / "tables" / "claims.csv").set_index("claim")
    above = claims.loc["Figs. 4/5/8/9: AL with MoLAM ends above LLMs-V, LLMs-L and single-LLM annotation"]
    # per-seed differences .05, .055, .06, .05, .055: all > 0
    assert above["n"] == 5 and above["difference"] == pytest.approx(0.054) and above["verdict"] == "holds"
    gap = claims.loc["Figs. 4/5/8/9: AL with MoLAM is comparable to the oracle (gap <= 0.02)"]
    # gaps .05 .. .058: margin .02 - gap < 0 on every seed
    assert gap["verdict"] == "does not hold" and gap["difference"] == pytest.approx(0.02 - 0.054)
    t3 = claims.loc[[c for c in claims.index if c.startswith("Table 3")]].iloc[0]
    assert t3["verdict"] == "n/a (no negative labels at all)"
    t2 = claims.loc[[c for c in claims.index if c.startswith("Table 2")]].iloc[0]
    assert t2["n"] == 5 and t2["verdict"] == "n/a (5 evaluation items < 100: an illustration)"
    assert "illustration" in (tmp_path / "tables" / "table2.md").read_text()


def test_cost_table_counts_the_validation_labels(tmp_path):
    root = tmp_path / "results"
    for seed in (0, 1):
        for annotator, stopping, n_val in (("molam", "validation", 439), ("molam", "annotated", 0),
                                           ("oracle", "validation", 439)):
            rec = al_record(0.6, annotator=annotator, seed=seed, early_stopping=stopping)
            for row in rec["rows"]:
                row.update(n_validation_labels=n_val, n_human=0)
            write_json(root / "03_active_learning" / params_hash(rec["params"]) / "metrics.json", rec)
            write_json(root / "03_active_learning" / params_hash(rec["params"]) / "runner.json",
                       {"wall_s": 10.0, "cpu_s": 8.0, "threads": 1})
    build_report(root, tmp_path / "tables", tmp_path / "figs")
    labels = pd.read_csv(tmp_path / "tables" / "labels.csv")
    by = labels.set_index(["annotator", "setting"])
    # 50 initial + 3 x 50 queried; the validation split's 439 true labels are human labels too
    molam = by.loc[("molam", "50+3x50 pool all")]
    assert (molam["runs"], molam["validation (human)"], molam["queried by the annotator"]) == (2, 439, 150)
    assert molam["human labels in all"] == 489
    annotated = by.loc[("molam", "50+3x50 pool all, stop on annotated")]
    assert annotated["human labels in all"] == 50  # no human label beyond the initial set
    oracle = by.loc[("oracle", "50+3x50 pool all")]
    assert oracle["queried by a human"] == 150 and oracle["human labels in all"] == 639
    cost_md = (tmp_path / "tables" / "cost.md").read_text()
    assert "cpu_s" in cost_md and "validation (human)" in cost_md and "stop on annotated" in cost_md
