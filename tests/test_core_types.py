"""The lead's shared types: Dataset, ProbeTable, Annotation/LabelledSet, atomic writes, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mollia.annotators.types import Annotation, LabelledSet
from mollia.atomic import atomic_path, write_json
from mollia.data.dataset import Dataset
from mollia.errors import CacheError, DataError, UnknownNameError
from mollia.probes.table import ProbeTable, generations_path


def _frame(n=6):
    return pd.DataFrame({"id": np.arange(n), "text": [f"text {i}" for i in range(n)],
                         "label": [i % 2 for i in range(n)], "split": ["train"] * (n - 2) + ["test", "validation"]})


def test_dataset_validates_and_views():
    ds = Dataset.from_frame("toy", _frame(), ["neg", "pos"])
    assert len(ds) == 6 and ds.n_labels == 2
    assert ds.split_sizes() == {"train": 4, "validation": 1, "test": 1}
    assert ds.subset([3, 1]).ids.tolist() == [3, 1]
    a, b = ds.sample(3, seed=1), ds.sample(3, seed=1)
    assert a.ids.tolist() == b.ids.tolist() and set(a.frame["split"]) == {"train"}


@pytest.mark.parametrize("mutate, message", [
    (lambda f: f.drop(columns="text"), "missing column"),
    (lambda f: f.assign(text=["", *f["text"][1:]]), "empty or non-string text"),
    (lambda f: f.assign(text=[3, *f["text"][1:]]), "empty or non-string text"),
    (lambda f: f.assign(label=[2, *f["label"][1:]]), "outside"),
    (lambda f: f.assign(id=[1, *f["id"][1:]]), "duplicate id"),
    (lambda f: f.assign(split=["dev", *f["split"][1:]]), "unknown split"),
])
def test_dataset_rejects_bad_input(mutate, message):
    with pytest.raises(DataError, match=message):
        Dataset.from_frame("toy", mutate(_frame()), ["neg", "pos"])


def test_dataset_sample_too_many_and_unknown_ids():
    ds = Dataset.from_frame("toy", _frame(), ["neg", "pos"])
    with pytest.raises(DataError, match="asked for 10"):
        ds.sample(10, seed=0)
    with pytest.raises(DataError, match="unknown id"):
        ds.subset([99])


def _table(n=4, N=2, K=3, **kw):
    rng = np.random.default_rng(0)
    return ProbeTable("toy", tuple("abc"[:K]), tuple(f"m{i}" for i in range(N)), np.arange(n) * 10,
                      rng.random((n, N, K)), rng.random((n, N, K)), **kw)


def test_probe_table_features_follow_eq4():
    t = _table()
    h = t.features()
    assert h.shape == (4, 2 * 2 * 3)
    # [z_1, c_1, z_2, c_2]
    np.testing.assert_array_equal(h[:, 0:3], t.z[:, 0])
    np.testing.assert_array_equal(h[:, 3:6], t.c[:, 0])
    np.testing.assert_array_equal(h[:, 6:9], t.z[:, 1])
    np.testing.assert_array_equal(h[:, 9:12], t.c[:, 1])


def test_probe_table_roundtrip_subset_select(tmp_path):
    gens = pd.DataFrame({"item_id": [0, 10], "model": ["m0", "m1"], "sample": [0, 0], "text": ["a", "b"], "parsed": [0, -1]})
    t = _table(per_model={"m0": {"T": 10}}, generations=gens)
    path = t.save(tmp_path / "p.npz")
    back = ProbeTable.load(path)
    np.testing.assert_array_equal(back.z, t.z)
    assert back.per_model["m0"]["T"] == 10 and back.models == t.models
    assert len(back.generations) == 2
    sub = back.subset([30, 0])
    assert sub.item_ids.tolist() == [30, 0]
    np.testing.assert_array_equal(sub.c[0], t.c[3])
    one = back.select_models(["m1"])
    assert one.z.shape == (4, 1, 3) and one.generations["model"].tolist() == ["m1"]
    with pytest.raises(DataError, match="no model"):
        back.select_models(["zz"])


def test_probe_table_rejects_bad_shapes_and_corrupt_files(tmp_path):
    with pytest.raises(DataError, match="shape"):
        ProbeTable("toy", ("a", "b"), ("m",), np.arange(3), np.zeros((3, 1, 3)), np.zeros((3, 1, 2)))
    with pytest.raises(DataError, match="NaN"):
        ProbeTable("toy", ("a", "b"), ("m",), np.arange(1), np.full((1, 1, 2), np.nan), np.zeros((1, 1, 2)))
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(CacheError, match="corrupt"):
        ProbeTable.load(bad)
    with pytest.raises(CacheError, match="no probe table"):
        ProbeTable.load(tmp_path / "missing.npz")
    good = _table().save(tmp_path / "g.npz")
    generations_path(good).write_bytes(b"garbage")
    with pytest.raises(CacheError, match="corrupt generations"):
        ProbeTable.load(good)


def test_annotation_and_labelled_set():
    with pytest.raises(DataError, match="2 ids but 1 labels"):
        LabelledSet(np.array([1, 2]), np.array([0]))
    a = Annotation("m", np.array([5, 6]), np.array([1, 0]), np.array([[0.2, 0.8], [0.9, 0.1]]), np.zeros((2, 2), bool))
    frame = a.to_frame()
    assert list(frame.columns) == ["item_id", "y_plus", "proba_0", "proba_1", "negative_0", "negative_1"]
    assert a.subset([6]).y_plus.tolist() == [0]


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"a": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_unknown_name_error_lists_known():
    err = UnknownNameError("dataset", "agnews", ["trec", "ag_news"])
    assert str(err) == "unknown dataset 'agnews'; known: ag_news, trec"
    assert isinstance(err, KeyError)


def test_atomic_write_gives_the_usual_file_mode(tmp_path):
    import os

    target = write_json(tmp_path / "m.json", {"a": 1})
    mask = os.umask(0)
    os.umask(mask)
    assert (target.stat().st_mode & 0o777) == (0o666 & ~mask)
