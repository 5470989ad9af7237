"""Backbones: the QueryModel protocol (head and fine-tune mode), MC dropout, parameter noise,
the embedding cache, and short full fine-tuning runs (a tiny random BERT; minilm-l6)."""

import numpy as np
import pytest
import torch

from mollia.al.backbones import FinetuneBackbone, HeadBackbone
from mollia.al.backbones.embeddings import cached_embeddings, embedding_cache_path
from mollia.al.config import ALConfig
from mollia.study.active_learning import run_al
from mollia.al.strategies import QueryModel, make_strategy
from mollia.al.synthetic import synthetic_problem

torch.set_num_threads(1)


def _fitted_head(seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, 120)
    feats = (np.eye(3)[labels] @ rng.normal(size=(3, 8)) * 2 + rng.normal(size=(120, 8))).astype(np.float32)
    model = HeadBackbone(feats, 3, hidden_size=16, dropout=0.3, lr=1e-2, epochs=20, patience=5)
    train, val = np.arange(80), np.arange(80, 120)
    model.fit(train, labels[train], np.ones(80), np.zeros((80, 3), bool), 0.5, val, labels[val], seed=3)
    return model, feats, labels


def test_head_backbone_implements_query_model():
    model, feats, labels = _fitted_head()
    assert isinstance(model, QueryModel)
    idx = np.array([5, 90, 7])
    proba = model.predict_proba(idx)
    assert proba.shape == (3, 3) and np.allclose(proba.sum(1), 1)
    assert np.array_equal(model.embed(idx), feats[idx])  # head mode: the frozen embedding
    assert (model.predict_proba(np.arange(80, 120)).argmax(1) == labels[80:]).mean() > 0.6


def test_training_is_seeded_and_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a, _, _ = _fitted_head()
    assert torch.equal(torch.random.get_rng_state(), before)
    b, _, _ = _fitted_head()
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


def test_mc_dropout_samples_are_joint_and_seeded():
    model, _, _ = _fitted_head()
    idx = np.arange(40)
    s1 = model.predict_proba_samples(idx, 6, np.random.default_rng(0))
    s2 = model.predict_proba_samples(idx, 6, np.random.default_rng(0))
    assert s1.shape == (6, 40, 3) and np.allclose(s1.sum(-1), 1)
    assert np.array_equal(s1, s2)
    assert not np.allclose(s1[0], s1[1])  # different masks per sample
    # one mask per sample shared by all rows: a row duplicated gets the same sample
    dup = model.predict_proba_samples(np.array([3, 3, 4]), 4, np.random.default_rng(1))
    assert np.allclose(dup[:, 0], dup[:, 1])


def test_perturbed_proba_relative_noise_leaves_model_unchanged():
    model, _, _ = _fitted_head()
    idx = np.arange(30)
    clean = model.predict_proba(idx)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    small = model.perturbed_proba(idx, 1e-3, 3, np.random.default_rng(0))
    big = model.perturbed_proba(idx, 0.5, 3, np.random.default_rng(0))
    assert small.shape == (3, 30, 3)
    assert np.abs(small - clean).max() < np.abs(big - clean).max()
    assert np.abs(small - clean).max() > 0
    assert all(torch.equal(state[k], model.state_dict()[k]) for k in state)
    assert np.array_equal(model.predict_proba(idx), clean)


def test_perturbed_proba_perturbs_weights_only_never_biases():
    """Li et al. perturb each module's weight, W + scale * ||W|| * Z / ||Z||, and leave biases alone.
    With every weight zero (so the relative noise on it is zero) and biases non-zero, the output
    must not move at all; perturbing the biases too would move it."""
    model, _, _ = _fitted_head()
    state = model.state_dict()
    for name in state:
        if name.endswith("weight"):
            state[name] = torch.zeros_like(state[name])
    assert any(name.endswith("bias") and state[name].abs().sum() > 0 for name in state)
    model.load_state_dict(state)
    idx = np.arange(30)
    noisy = model.perturbed_proba(idx, 0.5, 4, np.random.default_rng(0))
    np.testing.assert_array_equal(noisy, np.broadcast_to(model.predict_proba(idx), noisy.shape))
    names = {n for n, p in model.net_.named_parameters() if any(p is q for q in model._perturbable(model.net_))}
    assert names == {"head.hidden.weight", "head.out.weight"}


