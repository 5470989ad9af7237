"""Hub loaders, run on local `datasets` objects built with the hub's column names and class labels
(the hub itself is unreachable here): field and label mapping, the paper's splits, ids."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

datasets = pytest.importorskip("datasets")

from mollia.data import Dataset, load_dataset, registry  # noqa: E402
from mollia.data.hub import frame_from_hub, load_hub  # noqa: E402
from mollia.errors import DataError  # noqa: E402


def _hub_part(texts, labels, label_field="label", names=None, extra=None):
    features = {"text": datasets.Value("string"),
                label_field: datasets.ClassLabel(names=names) if names else datasets.Value("string")}
    data = {"text": texts, label_field: labels}
    for key, (values, feature) in (extra or {}).items():
        data[key], features[key] = values, feature
    return datasets.Dataset.from_dict(data, features=datasets.Features(features))


def _ag_news_like(n_train=200, n_test=40):
    rng = np.random.default_rng(0)
    names = ["World", "Sports", "Business", "Sci/Tech"]
    train = _hub_part([f"train news {i}" for i in range(n_train)], rng.integers(0, 4, n_train).tolist(), names=names)
    test = _hub_part([f"test news {i}" for i in range(n_test)], rng.integers(0, 4, n_test).tolist(), names=names)
    return datasets.DatasetDict({"train": train, "test": test})


def test_ag_news_mapping_and_carved_validation():
    spec = registry.get("ag_news")
    hub = _ag_news_like()
    with pytest.raises(DataError, match="has 200 rows, too few to carve the paper's 6000 validation items"):
        frame_from_hub(spec, {"train": hub["train"], "test": hub["test"]})
    frame = frame_from_hub(dataclasses.replace(spec, carve_validation=1), {"train": hub["train"], "test": hub["test"]})
    assert frame["id"].tolist() == list(range(240))
    # hub ClassLabel index -> the paper's label, by name (here the orders agree)
    assert frame["label"].tolist() == list(hub["train"]["label"]) + list(hub["test"]["label"])
    assert frame.loc[frame["hub_split"] == "test", "split"].eq("test").all()
    train_part = frame[frame["hub_split"] == "train"]
    # validation carved from hub train (Table 1: 6000 of 120000); 20 of 200 here
    small = dataclasses.replace(spec, carve_validation=20)
    carved = frame_from_hub(small, {"train": hub["train"], "test": hub["test"]})
    assert (carved["split"] == "validation").sum() == 20
    assert set(carved.loc[carved["hub_split"] == "train", "split"]) == {"train", "validation"}
    again = frame_from_hub(small, {"train": hub["train"], "test": hub["test"]})
    assert carved["split"].tolist() == again["split"].tolist()  # seeded
    assert len(train_part) == 200


def test_paper_table1_split_sizes_for_ag_news_shape():
    """On data of the hub's real size (120000 train / 7600 test) the split matches Table 1 exactly."""
    spec = registry.get("ag_news")
    rng = np.random.default_rng(1)
    train = pd.DataFrame({"text": ["x"] * 120_000, "label": rng.integers(0, 4, 120_000)})
    test = pd.DataFrame({"text": ["y"] * 7_600, "label": rng.integers(0, 4, 7_600)})
    frame = frame_from_hub(spec, {"train": train, "test": test})
    sizes = frame["split"].value_counts().to_dict()
    assert (sizes["train"], sizes["validation"], sizes["test"]) == spec.paper_sizes
    # the pool: the first 10000 of the seed-666 permutation of hub train; validation: its last 6000
    ds = Dataset.from_frame("ag_news", frame, spec.label_names)
    perm = np.random.default_rng(666).permutation(120_000)
    assert spec.sample_ids(ds).tolist() == perm[:10_000].tolist()
    assert sorted(ds.split("validation").ids.tolist()) == sorted(perm[-6_000:].tolist())
    pool = spec.pool(ds)
    assert pool.ids.tolist() == perm[:10_000].tolist() and set(pool.frame["split"]) == {"train"}


def test_imdb_pool_rule_reproduces_the_released_sample(paper_dir):
    """stanfordnlp/imdb's train split is 12500 negative reviews then 12500 positive ones; the paper's
    released imdb rows must then carry exactly the labels of train rows permutation(25000)[:10000]."""
    spec = registry.get("imdb")
    train = pd.DataFrame({"text": [f"review {i}" for i in range(25_000)], "label": [0] * 12_500 + [1] * 12_500})
    test = pd.DataFrame({"text": ["t"] * 10, "label": [0, 1] * 5})
    ds = Dataset.from_frame("imdb", frame_from_hub(spec, {"train": train, "test": test}), spec.label_names)
    released = np.load(paper_dir / "probes" / "imdb_meta_y.npy").argmax(axis=1)
    pool = spec.pool(ds)
    assert len(pool) == 10_000 and (pool.labels == released).all()
    assert ds.split_sizes() == {"train": 22_500, "validation": 2_500, "test": 10}


