"""The committed live probes (mollia/data/live_probes): what the demo replays is what PROVENANCE.md says."""

from __future__ import annotations

import numpy as np
import pytest

from mollia.probes.replay import LIVE_PROBES_DIR
from mollia.study.probes_truth import load_probes_and_truth

MODELS = ("qwen2.5-coder-1.5b-instruct", "smollm2-135m-instruct", "gemma-3-270m", "qwen2.5-coder-0.5b-instruct")
# the sizes: >= 2,000 TREC pool questions, the Rotten Tomatoes pool the demo's live stages use
MIN_ITEMS = {"trec": 2000, "rotten_tomatoes": 300}


@pytest.mark.parametrize("dataset", sorted(MIN_ITEMS))
def test_committed_live_probes_replay_without_a_model(dataset):
    table, truth, _ = load_probes_and_truth(str(LIVE_PROBES_DIR), dataset, texts=False)
    assert len(table) >= MIN_ITEMS[dataset]
    assert tuple(table.models) == MODELS
    k = len(table.per_model[MODELS[0]]["label_names"])
    assert table.z.shape == (len(table), len(MODELS), k) and table.c.shape == table.z.shape
    assert truth.shape == (len(table),) and set(np.unique(truth)) <= set(range(k))
    # c is a distribution over the labels of the T samples that parsed (rows may be all invalid)
    assert np.all(table.c >= 0) and np.all(table.c.sum(-1) <= 1 + 1e-6)
    assert np.all((table.z >= 0) & (table.z <= 1 + 1e-6))
    for model in MODELS:
        meta = table.per_model[model]
        assert meta["engine_version"] == 2 and meta["T"] == 10 and meta["dataset"] == dataset
        assert meta["precision"] == "bfloat16"  # the registry default the probes were made with
        assert len(meta["git_commit"]) == 40


def test_provenance_names_every_committed_dataset_and_the_command():
    text = (LIVE_PROBES_DIR / "PROVENANCE.md").read_text()
    for dataset in MIN_ITEMS:
        assert f"| {dataset} |" in text
    assert "python scripts/build_live_probes.py" in text