@pytest.mark.parametrize("name", ["random", "coreset", "bemps", "noise_stability", "entropy", "margin"])
def test_every_strategy_queries_the_head_backbone(name):
    model, _, _ = _fitted_head()
    pool, labelled = np.arange(20, 120), np.arange(20)
    params = {"n_draws": 5} if name == "noise_stability" else {}
    chosen = make_strategy(name, **params).query(model, pool, labelled, 10, np.random.default_rng(0))
    assert len(set(chosen.tolist())) == 10 and set(chosen.tolist()) <= set(pool.tolist())


def test_embedding_cache_computes_each_text_once(tmp_path, monkeypatch):
    monkeypatch.setenv("MOLLIA_HOME", str(tmp_path))
    calls = []

    def compute(texts):
        calls.append(list(texts))
        return np.array([[len(t), ord(t[0])] for t in texts], dtype=np.float32)

    a = cached_embeddings("enc", "ds", ["x", "y"], 128, compute)
    b = cached_embeddings("enc", "ds", ["x", "y"], 128, compute)
    assert calls == [["x", "y"]] and np.array_equal(a, b)
    assert embedding_cache_path("enc", "ds", 128).exists()
    assert embedding_cache_path("enc", "ds", 64) != embedding_cache_path("enc", "ds", 128)
    # another pool sample of the same dataset: only its new text is encoded; rows keep the order asked
    c = cached_embeddings("enc", "ds", ["z", "x", "z"], 128, compute)
    assert calls[-1] == ["z"] and np.array_equal(c, compute(["z", "x", "z"]))
    calls.clear()
    embedding_cache_path("enc", "ds", 128).write_bytes(b"garbage")
    assert np.array_equal(cached_embeddings("enc", "ds", ["x", "y"], 128, compute), a)  # recomputed
    assert calls == [["x", "y"]]


def test_embedding_cache_concurrent_runs_encode_once(tmp_path, monkeypatch):
    """Two AL runs starting together (two grid jobs) must not both encode the same texts."""
    import threading
    import time

    monkeypatch.setenv("MOLLIA_HOME", str(tmp_path))
    calls = []

    def slow(texts):
        calls.append(list(texts))
        time.sleep(0.5)
        return np.ones((len(texts), 3), dtype=np.float32)

    out = [None, None]

    def run(i):
        out[i] = cached_embeddings("enc", "ds", ["p", "q", "r"], 128, slow)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [["p", "q", "r"]]  # the second waited on the lock, then read the store
    assert np.array_equal(out[0], out[1])


def _tiny_bert(tmp_path):
    from transformers import BertConfig, BertModel, BertTokenizer

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "synthetic", "item", "of", "class"]
    words += [str(d) for d in range(10)] + [f"##{d}" for d in range(10)]
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(words) + "\n")
    tokenizer = BertTokenizer(vocab_file=str(vocab))
    torch.manual_seed(0)
    model = BertModel(BertConfig(vocab_size=len(words), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                 intermediate_size=64, max_position_embeddings=64))
    return model, tokenizer


def test_finetune_backbone_trains_every_weight_and_cold_starts(tmp_path):
    dataset, _, _ = synthetic_problem(n_train=60, n_val=20, n_test=20, n_labels=4, seed=0)
    model, tokenizer = _tiny_bert(tmp_path)
    pristine = {k: v.clone() for k, v in model.state_dict().items()}
    fb = FinetuneBackbone(model, tokenizer, dataset.texts, 4, max_length=16, hidden_size=16, dropout=0.1, lr=1e-3,
                          epochs=2, patience=2, batch_size=16)
    labels = dataset.labels
    train, val = np.arange(60), np.arange(60, 80)
    fb.fit(train, labels[train], np.ones(60), np.zeros((60, 4), bool), 0.4, val, labels[val], seed=0)
    assert isinstance(fb, QueryModel)
    body = {k: v for k, v in fb.state_dict().items() if k.startswith("body.")}
    assert any(not torch.equal(body[f"body.{k}"], pristine[k]) for k in pristine if f"body.{k}" in body)
    assert all(torch.equal(model.state_dict()[k], pristine[k]) for k in pristine)  # pretrained copy untouched
    idx = np.arange(80, 100)
    assert fb.predict_proba(idx).shape == (20, 4)
    assert fb.embed(idx).shape == (20, 32)
    assert fb.predict_proba_samples(idx, 3, np.random.default_rng(0)).shape == (3, 20, 4)
    assert fb.perturbed_proba(idx, 1e-3, 2, np.random.default_rng(0)).shape == (2, 20, 4)


