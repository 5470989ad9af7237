"""Registry specs, the split rule, load_dataset's source handling, list_datasets, import hygiene."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from mollia.data import list_datasets, load_dataset, registry
from mollia.data.splits import fraction_split, stratified_split
from mollia.errors import DataError, MolliaError, UnknownNameError

PAPER_LABELS = {
    "trec": ("abbreviation", "entity", "description", "human", "location", "numeric"),
    "ag_news": ("world", "sports", "business", "science/technology"),
    "imdb": ("negative", "positive"),
    "pubmed-20k-rct": ("background", "conclusion", "method", "objective", "result"),
    "rotten_tomatoes": ("negative", "positive"),
    "bbc_news": ("business", "entertainment", "politics", "sport", "tech"),
}


def test_registry_names_and_label_orders():
    assert sorted(registry.names()) == sorted(PAPER_LABELS)
    for name, labels in PAPER_LABELS.items():
        assert registry.get(name).label_names == labels


def test_registry_hub_sources_and_paper_splits():
    expect = {
        "ag_news": ("fancyzhx/ag_news", "label", 6_000, (114_000, 6_000, 7_600)),
        "imdb": ("stanfordnlp/imdb", "label", 2_500, (22_500, 2_500, 25_000)),
        "trec": ("CogComp/trec", "coarse_label", 452, (5_000, 452, 500)),
        "pubmed-20k-rct": ("pietrolesci/pubmed-20k-rct", "labels", None, (176_642, 29_672, 29_578)),
    }
    for name, (hub_id, label_field, carve, sizes) in expect.items():
        spec = registry.get(name)
        assert (spec.hub_id, spec.label_field, spec.carve_validation, spec.paper_sizes) == (hub_id, label_field, carve, sizes)
        # every hub class maps onto one of our labels, and all of ours are covered
        assert sorted(spec.hub_label_map.values()) == sorted(spec.label_names)
    assert registry.get("trec").pool_size is None
    assert all(registry.get(n).pool_size == 10_000 for n in ("ag_news", "imdb", "pubmed-20k-rct"))
    assert registry.get("bbc_news").stand_in_for == "ag_news"
    assert registry.get("rotten_tomatoes").stand_in_for == "imdb"
    assert registry.get("trec").sources == ("offline", "hub")
    assert registry.get("imdb").sources == ("hub",)


def test_unknown_dataset_name():
    with pytest.raises(UnknownNameError, match="unknown dataset 'agnews'; known: ag_news"):
        registry.get("agnews")
    with pytest.raises(UnknownNameError):
        load_dataset("no-such-set")


def test_load_dataset_source_errors():
    with pytest.raises(DataError, match="unknown source 'web'"):
        load_dataset("trec", source="web")
    with pytest.raises(DataError, match="'imdb' has no offline source"):
        load_dataset("imdb", source="offline")
    with pytest.raises(DataError, match="'bbc_news' has no hub source"):
        load_dataset("bbc_news", source="hub")


def test_list_datasets_table():
    table = list_datasets()
    assert table["name"].tolist() == registry.names()
    row = table.set_index("name").loc["trec"]
    assert (row["n_train"], row["n_validation"], row["n_test"]) == (4993, 439, 500)
    assert row["sources"] == "offline+hub" and row["sizes_from"] == "offline" and row["n_pool"] == 4993
    assert row["label_names"] == ", ".join(PAPER_LABELS["trec"])
    imdb = table.set_index("name").loc["imdb"]
    assert (imdb["n_train"], imdb["n_validation"], imdb["n_test"], imdb["sizes_from"]) == (22500, 2500, 25000, "paper")
    assert imdb["n_pool"] == 10_000
    assert table.set_index("name").loc["rotten_tomatoes", "stand_in_for"] == "imdb"


def test_stratified_split_sizes_quotas_and_seed():
    labels = np.array([0] * 50 + [1] * 30 + [2] * 20)
    split = stratified_split(labels, n_test=20, n_validation=10, seed=3)
    assert (split == "test").sum() == 20 and (split == "validation").sum() == 10
    # proportional per class: test 10/6/4, validation 5/3/2
    assert [int(((split == "test") & (labels == c)).sum()) for c in range(3)] == [10, 6, 4]
    assert [int(((split == "validation") & (labels == c)).sum()) for c in range(3)] == [5, 3, 2]
    assert (split == stratified_split(labels, 20, 10, seed=3)).all()
    assert not (split == stratified_split(labels, 20, 10, seed=4)).all()
    with pytest.raises(DataError, match="cannot split 100 items"):
        stratified_split(labels, 80, 30, seed=0)


def test_stratified_split_largest_remainder_is_exact_with_tiny_classes():
    labels = np.array([0] * 7 + [1] * 2 + [2])
    split = stratified_split(labels, n_test=3, n_validation=2, seed=0)
    assert (split == "test").sum() == 3 and (split == "validation").sum() == 2


def test_split_keeps_groups_together():
    labels = np.array([0, 0, 1, 1, 0, 1, 0, 1, 0, 1] * 5)
    groups = np.array([f"g{i // 2}" for i in range(50)])  # pairs share a group
    split = fraction_split(labels, seed=1, groups=groups)
    for g in np.unique(groups):
        assert len(set(split[groups == g])) == 1
    assert (split == "test").sum() == 2 * int(25 * 0.2)


def test_default_fraction_split_is_70_10_20():
    split = fraction_split(np.arange(1000) % 4, seed=0)
    assert ((split == "train").sum(), (split == "validation").sum(), (split == "test").sum()) == (700, 100, 200)


def test_errors_are_mollia_errors():
    assert issubclass(DataError, MolliaError) and issubclass(UnknownNameError, MolliaError)


def test_data_stage_imports_nothing_else_of_mollia():
    code = (
        "import sys, mollia.data, mollia.data.hub, mollia.data.builders;"
        "from mollia.data import load_dataset, list_datasets; load_dataset('trec'); list_datasets();"
        "print('\\n'.join(sorted(m for m in sys.modules if m == 'mollia' or m.startswith('mollia.'))));"
        "print('HEAVY', *sorted(m for m in ('datasets', 'torch', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    heavy = out[out.index("HEAVY") + 1:]
    out = out[: out.index("HEAVY")]
    assert heavy == []  # the hub's `datasets` (and torch) load only when the hub is used
    allowed = {"mollia", "mollia.errors", "mollia.paths", "mollia.atomic", "mollia.digest"}
    offenders = [m for m in out if m not in allowed and not m.startswith("mollia.data")]
    assert "mollia.data.registry" in out and offenders == []
