"""Every number the paper (Qi et al., AAAI 2026) reports, in one place, with one lookup.

Nothing here is a result of this project: these are the paper's printed values, shown beside our
measurements. The paper's trained methods were selected against the pool's ground truth (see the
README), so they are optimistic. The figures of the paper are images; what they show is summarised
in words (`PAPER_FIGURE_CLAIMS`), never as invented numbers.

One lookup: ``paper_value(TABLE, key, dataset)``. Keys are annotator names, parsed by
`mollia.annotators.spec.AnnotatorSpec`: a single LLM by its full model name (``llm-l:yi-1.5-9b-chat``),
the short names of the paper's five LLMs (``llm-l:yi``), the vote form (``llm-v:...``, the paper's
single-LLM rows are argmax of the votes c) and the deprecated spellings (``llm:``, ``llm-vote:``)
resolve to the same row. Any other model (``llm-l:gemma-3-270m``) has no paper value.

Table 5 (MoLAM's XGBoost hyperparameters) is also MoLAM's default configuration, so its numbers
live with the estimator (`mollia.annotators.molam.PAPER_HYPERPARAMETERS`) and are read from there.
"""

from __future__ import annotations

from mollia.annotators.molam import PAPER_HYPERPARAMETERS
from mollia.annotators.spec import AnnotatorSpec
from mollia.errors import UnknownNameError

PAPER = "Qi et al., 'Next Generation Active Learning: Mixture of LLMs in the Loop', AAAI 2026"
DATASETS = ("ag_news", "imdb", "trec", "pubmed-20k-rct")

# short names of the paper's five LLMs -> the full model names TABLE2 is keyed by
MODEL_ALIASES = {"gemma": "gemma-2-9b-it", "llama": "llama-3.1-8b-instruct", "mistral": "mistral-7b-instruct-v0.3",
                 "qwen": "qwen2.5-coder-7b-instruct", "yi": "yi-1.5-9b-chat"}
METHOD_ALIASES = {f"llm:{short}": f"llm:{full}" for short, full in MODEL_ALIASES.items()}

# Table 2: annotation accuracy, as printed (short single-LLM names; TABLE2 below is keyed by full names).
_PAPER_TABLE2: dict[str, dict[str, float]] = {
    "llm:gemma": {"ag_news": 0.8349, "imdb": 0.9373, "trec": 0.5741, "pubmed-20k-rct": 0.7313},
    "llm:llama": {"ag_news": 0.7908, "imdb": 0.9172, "trec": 0.4870, "pubmed-20k-rct": 0.6233},
    "llm:mistral": {"ag_news": 0.8182, "imdb": 0.8835, "trec": 0.6357, "pubmed-20k-rct": 0.6257},
    "llm:qwen": {"ag_news": 0.7763, "imdb": 0.9403, "trec": 0.6566, "pubmed-20k-rct": 0.6217},
    "llm:yi": {"ag_news": 0.7930, "imdb": 0.9503, "trec": 0.7682, "pubmed-20k-rct": 0.6755},
    "llms-v": {"ag_news": 0.8247, "imdb": 0.9418, "trec": 0.7320, "pubmed-20k-rct": 0.6802},
    "llms-l": {"ag_news": 0.8262, "imdb": 0.9421, "trec": 0.7113, "pubmed-20k-rct": 0.6802},
    "da": {"ag_news": 0.5487, "imdb": 0.9206, "trec": 0.4186, "pubmed-20k-rct": 0.6864},
    "pag": {"ag_news": 0.7771, "imdb": 0.9322, "trec": 0.7152, "pubmed-20k-rct": 0.7444},
    "snail": {"ag_news": 0.8342, "imdb": 0.9489, "trec": 0.6903, "pubmed-20k-rct": 0.7199},
    "fixmatch": {"ag_news": 0.8530, "imdb": 0.9490, "trec": 0.7207, "pubmed-20k-rct": 0.7096},
    "mol": {"ag_news": 0.8819, "imdb": 0.9534, "trec": 0.7924, "pubmed-20k-rct": 0.7744},
    "molam": {"ag_news": 0.8887, "imdb": 0.9538, "trec": 0.8040, "pubmed-20k-rct": 0.7772},
}