def test_label_mapping_follows_names_not_positions():
    """A hub whose ClassLabel order differs from ours still maps each class to the right label."""
    spec = dataclasses.replace(registry.get("imdb"), carve_validation=1)
    part = _hub_part(["good", "bad", "fine"], [0, 1, 0], names=["pos", "neg"])
    frame = frame_from_hub(spec, {"train": part, "test": part})
    # ours: negative=0, positive=1; hub: pos=0, neg=1
    assert frame["label"].tolist()[:3] == [1, 0, 1]


def test_trec_coarse_label_and_ids_in_hub_order():
    spec = registry.get("trec")
    codes = ["ABBR", "ENTY", "DESC", "HUM", "LOC", "NUM"]
    fine = datasets.ClassLabel(names=["manner", "cremat", "other"])
    train = _hub_part([f"q{i} ?" for i in range(600)], [i % 6 for i in range(600)], "coarse_label", codes,
                      extra={"fine_label": ([i % 3 for i in range(600)], fine)})
    test = _hub_part(["t ?"] * 59 + ["q7 ?"], [i % 6 for i in range(60)], "coarse_label", codes,
                     extra={"fine_label": ([0] * 60, fine)})
    frame = frame_from_hub(spec, {"train": train, "test": test})
    assert frame["id"].iloc[:600].tolist() == list(range(600))  # train_5500 file order = ids 0..
    assert frame["label"].iloc[:6].tolist() == [0, 1, 2, 3, 4, 5]
    # the test split stays intact; train question 7, also a test question, is excluded (as offline)
    assert (frame["split"] == "test").sum() == 60 and frame.loc[7, "split"] == "excluded"
    carved = np.random.default_rng(666).permutation(600)[-452:]
    assert (frame["split"] == "validation").sum() == 452 - (7 in carved)
    assert set(frame.index[frame["split"] == "validation"]) == set(carved.tolist()) - {7}


def test_pubmed_string_labels_and_own_validation_split():
    spec = registry.get("pubmed-20k-rct")
    names = ["BACKGROUND", "CONCLUSIONS", "METHODS", "OBJECTIVE", "RESULTS"]
    parts = {s: pd.DataFrame({"text": [f"{s} {i}" for i in range(5)], "labels": names}) for s in ("train", "validation", "test")}
    frame = frame_from_hub(spec, parts)
    assert frame["label"].tolist() == [0, 1, 2, 3, 4] * 3
    assert frame.groupby("split").size().to_dict() == {"test": 5, "train": 5, "validation": 5}
    parts["train"].loc[0, "labels"] = "DISCUSSION"
    with pytest.raises(DataError, match="hub label 'DISCUSSION'"):
        frame_from_hub(spec, parts)


def test_hub_errors_name_the_problem():
    spec = registry.get("ag_news")
    hub = _ag_news_like(20, 4)
    with pytest.raises(DataError, match=r"hub split\(s\) \['test'\] missing"):
        frame_from_hub(spec, {"train": hub["train"]})
    renamed = hub["train"].rename_column("text", "content")
    with pytest.raises(DataError, match=r"no column\(s\) \['text'\]; columns: \['content', 'label'\]"):
        frame_from_hub(spec, {"train": renamed, "test": hub["test"]})
    odd = _hub_part(["a", "b"], [0, 1], names=["World", "Weather"])
    with pytest.raises(DataError, match=r"hub class\(es\) \['Weather'\]"):
        frame_from_hub(spec, {"train": odd, "test": odd})
    with pytest.raises(DataError, match="outside 0..3"):
        frame_from_hub(spec, {"train": pd.DataFrame({"text": ["a"], "label": [7]}), "test": hub["test"]})


def test_load_dataset_hub_path_calls_datasets_load_dataset(monkeypatch):
    calls = []

    def fake_load_dataset(path, name=None, cache_dir=None, **kwargs):
        calls.append((path, name))
        return _ag_news_like(7000, 30)

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    ds = load_dataset("ag_news")  # auto: no offline build -> hub
    assert calls == [("fancyzhx/ag_news", None)]
    assert ds.source == "hub:fancyzhx/ag_news"
    assert ds.label_names == ("world", "sports", "business", "science/technology")
    assert ds.split_sizes() == {"train": 1000, "validation": 6000, "test": 30}
    # the pool: the first 10000 of the permutation of 7000 hub train rows, minus the 6000 validation ones
    assert len(registry.get("ag_news").pool(ds)) == 1000


def test_load_hub_wraps_download_failures(monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("no route to huggingface.co")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(DataError, match="could not load 'stanfordnlp/imdb'.*no route"):
        load_hub(registry.get("imdb"))
    with pytest.raises(DataError, match="no hub source"):
        load_hub(registry.get("bbc_news"))
