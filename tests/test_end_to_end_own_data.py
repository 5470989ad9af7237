"""A new user's road, end to end (issue 13): a CSV made here -> `mollia data add` -> probing with the
built-in tiny LM -> Table 2 -> one AL run -> the report, through the CLI only; and the same dataset
through notebooks 01-03 with papermill (subprocess kernels, as `mollia grid` runs them). The tiny
models are random (their numbers are noise); what is tested is that every step takes the user's
dataset by name and writes what the next step reads."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mollia.cli import main

REPO = Path(__file__).resolve().parents[1]
TOPICS = {"sport": "Who won the match and scored the goal", "music": "Which band played the song on the album",
          "food": "How long do you cook the soup and the bread"}


def _csv(path: Path, n: int = 120) -> Path:
    names = list(TOPICS)
    rows = [{"question": f"{TOPICS[names[i % 3]]} number {i} ?", "topic": names[i % 3]} for i in range(n)]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture
def user(tmp_path, monkeypatch):
    monkeypatch.setenv("MOLLIA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert main(["data", "add", str(_csv(tmp_path / "quiz.csv")), "--name", "quiz", "--text-column", "question",
                 "--label-column", "topic", "--label-names", "sport,music,food"]) == 0
    return tmp_path


def test_own_data_through_the_cli(user, capsys):
    cache = user / "probes"
    results = user / "results"
    assert main(["probe", "run", "--dataset", "quiz", "--models", "tiny-random-lm", "--T", "2", "--max-new-tokens",
                 "2", "--cache-dir", str(cache), "--threads", "1", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "quiz: 84 items" in out and "estimate: 84 item-probes" in out
    assert main(["table2", "--probes", str(cache), "--dataset", "quiz", "--methods", "llm-l:tiny-random-lm,llms-v,molam",
                 "--seeds", "1", "--n-labelled", "20", "--json", str(user / "t2.json")]) == 0
    table2 = json.loads((user / "t2.json").read_text())
    assert set(table2) >= {"llms-v", "molam"}
    run = results / "03_active_learning" / "quiz-molam"
    assert main(["al", "--dataset", "quiz", "--probes", str(cache), "--annotator", "molam", "--strategy", "coreset",
                 "--backbone", "head:tiny-random-encoder", "--iterations", "2", "--initial", "10", "--batch-size",
                 "10", "--epochs", "3", "--out", str(run), "--quiet"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["done"] and [r["n_labelled"] for r in metrics["rows"]] == [10, 20, 30]
    assert metrics["params"]["dataset"] == "quiz"
    assert main(["report", "--results", str(results), "--figures", str(user / "figures")]) == 0
    assert "1 AL runs" in capsys.readouterr().out
    assert (results / "tables" / "headline.md").is_file()


def test_own_data_through_notebooks_01_to_03(user):
    import papermill as pm

    cache, out = str(user / "probes"), user / "nb"
    out.mkdir()
    common = {"dataset": "quiz"}
    pm.execute_notebook(str(REPO / "notebooks" / "01_llm_probing.ipynb"), str(out / "01.ipynb"), cwd=str(user),
                        parameters={**common, "models": ["tiny-random-lm"], "n": 0, "T": 2, "cache_dir": cache,
                                    "out_dir": str(out / "01")}, progress_bar=False, kernel_name="python3")
    probing = json.loads((out / "01" / "metrics.json").read_text())
    assert probing["dataset"] == "quiz" and probing["n_items"] == 84
    pm.execute_notebook(str(REPO / "notebooks" / "02_annotation_models.ipynb"), str(out / "02.ipynb"), cwd=str(user),
                        parameters={**common, "probes_dir": cache, "methods": "llms-v,molam", "seeds": 1,
                                    "n_labelled": 20, "out_dir": str(out / "02")}, progress_bar=False,
                        kernel_name="python3")
    assert json.loads((out / "02" / "metrics.json").read_text())
    pm.execute_notebook(str(REPO / "notebooks" / "03_active_learning.ipynb"), str(out / "03.ipynb"), cwd=str(user),
                        parameters={**common, "probes": cache, "annotator": "molam", "backbone": "head:tiny-random-encoder",
                                    "iterations": 1, "initial": 10, "batch_size": 10, "epochs": 3,
                                    "out_dir": str(out / "03")}, progress_bar=False, kernel_name="python3")
    al = json.loads((out / "03" / "metrics.json").read_text())
    assert al["done"] and al["params"]["dataset"] == "quiz" and len(al["rows"]) == 2
