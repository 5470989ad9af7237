"""`mollia.data.load`: a user's CSV / TSV / parquet / JSONL, and every bad input it must name."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mollia.data import load
from mollia.errors import DataError

TEXTS = [f"review number {i}" for i in range(40)]
LABELS = ["pos" if i % 3 else "neg" for i in range(40)]


def _write(path, frame):
    suffix = path.suffix
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in frame.to_dict(orient="records")), encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".jsonl"])
def test_load_each_format_with_string_labels(tmp_path, suffix):
    path = _write(tmp_path / f"reviews{suffix}", pd.DataFrame({"review": TEXTS, "sentiment": LABELS, "stars": range(40)}))
    ds = load(path, text_column="review", label_column="sentiment", label_names=["neg", "pos"])
    assert ds.name == "reviews" and ds.label_names == ("neg", "pos")
    assert ds.texts == TEXTS
    assert ds.labels.tolist() == [1 if x == "pos" else 0 for x in LABELS]
    assert ds.ids.tolist() == list(range(40))
    assert ds.frame["stars"].tolist() == list(range(40))  # other columns kept
    # no split column: seeded stratified 70/10/20
    assert ds.split_sizes() == {"train": 28, "validation": 4, "test": 8}


def test_inferred_label_names_are_sorted(tmp_path):
    path = _write(tmp_path / "d.csv", pd.DataFrame({"text": TEXTS, "label": ["zebra" if i % 2 else "ant" for i in range(40)]}))
    ds = load(path)
    assert ds.label_names == ("ant", "zebra")
    assert ds.labels.tolist() == [i % 2 for i in range(40)]


def test_integer_labels_with_and_without_names(tmp_path):
    path = _write(tmp_path / "d.csv", pd.DataFrame({"text": TEXTS, "label": [i % 3 for i in range(40)]}))
    ds = load(path, label_names=["a", "b", "c"])
    assert ds.labels.tolist() == [i % 3 for i in range(40)] and ds.label_names == ("a", "b", "c")
    inferred = load(path)
    assert inferred.label_names == ("0", "1", "2")
    gaps = _write(tmp_path / "g.csv", pd.DataFrame({"text": TEXTS, "label": [5 if i % 2 else 1 for i in range(40)]}))
    g = load(gaps)
    assert g.label_names == ("1", "5") and g.labels.tolist() == [i % 2 for i in range(40)]


def test_split_column_ids_seed_and_name(tmp_path):
    splits = ["train"] * 30 + ["dev"] * 5 + ["test"] * 5
    frame = pd.DataFrame({"id": [f"doc{i}" for i in range(40)], "text": TEXTS, "label": LABELS, "part": splits})
    path = _write(tmp_path / "d.jsonl", frame)
    ds = load(path, split_column="part", name="mine")
    assert ds.name == "mine"
    assert ds.split_sizes() == {"train": 30, "validation": 5, "test": 5}
    assert ds.ids.tolist() == [f"doc{i}" for i in range(40)]
    csv = _write(tmp_path / "s.csv", frame.drop(columns="part"))
    a, b, c = load(csv, seed=0), load(csv, seed=0), load(csv, seed=1)
    assert a.frame["split"].tolist() == b.frame["split"].tolist()
    assert a.frame["split"].tolist() != c.frame["split"].tolist()


def test_fewer_items_than_asked(tmp_path):
    ds = load(_write(tmp_path / "d.csv", pd.DataFrame({"text": TEXTS, "label": LABELS})))
    assert len(ds.sample(28, seed=0)) == 28
    with pytest.raises(DataError, match="asked for 29 train items, only 28 exist"):
        ds.sample(29, seed=0)


# ---- bad input: each error names the problem ---------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file: .*nothere.csv"):
        load(tmp_path / "nothere.csv")


def test_unknown_extension(tmp_path):
    path = tmp_path / "d.xlsx"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(DataError, match=r"d.xlsx: unknown extension '.xlsx'; use one of"):
        load(path)


def test_unreadable_file(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a", "label": "x"}\n{not json\n', encoding="utf-8")
    with pytest.raises(DataError, match="d.jsonl: cannot read as jsonl"):
        load(path)
    empty = tmp_path / "e.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="e.csv: cannot read as csv"):
        load(empty)
    header_only = tmp_path / "h.csv"
    header_only.write_text("text,label\n", encoding="utf-8")
    with pytest.raises(DataError, match="h.csv: no rows"):
        load(header_only)


def test_missing_column(tmp_path):
    path = _write(tmp_path / "d.csv", pd.DataFrame({"body": TEXTS, "label": LABELS}))
    with pytest.raises(DataError, match=r"d.csv: missing column\(s\) \['text'\]; the file has \['body', 'label'\]"):
        load(path)
    with pytest.raises(DataError, match=r"missing column\(s\) \['fold'\]"):
        load(path, text_column="body", split_column="fold")


def test_empty_text(tmp_path):
    texts = list(TEXTS)
    texts[7] = "   "
    path = _write(tmp_path / "d.csv", pd.DataFrame({"text": texts, "label": LABELS}))
    with pytest.raises(DataError, match="empty or non-string text in column 'text' at row 7"):
        load(path)
    blank = tmp_path / "b.csv"
    blank.write_text("text,label\nhello,pos\n,neg\n", encoding="utf-8")
    with pytest.raises(DataError, match="at row 1: ''"):
        load(blank)


def test_non_string_text(tmp_path):
    path = _write(tmp_path / "d.parquet", pd.DataFrame({"text": np.arange(40), "label": LABELS}))
    with pytest.raises(DataError, match="empty or non-string text in column 'text' at row 0: 0"):
        load(path)
    rows = [{"text": "fine", "label": "pos"}, {"text": None, "label": "neg"}]
    jsonl = _write(tmp_path / "n.jsonl", pd.DataFrame(rows))
    with pytest.raises(DataError, match="non-string text in column 'text' at row 1: (None|nan)"):
        load(jsonl)


def test_label_outside_the_list(tmp_path):
    path = _write(tmp_path / "d.csv", pd.DataFrame({"text": TEXTS, "label": LABELS}))
    with pytest.raises(DataError, match=r"label 'neg' at row 0 is not one of \['negative', 'positive'\]"):
        load(path, label_names=["negative", "positive"])
    ints = _write(tmp_path / "i.csv", pd.DataFrame({"text": TEXTS, "label": [i % 4 for i in range(40)]}))
    with pytest.raises(DataError, match=r"label 3 at row 3 is outside 0..2"):
        load(ints, label_names=["a", "b", "c"])
    missing = tmp_path / "m.csv"
    missing.write_text("text,label\nhello,pos\nworld,\n", encoding="utf-8")
    with pytest.raises(DataError, match="missing label in column 'label' at row 1"):
        load(missing)


def test_bad_label_names_split_and_ids(tmp_path):
    path = _write(tmp_path / "d.csv", pd.DataFrame({"text": TEXTS, "label": LABELS, "part": ["train"] * 39 + ["holdout"]}))
    with pytest.raises(DataError, match="at least 2 distinct names"):
        load(path, label_names=["neg", "neg"])
    with pytest.raises(DataError, match="split 'holdout' at row 39 is not one of"):
        load(path, split_column="part")
    one_class = _write(tmp_path / "o.csv", pd.DataFrame({"text": TEXTS, "label": ["pos"] * 40}))
    with pytest.raises(DataError, match="o.csv: column .label. holds a single label ..pos..; a classification dataset needs at least 2"):
        load(one_class)
    dup = _write(tmp_path / "dup.csv", pd.DataFrame({"id": [1, 2] * 20, "text": TEXTS, "label": LABELS}))
    with pytest.raises(DataError, match="duplicate id 1 in column 'id'"):
        load(dup)
