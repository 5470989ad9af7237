"""The paper's OWN reported numbers (Qi et al., AAAI 2026), for printing beside ours.

Everything here is copied from the paper's tables, labelled as the paper's reported values; none
of it is a result of this project. The figures of the paper are images; what they show is
summarised in words (`PAPER_FIGURE_CLAIMS`), never as invented numbers.
"""

from __future__ import annotations

PAPER = "Qi et al., 'Next Generation Active Learning: Mixture of LLMs in the Loop', AAAI 2026"
DATASETS = ("ag_news", "imdb", "trec", "pubmed-20k-rct")

# Table 2: annotation accuracy. Methods keyed by this project's annotator names.
TABLE2 = {
    "llm:gemma-2-9b-it": (0.8349, 0.9373, 0.5741, 0.7313),
    "llm:llama-3.1-8b-instruct": (0.7908, 0.9172, 0.4870, 0.6233),
    "llm:mistral-7b-instruct-v0.3": (0.8182, 0.8835, 0.6357, 0.6257),
    "llm:qwen2.5-coder-7b-instruct": (0.7763, 0.9403, 0.6566, 0.6217),
    "llm:yi-1.5-9b-chat": (0.7930, 0.9503, 0.7682, 0.6755),
    "llms-v": (0.8247, 0.9418, 0.7320, 0.6802),
    "llms-l": (0.8262, 0.9421, 0.7113, 0.6802),
    "da": (0.5487, 0.9206, 0.4186, 0.6864),
    "pag": (0.7771, 0.9322, 0.7152, 0.7444),
    "snail": (0.8342, 0.9489, 0.6903, 0.7199),
    "fixmatch": (0.8530, 0.9490, 0.7207, 0.7096),
    "mol": (0.8819, 0.9534, 0.7924, 0.7744),
    "molam": (0.8887, 0.9538, 0.8040, 0.7772),
}
TABLE2_LABELS = {"llm:gemma-2-9b-it": "GEMMA", "llm:llama-3.1-8b-instruct": "LLAMA",
                 "llm:mistral-7b-instruct-v0.3": "MISTRAL", "llm:qwen2.5-coder-7b-instruct": "QWEN",
                 "llm:yi-1.5-9b-chat": "YI", "llms-v": "Vote-based", "llms-l": "Logits-based", "da": "DA",
                 "pag": "PAG", "snail": "SNAIL", "fixmatch": "FixMatch", "mol": "MoL", "molam": "MoLAM"}

# Table 3: negative labels of MoLAM (delta = 0.001), as shares of the full label space.
TABLE3 = {
    "true_negative": (0.4833, 0.2142, 0.2511, 0.1844),
    "false_negative": (0.0030, 0.0002, 0.0001, 0.0022),
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


# short single-LLM names (as the annotators stage accepts them) -> the keys above
METHOD_ALIASES = {"llm:gemma": "llm:gemma-2-9b-it", "llm:llama": "llm:llama-3.1-8b-instruct",
                  "llm:mistral": "llm:mistral-7b-instruct-v0.3", "llm:qwen": "llm:qwen2.5-coder-7b-instruct",
                  "llm:yi": "llm:yi-1.5-9b-chat"}


def canonical_method(method: str) -> str:
    return METHOD_ALIASES.get(method, method)


def paper_value(table: dict, key: str, dataset: str):
    """The paper's number for ``key`` on ``dataset``, or None where the paper has none."""
    key = canonical_method(key)
    if key not in table or dataset not in DATASETS:
        return None
    return table[key][DATASETS.index(dataset)]


def curve_figure_for(strategy: str, backbone: str) -> str | None:
    """Which paper figure (fig04/05/08/09) a learning-curve panel corresponds to, if any."""
    for (s, b), fig in CURVE_FIGURES.items():
        if s == strategy and b in backbone:
            return fig
    return None
