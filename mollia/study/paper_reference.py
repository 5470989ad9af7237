"""The paper's OWN reported numbers (Qi et al., AAAI 2026), for printing beside ours.

Everything here is copied from the paper's tables, labelled as the paper's reported values; none
of it is a result of this project. The figures of the paper are images; what they show is
summarised in words (`PAPER_FIGURE_CLAIMS`), never as invented numbers.
"""

from __future__ import annotations

from mollia.annotators.reference import PAPER_TABLE2, PAPER_TABLE3

PAPER = "Qi et al., 'Next Generation Active Learning: Mixture of LLMs in the Loop', AAAI 2026"
DATASETS = ("ag_news", "imdb", "trec", "pubmed-20k-rct")

# short single-LLM names (as the annotators stage accepts them) -> the keys of TABLE2
METHOD_ALIASES = {"llm:gemma": "llm:gemma-2-9b-it", "llm:llama": "llm:llama-3.1-8b-instruct",
                  "llm:mistral": "llm:mistral-7b-instruct-v0.3", "llm:qwen": "llm:qwen2.5-coder-7b-instruct",
                  "llm:yi": "llm:yi-1.5-9b-chat"}

# Table 2: annotation accuracy, one value per dataset of DATASETS. The numbers live once, in the
# annotators stage (`mollia.annotators.reference`); here they are keyed by full model names.
TABLE2 = {METHOD_ALIASES.get(m, m): tuple(v[d] for d in DATASETS) for m, v in PAPER_TABLE2.items()}
TABLE2_LABELS = {"llm:gemma-2-9b-it": "GEMMA", "llm:llama-3.1-8b-instruct": "LLAMA",
                 "llm:mistral-7b-instruct-v0.3": "MISTRAL", "llm:qwen2.5-coder-7b-instruct": "QWEN",
                 "llm:yi-1.5-9b-chat": "YI", "llms-v": "Vote-based", "llms-l": "Logits-based", "da": "DA",
                 "pag": "PAG", "snail": "SNAIL", "fixmatch": "FixMatch", "mol": "MoL", "molam": "MoLAM"}
# a single LLM as argmax of its votes c (``llm-vote:``) is the paper's single-LLM row too: its Table 2
# numbers match argmax c (Yi on TREC: .768), not argmax z (.62)
TABLE2_LABELS.update({"llm-vote:" + m[4:]: f"{label} (vote)" for m, label in list(TABLE2_LABELS.items())
                      if m.startswith("llm:")})
TABLE2_ORDER = [k for m in TABLE2 for k in ((m, "llm-vote:" + m[4:]) if m.startswith("llm:") else (m,))]

# Table 3: negative labels of MoLAM (delta = 0.001), as shares of the full label space.
TABLE3 = {
    "true_negative": tuple(PAPER_TABLE3["true_negative_rate"][d] for d in DATASETS),
    "false_negative": tuple(PAPER_TABLE3["false_negative_rate"][d] for d in DATASETS),
}

# Table 4: ablation configurations (MoLAM, negative learning, annotation discrepancy).
TABLE4 = {"A": (True, True, True), "B": (True, True, False), "C": (True, False, True), "D": (True, False, False)}

# Table 5: XGBoost hyperparameters of MoLAM.
TABLE5 = {
    "learning_rate": (0.07, 0.01, 0.05, 0.01),
    "max_depth": (5, 5, 6, 3),
    "n_estimators": (300, 300, 300, 500),
}

# "CUDA Memory Usage" table of the appendix (our Table 6): peak CUDA memory in MB, one A40 GPU.
TABLE6 = {
    "finetune:distilbert-base-uncased": (20489, 20780, 20348, 20114),
    "finetune:distilroberta-base": (20516, 20604, 19988, 20340),
}

# Implementation settings the paper states.
SETTINGS = {"initial": 50, "batch_size": 50, "epochs": 40, "patience": 10, "lr": 5e-5, "max_length": 128,
            "sigma": 0.9, "delta": 0.001, "alpha": 0.5, "lambda_start": 0.4, "lambda_end": 1.0, "seeds": 5}

# What each figure of the paper shows (the figures are images; no numbers are read off them).
PAPER_FIGURE_CLAIMS = {
    "fig04": "BEMPS on DistilBERT, micro-F1 vs labelled size, 5 seeds: MoLAM above single LLMs and "
             "LLMs-L/LLMs-V, close to the oracle (above it on IMDB).",
    "fig05": "NoiseStability on DistilBERT: same ordering as Fig. 4.",
    "fig06": "True-positive detection rate of annotation discrepancy vs entropy, margin and consistency "
             "flags: discrepancy is highest.",
    "fig07": "Ablation (Table 4 variants): A best; negative learning gives the largest gain.",
    "fig08": "CoreSet on DistilRoBERTa: same ordering as Fig. 4.",
    "fig09": "Random on DistilBERT: same ordering as Fig. 4.",
    "fig10": "Sensitivity to lambda (random, DistilBERT): increasing lambda over the iterations helps.",
    "fig11": "Sensitivity to alpha: alpha = 0.5 works best.",
    "fig12": "Two examples (IMDB, AG News) where MoLAM is right and both LLMs-L and LLMs-V are wrong.",
}
# Paper figure per (strategy, backbone) learning-curve panel.
CURVE_FIGURES = {("bemps", "distilbert"): "fig04", ("noise_stability", "distilbert"): "fig05",
                 ("coreset", "distilroberta"): "fig08", ("random", "distilbert"): "fig09"}



def canonical_method(method: str) -> str:
    return METHOD_ALIASES.get(method, method)


def _paper_key(method: str) -> str:
    """The key of TABLE2 holding the paper's number for ``method`` (``llm-vote:m`` -> ``llm:m``)."""
    method = canonical_method(method)
    if method.startswith("llm-vote:"):
        return canonical_method("llm:" + method[len("llm-vote:"):])
    return method


def paper_value(table: dict, key: str, dataset: str):
    """The paper's number for ``key`` on ``dataset``, or None where the paper has none."""
    key = _paper_key(key)
    if key not in table or dataset not in DATASETS:
        return None
    return table[key][DATASETS.index(dataset)]


def curve_figure_for(strategy: str, backbone: str) -> str | None:
    """Which paper figure (fig04/05/08/09) a learning-curve panel corresponds to, if any."""
    for (s, b), fig in CURVE_FIGURES.items():
        if s == strategy and b in backbone:
            return fig
    return None
