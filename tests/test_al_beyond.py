"""Beyond the paper inside the AL loop: noisy-label losses, confidence weighting, small-loss
selection, the hybrid human budget (counted, never above h) and the text-aware annotator."""

import json

import numpy as np
import pytest
import torch

from mollia.al.config import ALConfig, ConfigError
from mollia.annotators import make_annotator
from mollia.annotators.stacking import text_expert_log_proba
from mollia.annotators.types import LabelledSet
from mollia.errors import DataError

from tests.test_al_loop import config as loop_config
from tests.test_al_loop import problem, run, stable  # noqa: F401 (problem: a fixture)

torch.set_num_threads(1)


def config(**kw):
    return loop_config(**{"epochs": 8, "patience": 4, **kw})


@pytest.mark.parametrize("h", [0, 3, 7])
def test_human_budget_routes_at_most_h_items_and_counts_them(problem, tmp_path, h):
    m = run(problem, tmp_path / "run", config(human_budget=h, human_route="confidence", discrepancy=False))
    later = m["rows"][1:]
    assert all(r["n_human"] == h for r in later)  # the batch (20) is larger than h: exactly h each time
    assert m["rows"][0]["n_human"] == 0
    state = json.loads((tmp_path / "run" / "state" / "state.json").read_text())["labelled"]
    trusted = np.asarray(state["trusted"], dtype=bool)
    added = np.asarray(state["added_at"])
    assert trusted[added == 0].all() and trusted[added > 0].sum() == 3 * h
    # every routed item is trained on its true label with weight 1 and no negative labels
    truth = dict(zip(problem[0].frame["id"].tolist(), problem[0].labels.tolist()))
    for i in np.flatnonzero(trusted & (added > 0)):
        assert state["y_plus"][i] == truth[state["ids"][i]] and state["weights"][i] == 1.0
        assert not any(state["negatives"][i])
    # caught = routed items whose LLM label was wrong; the trained labels are at least as accurate
    for r in later:
        assert 0 <= r["n_human_caught"] <= r["n_human"]
        assert r["trained_label_accuracy"] >= r["added_label_accuracy"]
        assert r["trained_label_accuracy"] == pytest.approx(r["added_label_accuracy"] + r["n_human_caught"] / 20)


def test_disagreement_route_and_budget_errors(problem, tmp_path):
    dataset, probes, _ = problem
    m = run(problem, tmp_path / "c", config(human_budget=5, human_route="disagreement", discrepancy=False))
    assert all(r["n_human"] == 5 for r in m["rows"][1:])
    with pytest.raises(ConfigError, match="exceeds the batch size"):
        config(human_budget=21)
    with pytest.raises(ConfigError, match="human_route"):
        config(human_budget=2, human_route="coin")
    with pytest.raises(ConfigError, match="oracle"):
        config(annotator="oracle", human_budget=2)


@pytest.mark.parametrize("kw", [dict(label_loss="soft"), dict(label_loss="gce"), dict(label_loss="sce"),
                                dict(label_loss="bootstrap"), dict(confidence_weighting=True),
                                dict(small_loss_forget=0.3, loss_params={"small_loss_ramp": 2})])
def test_noise_aware_options_run_resume_identically_and_are_recorded(problem, tmp_path, kw):
    cfg = config(discrepancy=False, negative_learning=False, **kw)
    full = run(problem, tmp_path / "full", cfg)
    assert all(full["params"][k] == v for k, v in kw.items())

    class Killed(Exception):
        pass

    def kill_after_1(row):
        if row["iteration"] == 1:
            raise Killed

    with pytest.raises(Killed):
        run(problem, tmp_path / "killed", cfg, on_iteration=kill_after_1)
    resumed = run(problem, tmp_path / "killed", cfg)
    assert stable(resumed["rows"]) == stable(full["rows"])


def test_losses_change_training_and_defaults_keep_the_old_params(problem, tmp_path):
    base = run(problem, tmp_path / "ce", config(discrepancy=False, negative_learning=False))
    gce = run(problem, tmp_path / "gce", config(discrepancy=False, negative_learning=False, label_loss="gce"))
    assert [r["micro_f1"] for r in base["rows"][1:]] != [r["micro_f1"] for r in gce["rows"][1:]]
    # default beyond-the-paper fields are not recorded: older runs keep their identity and resume
    assert not {"label_loss", "human_budget", "loss_params"} & set(config().to_params())
    assert config(label_loss="gce").to_params()["label_loss"] == "gce"
    assert ALConfig.from_params(config(human_budget=3).to_params()).human_budget == 3
    with pytest.raises(ConfigError, match="loss_params"):
        config(loss_params={"gce_r": 1})
    with pytest.raises(ConfigError, match="label_loss"):
        config(label_loss="mae")


# -- the text-aware annotator (stack-text) ------------------------------------------------------

def test_text_expert_uses_out_of_fold_probabilities_on_labelled_rows():
    rng = np.random.default_rng(0)
    y_all = rng.integers(0, 3, 90)
    X = rng.normal(size=(90, 5)) + 3.0 * np.eye(3, 5)[y_all]
    pos = np.arange(30)
    logp = text_expert_log_proba(X, pos, y_all[pos], 4, cv=3)
    assert logp.shape == (90, 4) and np.allclose(np.exp(logp).sum(axis=1), 1.0)
    assert (np.exp(logp[30:]).argmax(axis=1) == y_all[30:]).mean() > 0.8  # it learned the texts
    assert np.exp(logp[:, 3]).max() < 1e-3  # a class never labelled stays at the floor
    # shuffling the unlabelled rows' (hidden) labels cannot matter: only pos's labels are read
    assert np.array_equal(logp, text_expert_log_proba(X, pos, y_all[pos], 4, cv=3))


def test_stack_text_annotator_needs_features_and_sees_only_initial_labels(problem):
    dataset, probes, embed_fn = problem
    ids = np.asarray(probes.item_ids)
    X = np.asarray(embed_fn(dataset.frame.set_index("id").loc[ids, "text"].tolist()))
    labels = dict(zip(dataset.frame["id"].tolist(), dataset.labels.tolist()))
    initial = LabelledSet(ids=ids[:40], labels=np.array([labels[i] for i in ids[:40]]))
    ann = make_annotator("stack-text", text_features=X).fit(probes, initial).annotate()
    assert ann.proba.shape == (len(ids), probes.n_labels)
    with pytest.raises(DataError, match="text_features"):
        make_annotator("stack-text").fit(probes, initial)


def test_stack_text_runs_in_the_loop(problem, tmp_path, monkeypatch):
    monkeypatch.setenv("MOLLIA_HOME", str(tmp_path / "home"))  # the annotation cache
    m = run(problem, tmp_path / "st", config(annotator="stack-text"), annotator_factory=None)
    assert m["done"] and m["rows"][-1]["added_label_accuracy"] is not None