def test_finetune_run_al_with_minilm_l6(tmp_path):
    """A short full fine-tuning AL run with the offline minilm-l6 (1 iteration, few items, 1 epoch)."""
    from mollia.models import load_encoder

    dataset, _, _ = synthetic_problem(n_train=40, n_val=10, n_test=10, n_labels=3, seed=2)
    cfg = ALConfig(dataset="synthetic", annotator="oracle", strategy="coreset", backbone="finetune:minilm-l6",
                   iterations=1, initial=8, batch_size=8, epochs=1, patience=1, max_length=32)
    m = run_al(cfg, tmp_path / "ft", dataset, None, encoder_loader=load_encoder, progress=False)
    assert m["done"] and [r["n_labelled"] for r in m["rows"]] == [8, 16]
    assert all(0 <= r["micro_f1"] <= 1 for r in m["rows"])


# -- early stopping on a small validation split; the linear head (issue 13) ---------------------
def _small_val_problem(seed):
    """10 well separated classes, 50 labelled items, 10 validation items: validation micro-F1 moves in
    steps of .1 and is flat over the first epochs, where the old rule kept an untrained epoch."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(10, 32))
    labels = rng.integers(0, 10, 1000)
    feats = (centres[labels] + 0.9 * rng.normal(size=(1000, 32))).astype(np.float32)
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)  # unit length, like the cached sentence embeddings
    train, val, test = np.arange(50), np.arange(50, 60), np.arange(100, 1000)
    return feats, labels, train, val, test


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_head_early_stopping_on_a_tiny_validation_split_keeps_up_with_logistic_regression(seed):
    from sklearn.linear_model import LogisticRegression

    feats, labels, train, val, test = _small_val_problem(seed)
    lr_acc = (LogisticRegression(max_iter=2000).fit(feats[train], labels[train]).predict(feats[test])
              == labels[test]).mean()
    acc = {}
    for selection in ("f1", "f1+loss"):
        head = HeadBackbone(feats, 10, selection=selection, epochs=40, patience=10)
        head.fit(train, labels[train], np.ones(50), np.zeros((50, 10), bool), 0.0, val, labels[val], seed=seed)
        acc[selection] = (head.predict_proba(test).argmax(1) == labels[test]).mean()
    assert acc["f1+loss"] >= lr_acc - 0.02, (acc, lr_acc)
    assert acc["f1+loss"] >= acc["f1"]


def test_linear_head_is_a_query_model_with_mc_dropout_and_noise():
    feats, labels, train, val, test = _small_val_problem(0)
    head = HeadBackbone(feats, 10, hidden_size=0, lr=1e-2, epochs=10, patience=5)
    head.fit(train, labels[train], np.ones(50), np.zeros((50, 10), bool), 0.0, val, labels[val], seed=0)
    assert [k for k in head.state_dict()] == ["head.out.weight", "head.out.bias"]
    assert isinstance(head, QueryModel)
    samples = head.predict_proba_samples(test[:5], 3, np.random.default_rng(0))
    assert samples.shape == (3, 5, 10) and not np.allclose(samples[0], samples[1])
    assert head.perturbed_proba(test[:5], 1e-3, 2, np.random.default_rng(0)).shape == (2, 5, 10)
    for name in ("coreset", "bemps", "noise_stability"):
        picked = make_strategy(name).query(head, test, train, 5, np.random.default_rng(0))
        assert len(set(np.asarray(picked).tolist())) == 5


def test_selection_and_hidden_size_are_validated():
    from mollia.al.config import ConfigError

    assert ALConfig().selection == "f1+loss" and ALConfig(hidden_size=0).hidden_size == 0
    with pytest.raises(ConfigError, match="selection"):
        ALConfig(selection="best")
    with pytest.raises(ConfigError, match="hidden_size"):
        ALConfig(hidden_size=-1)
