"""Probing summary (notebook 01's logic): zero-shot accuracy with the c fall-back, invalid share,
calibration of z, agreement; and the notebook itself under papermill on the released probes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mollia.data.dataset import Dataset
from mollia.errors import DataError
from mollia.study import probing as summary
from mollia.study.probes_truth import truth_from_dataset
from mollia.probes.table import ProbeTable

REPO = Path(__file__).resolve().parents[1]


def _table():
    # 4 items, 2 models, 3 labels
    z = np.array([
        [[0.7, 0.2, 0.1], [0.1, 0.1, 0.6]],
        [[0.1, 0.5, 0.2], [0.3, 0.3, 0.1]],
        [[0.2, 0.2, 0.5], [0.01, 0.02, 0.03]],
        [[0.4, 0.3, 0.1], [0.2, 0.5, 0.1]],
    ])
    c = np.array([
        [[0.8, 0.2, 0.0], [0.0, 0.0, 1.0]],
        [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0]],  # model 0 all invalid -> falls back to argmax z = 1
        [[0.0, 0.3, 0.3], [0.0, 0.0, 0.5]],  # model 0 tie 1/2 -> broken by z -> 2
        [[0.5, 0.5, 0.0], [0.0, 0.9, 0.0]],  # model 0 tie 0/1 -> z says 0
    ])
    gens = pd.DataFrame({"item_id": np.repeat([1, 2, 3, 4], 2), "model": "m0", "sample": 0, "text": "x",
                         "parsed": [0, -1, -1, -1, 1, 2, 0, 1]})
    gens = pd.concat([gens, gens.assign(model="m1", parsed=2)], ignore_index=True)
    return ProbeTable("toy", ("a", "b", "c"), ("m0", "m1"), np.array([1, 2, 3, 4]), z, c, generations=gens)


def test_predictions_fall_back_and_break_ties_by_z():
    t = _table()
    assert summary.predictions(t, "z")[:, 0].tolist() == [0, 1, 2, 0]
    assert summary.predictions(t, "c")[:, 0].tolist() == [0, 1, 2, 0]
    assert summary.predictions(t, "c")[:, 1].tolist() == [2, 0, 2, 1]  # m1 item 2: tie 0/1, z tie too -> first
    with pytest.raises(DataError):
        summary.predictions(t, "y")


def test_accuracy_table_and_invalid_share():
    t = _table()
    acc = summary.accuracy_table(t, np.array([0, 1, 2, 1]))
    assert acc.loc["m0", "accuracy_z"] == 0.75 and acc.loc["m0", "accuracy_c"] == 0.75
    assert acc.loc["m1", "accuracy_c"] == 0.5
    assert acc.loc["m0", "invalid_share"] == pytest.approx(3 / 8)  # from the raw generations
    assert acc.loc["m0", "all_invalid_rows"] == 0.25
    no_gens = ProbeTable(t.dataset, t.label_names, t.models, t.item_ids, t.z, t.c)
    np.testing.assert_allclose(summary.invalid_share(no_gens), 1 - t.c.sum(-1).mean(0))
    with pytest.raises(DataError):
        summary.accuracy_table(t, np.array([0, 1]))


def test_reliability_and_ece():
    t = _table()
    frame, ece = summary.reliability(t, np.array([0, 1, 2, 1]), "m0", bins=5)
    assert frame["count"].sum() == 4 and 0 <= ece <= 1
    conf = t.z[:, 0].max(-1) / t.z[:, 0].sum(-1)
    correct = t.z[:, 0].argmax(-1) == np.array([0, 1, 2, 1])
    # all four confidences fall in distinct bins or the same: ECE is the count-weighted |acc - conf|
    expected = sum(abs(correct[s].mean() - conf[s].mean()) * s.sum() / 4
                   for s in [(np.clip(np.digitize(conf, np.linspace(0, 1, 6)[1:-1], right=True), 0, 4) == b) for b in range(5)]
                   if s.any())
    assert ece == pytest.approx(expected)


def test_agreement_matrix_is_symmetric_with_unit_diagonal():
    agree = summary.agreement_matrix(_table())
    np.testing.assert_allclose(np.diag(agree), 1.0)
    np.testing.assert_allclose(agree.to_numpy(), agree.to_numpy().T)
    assert agree.loc["m0", "m1"] == 0.25


def test_ground_truth_joined_on_ids():
    frame = pd.DataFrame({"id": [4, 3, 2, 1], "text": list("wxyz"), "label": [1, 2, 1, 0], "split": "train"})
    ds = Dataset.from_frame("toy", frame, ("a", "b", "c"))
    assert truth_from_dataset(_table(), ds).tolist() == [0, 1, 2, 1]


def test_metrics_and_figures(tmp_path):
    t = _table()
    y = np.array([0, 1, 2, 1])
    m = summary.probing_metrics(t, y, {"n": 4})
    assert m["kind"] == "probing" and set(m["per_model"]) == {"m0", "m1"}
    json.dumps(m)
    for fn, args in ((summary.plot_reliability, (t, y)), (summary.plot_agreement, (t,))):
        path = fn(*args, path=tmp_path / f"{fn.__name__}.png")
        assert path.stat().st_size > 1000


def test_notebook_runs_on_released_probes(paper_dir, tmp_path):
    import papermill as pm

    out_dir = tmp_path / "out"
    pm.execute_notebook(str(REPO / "notebooks" / "01_llm_probing.ipynb"), str(tmp_path / "executed.ipynb"),
                        parameters={"dataset": "trec", "n": 500, "probes_dir": str(paper_dir / "probes"),
                                    "out_dir": str(out_dir)}, kernel_name="python3", progress_bar=False)
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert metrics["kind"] == "probing" and metrics["n_items"] == 500
    assert metrics["models"][0] == "gemma-2-9b-it"
    # the released trec features: yi is the best zero-shot annotator of the five (README: .770 on all rows)
    acc = {m: v["accuracy_c"] for m, v in metrics["per_model"].items()}
    assert max(acc, key=acc.get) == "yi-1.5-9b-chat" and 0.6 < acc["yi-1.5-9b-chat"] < 0.9
    assert all(Path(p).exists() for p in metrics["figures"].values())
