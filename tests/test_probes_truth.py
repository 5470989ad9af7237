"""The one loader of probes + their ground truth (`mollia.study.probes_truth`), used by the CLI and
every notebook: released arrays carry their own labels, a probe table gets them from the dataset by
item id, texts are aligned with the rows, and a mismatch fails loudly."""

from __future__ import annotations

import numpy as np
import pytest

from mollia.data import load_dataset
from mollia.errors import DataError
from mollia.probes.table import ProbeTable
from mollia.study.probes_truth import holds_released, load_probes_and_truth, truth_from_dataset


def _table_of(ids, n_labels, dataset="trec"):
    rng = np.random.default_rng(0)
    z = rng.dirichlet(np.ones(n_labels), size=(len(ids), 2))
    labels = tuple(load_dataset(dataset, source="offline").label_names)
    return ProbeTable(dataset, labels, ("m0", "m1"), np.asarray(ids), z, z.copy())


def test_probe_table_file_gets_truth_and_texts_from_the_dataset(tmp_path):
    ds = load_dataset("trec", source="offline")
    ids = ds.ids[[5, 0, 17, 3]]
    path = tmp_path / "t.npz"
    _table_of(ids, ds.n_labels).save(path)
    table, truth, texts = load_probes_and_truth(path, "trec", source="offline")
    frame = ds.frame.set_index("id")
    assert table.item_ids.tolist() == ids.tolist()
    assert truth.tolist() == frame.loc[ids.tolist(), "label"].tolist()
    assert texts == frame.loc[ids.tolist(), "text"].tolist()
    assert load_probes_and_truth(path, "trec", source="offline", texts=False).texts is None
    assert not holds_released(tmp_path, "trec")


def test_unknown_item_or_other_labels_fail_loudly(tmp_path):
    ds = load_dataset("trec", source="offline")
    with pytest.raises(DataError, match="no item"):
        truth_from_dataset(_table_of(np.array([10 ** 9]), ds.n_labels), ds)
    other = ProbeTable("trec", tuple("abcdef"), ("m0",), ds.ids[:2], np.full((2, 1, 6), 1 / 6), np.zeros((2, 1, 6)))
    with pytest.raises(DataError, match="labels"):
        truth_from_dataset(other, ds)


def test_released_arrays_bring_their_own_truth(paper_dir):
    from mollia.probes.paper import load_released

    probes = paper_dir / "probes"
    assert holds_released(probes, "trec")
    table, truth, texts = load_probes_and_truth(probes, "trec", source="offline")
    released = load_released(probes, "trec")
    assert np.array_equal(truth, released.ground_truth) and len(table) == len(released.table)
    # released trec rows are train_5500 ids: the offline build names the same questions and labels
    frame = load_dataset("trec", source="offline").frame.set_index("id")
    assert texts is not None and texts[:3] == frame.loc[table.item_ids[:3].tolist(), "text"].tolist()
    assert (frame.loc[table.item_ids.tolist(), "label"].to_numpy() == truth).mean() == 1.0
