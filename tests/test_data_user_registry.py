"""`mollia data add`: a user's file registered under MOLLIA_HOME and then used by name (or by path)
exactly as a built-in dataset; and the file checks a new user meets (encoding, size, rare labels)."""

from __future__ import annotations

import pandas as pd
import pytest

from mollia.cli import main
from mollia.data import load, load_dataset
from mollia.data.user import RareLabelWarning
from mollia.data.user_registry import dataset_name, user_dataset_dir
from mollia.errors import DataError, UnknownNameError

TOPICS = ["sport", "music", "food"]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MOLLIA_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _csv(path, n=60, label=lambda i: TOPICS[i % 3], **extra):
    frame = pd.DataFrame({"question": [f"question number {i} about {TOPICS[i % 3]}" for i in range(n)],
                          "topic": [label(i) for i in range(n)], **extra})
    frame.to_csv(path, index=False)
    return path


def test_add_list_show_and_load_by_name(home, tmp_path, capsys):
    path = _csv(tmp_path / "quiz.csv")
    assert main(["data", "add", str(path), "--name", "quiz", "--text-column", "question", "--label-column", "topic",
                 "--label-names", "sport,music,food"]) == 0
    out = capsys.readouterr().out
    assert "registered dataset 'quiz'" in out and "--dataset quiz" in out
    assert (user_dataset_dir("quiz") / "data.parquet").is_file()
    ds = load_dataset("quiz")
    assert ds.name == "quiz" and ds.label_names == ("sport", "music", "food") and len(ds) == 60
    assert ds.split_sizes() == {"train": 42, "validation": 6, "test": 12}
    direct = load(path, text_column="question", label_column="topic", label_names=TOPICS, name="quiz")
    pd.testing.assert_frame_equal(ds.frame[["id", "text", "label", "split"]],
                                  direct.frame[["id", "text", "label", "split"]])
    assert main(["data", "list"]) == 0
    listed = capsys.readouterr().out
    quiz_line = next(line for line in listed.splitlines() if line.strip().startswith("quiz"))
    assert "user" in quiz_line and "sport, music, food" in quiz_line and str(path.resolve()) in listed
    assert main(["data", "show", "quiz", "--n", "1"]) == 0
    assert "items: 60  train 42, validation 6, test 12" in capsys.readouterr().out
    assert main(["data", "remove", "quiz"]) == 0
    with pytest.raises(UnknownNameError):
        load_dataset("quiz")


def test_a_path_is_accepted_wherever_a_name_is(home, tmp_path):
    path = tmp_path / "plain.csv"
    pd.DataFrame({"text": [f"text {i}" for i in range(60)], "label": [TOPICS[i % 3] for i in range(60)]}).to_csv(
        path, index=False)
    ds = load_dataset(str(path))
    assert ds.name == "plain" == dataset_name(str(path)) and len(ds) == 60
    assert dataset_name("trec") == "trec"


def test_add_refuses_builtin_names_duplicates_and_bad_names(home, tmp_path, capsys):
    path = _csv(tmp_path / "q.csv")
    args = ["data", "add", str(path), "--text-column", "question", "--label-column", "topic"]
    assert main(args + ["--name", "trec"]) == 2
    assert "'trec' is a built-in dataset" in capsys.readouterr().err
    assert main(args + ["--name", "../evil"]) == 2
    assert "dataset name '../evil'" in capsys.readouterr().err
    assert main(args + ["--name", "q1"]) == 0
    before = (user_dataset_dir("q1") / "data.parquet").read_bytes()
    assert main(args + ["--name", "q1"]) == 2
    err = capsys.readouterr().err
    assert "already registered" in err and "pass --force to replace it" in err
    assert (user_dataset_dir("q1") / "data.parquet").read_bytes() == before
    assert main(args + ["--name", "q1", "--force", "--seed", "3"]) == 0
    with pytest.raises(UnknownNameError, match="known: .*q1"):
        load_dataset("nope")


def test_latin1_file_names_the_row_and_the_encoding_option(home, tmp_path, capsys):
    path = tmp_path / "latin.csv"
    rows = [f"question {i},{TOPICS[i % 3]}" for i in range(40)]
    rows[7] = "qu\u00e9stion caf\u00e9,food"
    path.write_bytes(("text,label\n" + "\n".join(rows) + "\n").encode("latin-1"))
    with pytest.raises(DataError, match=r"latin.csv: line 9 \(data row 7\) is not valid utf-8: byte e9 .*--encoding latin-1"):
        load(path)
    assert main(["data", "add", str(path), "--name", "latin"]) == 2
    assert "--encoding" in capsys.readouterr().err
    assert main(["data", "add", str(path), "--name", "latin", "--encoding", "latin-1"]) == 0
    assert "qu\u00e9stion caf\u00e9" in load_dataset("latin").texts
    with pytest.raises(DataError, match="unknown encoding 'klingon'"):
        load(path, encoding="klingon")


def test_too_small_files_are_refused_with_the_minimum(home, tmp_path, capsys):
    path = _csv(tmp_path / "five.csv", n=5)
    assert main(["data", "add", str(path), "--name", "five", "--text-column", "question", "--label-column", "topic"]) == 2
    err = capsys.readouterr().err
    assert "five.csv: 5 rows; a dataset needs at least 30" in err
    no_test = _csv(tmp_path / "s.csv", part=["train"] * 50 + ["validation"] * 10)
    with pytest.raises(DataError, match="the split column leaves no test items"):
        load(no_test, text_column="question", label_column="topic", split_column="part")


def test_a_label_met_once_is_warned_about_and_refused_with_label_names(home, tmp_path, capsys):
    path = _csv(tmp_path / "typo.csv", label=lambda i: "sprot" if i == 17 else TOPICS[i % 3])
    with pytest.warns(RareLabelWarning, match=r"'sprot' \(row 17\) occur only once"):
        load(path, text_column="question", label_column="topic")
    assert main(["data", "add", str(path), "--name", "typo", "--text-column", "question", "--label-column", "topic"]) == 0
    assert "warning: typo.csv: label(s) 'sprot' (row 17) occur only once" in capsys.readouterr().err
    assert main(["data", "add", str(path), "--name", "typo2", "--text-column", "question", "--label-column", "topic",
                 "--label-names", "sport,music,food"]) == 2
    assert "label 'sprot' at row 17 is not one of ['sport', 'music', 'food']" in capsys.readouterr().err
