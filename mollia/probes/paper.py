"""Import the paper's released probe arrays (github.com/qijindou/MoLLIA, output_exp/molam_train_data).

Layout: ``{dataset}_meta_x.npy`` float (n, 2N, K), rows alternating z_i, c_i per LLM in the order
of `PAPER_MODELS`; ``{dataset}_meta_y.npy`` one-hot ground truth (n, K).

The ground truth comes back *separately* from the `ProbeTable`, so that nothing downstream can
hand it to an annotator by accident.

TREC rows are TREC train_5500 permuted by ``numpy.random.default_rng(666).permutation(5452)``:
row j is question ``perm[j]`` of train_5500 in file order, which is the item id of the offline
``trec`` dataset. So TREC gets real text with the real five-LLM probes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mollia.errors import CacheError, DataError, UnknownNameError
from mollia.probes.table import ProbeTable

PAPER_MODELS = (
    "gemma-2-9b-it",
    "llama-3.1-8b-instruct",
    "mistral-7b-instruct-v0.3",
    "qwen2.5-coder-7b-instruct",
    "yi-1.5-9b-chat",
)
# short names the paper's tables use, in the same order
PAPER_MODEL_SHORT = dict(zip(PAPER_MODELS, ("gemma", "llama", "mistral", "qwen", "yi")))

RELEASED_DATASETS = {
    "ag_news": ("world", "sports", "business", "science/technology"),
    "imdb": ("negative", "positive"),
    "trec": ("abbreviation", "entity", "description", "human", "location", "numeric"),
    "pubmed-20k-rct": ("background", "conclusion", "method", "objective", "result"),
}
TREC_PERMUTATION_SEED = 666
TREC_TRAIN_SIZE = 5452
# file stems in the authors' repository (pubmed is stored under a shorter stem there)
_STEMS = {"ag_news": ("ag_news",), "imdb": ("imdb",), "trec": ("trec",), "pubmed-20k-rct": ("pubmed-20k-rct", "pubmed")}
_SUBFOLDERS = (".", "molam_train_data", "output_exp/molam_train_data")

RELEASED_METADATA = {"source": "paper-release", "repository": "github.com/qijindou/MoLLIA", "T": 10,
                     "temperature": 0.7, "top_p": 0.9, "z": "first-token probabilities merged onto labels"}


@dataclass(frozen=True)
class ReleasedProbes:
    """The released probes and, separately, their ground truth (indexed like ``table.item_ids``)."""

    table: ProbeTable
    ground_truth: np.ndarray


def trec_item_ids() -> np.ndarray:
    """Item id (train_5500 file-order index) of each released trec row."""
    return np.random.default_rng(TREC_PERMUTATION_SEED).permutation(TREC_TRAIN_SIZE)


def find_released_files(folder: str | Path, dataset: str) -> tuple[Path, Path]:
    """Locate ``{stem}_meta_x.npy`` / ``_meta_y.npy`` under ``folder`` (a probes-like folder, the
    authors' ``output_exp`` or its ``molam_train_data``)."""
    if dataset not in RELEASED_DATASETS:
        raise UnknownNameError("released dataset", dataset, RELEASED_DATASETS)
    folder = Path(folder)
    for sub in _SUBFOLDERS:
        for stem in _STEMS[dataset]:
            x, y = folder / sub / f"{stem}_meta_x.npy", folder / sub / f"{stem}_meta_y.npy"
            if x.exists() and y.exists():
                return x, y
    raise DataError(f"no released probes for {dataset!r} under {folder} (looked for {dataset}_meta_x.npy and _meta_y.npy)")


def load_released(folder: str | Path, dataset: str) -> ReleasedProbes:
    """Load the released arrays of ``dataset`` from ``folder`` into a `ProbeTable` + ground truth."""
    x_path, y_path = find_released_files(folder, dataset)
    try:
        x = np.load(x_path, allow_pickle=False)
        y = np.load(y_path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise CacheError(f"corrupt released probes {x_path}: {exc}") from exc
    labels = RELEASED_DATASETS[dataset]
    n_models, K = len(PAPER_MODELS), len(labels)
    if x.ndim != 3 or x.shape[1:] != (2 * n_models, K):
        raise DataError(f"{x_path}: shape {x.shape}, expected (n, {2 * n_models}, {K})")
    if y.shape != (x.shape[0], K):
        raise DataError(f"{y_path}: shape {y.shape}, expected ({x.shape[0]}, {K})")
    if not ((y.sum(axis=1) == 1) & ((y == 0) | (y == 1)).all(axis=1)).all():
        raise DataError(f"{y_path}: ground truth is not one-hot")
    if dataset == "trec":
        if len(x) != TREC_TRAIN_SIZE:
            raise DataError(f"{x_path}: {len(x)} rows, the trec release has {TREC_TRAIN_SIZE}")
        item_ids = trec_item_ids()
    else:
        item_ids = np.arange(len(x))
    x = x.astype(np.float64)
    table = ProbeTable(
        dataset=dataset,
        label_names=labels,
        models=PAPER_MODELS,
        item_ids=item_ids.astype(np.int64),
        z=np.ascontiguousarray(x[:, 0::2, :]),
        c=np.ascontiguousarray(x[:, 1::2, :]),
        per_model={m: dict(RELEASED_METADATA, path=str(x_path)) for m in PAPER_MODELS},
    )
    return ReleasedProbes(table=table, ground_truth=y.argmax(axis=1).astype(np.int64))
