"""`mollia data list|show|load`, called through `mollia.cli.main`."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from mollia.cli import main
from mollia.data import load


def test_data_list(capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("ag_news", "imdb", "trec", "pubmed-20k-rct", "bbc_news", "rotten_tomatoes"):
        assert name in out
    trec_line = next(line for line in out.splitlines() if line.strip().startswith("trec"))
    assert "4993" in trec_line and "439" in trec_line and "500" in trec_line
    assert "abbreviation, entity, description, human, location, numeric" in trec_line
    assert "world, sports, business, science/technology" in out
    assert "114000" in out and "sizes_from" in out


def test_data_show(capsys):
    assert main(["data", "show", "trec", "--n", "2"]) == 0
    out = capsys.readouterr().out
    assert "items: 5952  train 4993, validation 439, test 500, excluded 20" in out
    assert "[0] (train) description: 'How did serfdom develop in and then leave Russia ?'" in out
    assert "[2]" not in out
    assert main(["data", "show", "rotten_tomatoes", "--split", "test", "--n", "0"]) == 0
    assert "items: 2550  train 0, validation 0, test 2550" in capsys.readouterr().out


def test_data_show_errors(capsys):
    assert main(["data", "show", "agnews"]) == 2
    assert "mollia: error: unknown dataset 'agnews'; known: ag_news" in capsys.readouterr().err
    assert main(["data", "show", "imdb", "--source", "offline"]) == 2
    assert "'imdb' has no offline source" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["data", "show", "trec", "--n", "-1"])
    assert exit_info.value.code == 2 and "argument --n: must be >= 0, got -1" in capsys.readouterr().err


def _csv(tmp_path):
    path = tmp_path / "mine.csv"
    pd.DataFrame({"body": [f"text {i}" for i in range(40)], "y": ["b" if i % 2 else "a" for i in range(40)]}).to_csv(path, index=False)
    return path


def test_data_load_summary_and_out(tmp_path, capsys):
    path = _csv(tmp_path)
    out_file = tmp_path / "norm" / "mine.parquet"
    code = main(["data", "load", str(path), "--text-column", "body", "--label-column", "y", "--label-names", "b,a",
                 "--out", str(out_file)])
    assert code == 0
    out = capsys.readouterr().out
    assert "dataset: mine" in out and "items: 40  train 28, validation 4, test 8" in out
    assert "labels: 0=b (20), 1=a (20)" in out and "wrote 40 rows" in out and out.rstrip().endswith("ok")
    frame = pd.read_parquet(out_file)
    assert list(frame.columns[:4]) == ["id", "text", "label", "split"]
    assert frame["label_name"].tolist() == ["a", "b"] * 20 and frame["label"].tolist() == [1, 0] * 20
    # the written file reads back with the same label order and splits, without naming them again
    again = load(out_file, split_column="split")
    assert again.label_names == ("b", "a") and again.labels.tolist() == frame["label"].tolist()
    assert again.frame["split"].tolist() == frame["split"].tolist()
    assert [p.name for p in out_file.parent.iterdir()] == ["mine.parquet"]  # no temp file left


def test_data_load_errors_leave_out_untouched(tmp_path, capsys):
    path = _csv(tmp_path)
    out_file = tmp_path / "keep.parquet"
    out_file.write_bytes(b"previous result")
    assert main(["data", "load", str(path), "--text-column", "body", "--label-column", "y",
                 "--label-names", "x,z", "--out", str(out_file)]) == 2
    assert "label 'a' at row 0 is not one of ['x', 'z']" in capsys.readouterr().err
    assert out_file.read_bytes() == b"previous result"
    assert main(["data", "load", str(path), "--label-column", "y"]) == 2
    assert "missing column(s) ['text']" in capsys.readouterr().err
    assert main(["data", "load", str(tmp_path / "none.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["data", "load", str(path), "--text-column", "body", "--label-column", "y", "--out", str(tmp_path / "x.csv")]) == 2
    assert "--out must be a .parquet file" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "x.csv")


def test_data_needs_a_verb(capsys):
    with pytest.raises(SystemExit):
        main(["data"])
