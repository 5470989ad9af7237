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


# -- issue 13: count bounds, truncation, the estimate and its confirmation ---------------------
@pytest.mark.parametrize("flag,value", [("--n", "-5"), ("--n", "0"), ("--T", "0"), ("--batch-size", "-1"),
                                        ("--max-new-tokens", "0"), ("--max-text-tokens", "0"), ("--threads", "0"),
                                        ("--seed", "-1")])
def test_count_arguments_are_bounded(flag, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["probe", "run", "--dataset", "trec", "--models", "a", flag, value])
    assert exit_info.value.code == 2 and f"argument {flag}: must be" in capsys.readouterr().err


def test_estimate_line_and_refusal_without_a_terminal(tmp_path, tiny_models, capsys, monkeypatch):
    from mollia.cli.probe import confirm_estimate
    from mollia.errors import MolliaError
    from mollia.probes.engine import ProbeEstimate

    args = ["probe", "run", "--dataset", "trec", "--models", "a", "--n", "4", "--T", "2", "--max-new-tokens", "2",
            "--batch-size", "2", "--cache-dir", str(tmp_path / "c")]
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    # a threshold far below any real cost: refused, saying to pass --yes; the warm-up batch stays cached
    assert main(args + ["--confirm-over", "0.00001"]) == 2
    captured = capsys.readouterr()
    assert "estimate: 4 item-probes to do (1 model(s))" in captured.out
    assert "stdin is not a terminal to ask: pass --yes" in captured.err and "warm-up's 2 items are cached" in captured.err
    assert main(args + ["--confirm-over", "0.00001", "--yes", "--max-text-tokens", "3"]) == 0
    assert "estimate: 4 item-probes" in capsys.readouterr().out  # another key (cut texts): all 4 to do
    assert main(args + ["--confirm-over", "0.00001", "--yes"]) == 0
    assert "estimate: 2 item-probes" in capsys.readouterr().out  # the refused run's 2 warm-up items were kept
    assert main(args + ["--confirm-over", "0.00001"]) == 0  # everything cached: no estimate, no question
    assert "estimate" not in capsys.readouterr().out
    # at a terminal the answer decides
    slow = ProbeEstimate(items=100, models=1, seconds_per_item=60.0, measured_on="a", warmup_items=2)
    assert confirm_estimate(False, 10, ask=lambda q: "y", interactive=True)(slow) is True
    assert confirm_estimate(False, 10, ask=lambda q: "", interactive=True)(slow) is False
    with pytest.raises(MolliaError, match="pass --yes"):
        confirm_estimate(False, 10, interactive=False)(slow)
    assert confirm_estimate(True, 10, interactive=False)(slow) is True
