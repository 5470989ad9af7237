"""`mollia probe` verbs: run (also as bare `mollia probe --dataset ...`), download-released."""

from __future__ import annotations

import pytest
import torch

import mollia.models
import mollia.probes.download
from mollia.cli import main
from mollia.probes.replay import load_probes
from mollia.probes.tiny_lm import tiny_causal_lm

torch.set_num_threads(1)


@pytest.fixture
def tiny_models(monkeypatch):
    model = tiny_causal_lm(seed=4)
    loaded = []

    def load(name, device="cpu", dtype=None, quantization=None):
        loaded.append(name)
        return model

    monkeypatch.setattr(mollia.models, "load_causal_lm", load)
    return loaded


def test_probe_run_prints_accuracy_and_saves_table(tmp_path, tiny_models, capsys):
    out = tmp_path / "t.npz"
    code = main(["probe", "run", "--dataset", "trec", "--models", "a,b", "--n", "3", "--T", "2",
                 "--max-new-tokens", "2", "--cache-dir", str(tmp_path / "c"), "--out", str(out), "--threads", "1"])
    assert code == 0 and tiny_models == ["a", "b"]
    printed = capsys.readouterr().out
    assert "accuracy_z" in printed and "accuracy_c" in printed and "s/item" in printed
    table = load_probes(out, "trec")
    assert table.models == ("a", "b") and len(table) == 3
    # the bare form reads the same cache: no model is loaded again
    assert main(["probe", "--dataset", "trec", "--models", "a,b", "--n", "3", "--T", "2", "--max-new-tokens", "2",
                 "--cache-dir", str(tmp_path / "c")]) == 0
    assert tiny_models == ["a", "b"]


def test_probe_without_dataset_is_a_clean_error(capsys):
    assert main(["probe", "run", "--models", "a"]) == 2
    assert "needs --dataset" in capsys.readouterr().err


def test_download_released_calls_the_downloader(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(mollia.probes.download, "download_released",
                        lambda dataset, dest=None, force=False: calls.append((dataset, dest, force)) or tmp_path)
    assert main(["probe", "download-released", "--dataset", "trec", "--dest", str(tmp_path)]) == 0
    assert calls == [("trec", str(tmp_path), False)]
    assert str(tmp_path) in capsys.readouterr().out