# Table 3: MoLAM's negative labels (delta = 0.001) as shares of the full label space.
_PAPER_TABLE3: dict[str, dict[str, float]] = {
    "true_negative_rate": {"ag_news": 0.4833, "imdb": 0.2142, "trec": 0.2511, "pubmed-20k-rct": 0.1844},
    "false_negative_rate": {"ag_news": 0.0030, "imdb": 0.0002, "trec": 0.0001, "pubmed-20k-rct": 0.0022},
}


# Table 2, one value per dataset of DATASETS, keyed by full model names
TABLE2 = {METHOD_ALIASES.get(m, m): tuple(v[d] for d in DATASETS) for m, v in _PAPER_TABLE2.items()}
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
    "true_negative": tuple(_PAPER_TABLE3["true_negative_rate"][d] for d in DATASETS),
    "false_negative": tuple(_PAPER_TABLE3["false_negative_rate"][d] for d in DATASETS),
}

# Table 4: the ablation variants, MoLAM always annotating: (negative learning, annotation discrepancy).
TABLE4 = {"A": (True, True), "B": (True, False), "C": (False, True), "D": (False, False)}

# Table 5: XGBoost hyperparameters of MoLAM, one value per dataset of DATASETS (numbers: see the module doc).
TABLE5 = {name: tuple(PAPER_HYPERPARAMETERS[d][name] for d in DATASETS)
          for name in ("learning_rate", "max_depth", "n_estimators")}

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
    "fig06": "True-positive detection rate (the proportion of correctly identified accurate annotations "
             "among all annotated instances) of annotation discrepancy vs entropy, margin and consistency: "
             "discrepancy is highest.",
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
    """``method`` with a short model name of the paper's five LLMs replaced by the full one
    (``llm:yi`` -> ``llm:yi-1.5-9b-chat``, ``llm-l:yi`` likewise), in the spelling it was written in."""
    spec = _spec(method)
    if spec is None or spec.kind != "single" or spec.rule != "logits":
        return method
    return spec.with_models((MODEL_ALIASES.get(spec.models[0], spec.models[0]),)).name


def _paper_key(method: str) -> str:
    """The key of TABLE2 holding the paper's number for ``method``: a single LLM, either rule, either
    spelling, short or full model name -> ``llm:<full model>`` (the paper's single-LLM rows)."""
    spec = _spec(method)
    if spec is None or spec.kind != "single":
        return method
    return "llm:" + MODEL_ALIASES.get(spec.models[0], spec.models[0])


def table2_label(method: str) -> str:
    """The paper's row name for ``method`` (``YI``, ``YI (vote)``, ``MoLAM``), else ``method``."""
    spec = _spec(method)
    return TABLE2_LABELS.get(_legacy_name(spec) if spec is not None else method, method)


def table2_position(method: str) -> int:
    """Where ``method`` sits in the paper's Table 2 order (after every paper row when not in it)."""
    spec = _spec(method)
    key = _legacy_name(spec) if spec is not None else method
    return TABLE2_ORDER.index(key) if key in TABLE2_ORDER else len(TABLE2_ORDER)


def _legacy_name(spec) -> str:
    # TABLE2_LABELS / TABLE2_ORDER are keyed in the spelling of the paper-era results (``llm:``, ``llm-vote:``)
    if spec.kind != "single":
        return spec.name
    return ("llm:" if spec.rule == "logits" else "llm-vote:") + spec.models[0]


def _spec(method: str):
    """The parsed name, or None for a name the annotators do not know (e.g. the AL oracle). Names
    read back from records: a deprecated spelling is not warned about here."""
    try:
        return AnnotatorSpec.parse(str(method), warn=False)
    except UnknownNameError:
        return None


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
