"""`mollia al` end to end on the offline TREC data (a fake, fast embedding function replaces the
encoder; a small pool), its flags, and its clean errors."""

import json


from mollia.cli import main


ARGS = ["al", "--dataset", "trec", "--annotator", "oracle", "--strategy", "margin", "--iterations", "1",
        "--initial", "10", "--batch-size", "10", "--pool-size", "60", "--epochs", "3", "--quiet"]


def test_cli_writes_metrics(fake_encoder, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(ARGS + ["--out", str(out), "--no-negative-learning", "--alpha", "0.3"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["done"] and [r["n_labelled"] for r in metrics["rows"]] == [10, 20]
    params = metrics["params"]
    assert params["negative_learning"] is False and params["discrepancy"] is True and params["alpha"] == 0.3
    assert params["strategy"] == "margin" and params["backbone"] == "head:minilm-l6"
    assert "micro-F1" in capsys.readouterr().out
    assert (tmp_path / "home" / "embeddings" / "minilm-l6").is_dir()  # embeddings cached


def test_cli_errors_are_clean(fake_encoder, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(ARGS + ["--out", str(out), "--strategy", "nope"]) == 2
    assert "unknown strategy 'nope'" in capsys.readouterr().err
    assert main(ARGS + ["--out", str(out), "--annotator", "molam"]) == 2  # no --probes
    assert "probes" in capsys.readouterr().err
    assert main(ARGS + ["--out", str(out)]) == 0
    before = (out / "metrics.json").read_bytes()
    assert main(ARGS + ["--out", str(out), "--seed", "1"]) == 2  # other params in the same folder
    assert "other parameters" in capsys.readouterr().err
    assert (out / "metrics.json").read_bytes() == before
    assert main(ARGS + ["--out", str(out), "--alpha", "2"]) == 2
