"""DA and PAG: the augmentation itself and the training on re-probed texts, with a stub prober."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from mollia.annotators import make_annotator
from mollia.annotators.augment import augment_text, augment_texts
from mollia.annotators.types import LabelledSet
from mollia.errors import DataError, MolliaError
from mollia.probes.table import ProbeTable

LABELS = ("neg", "pos")
MODELS = ("m1", "m2")


def stub_probe(texts, models=MODELS):
    """Deterministic 'LLM' probes: a text containing 'good' leans positive (as the pool's do)."""
    n = len(texts)
    z = np.zeros((n, len(models), 2))
    for i, t in enumerate(texts):
        h = int(hashlib.sha1(t.encode()).hexdigest()[:6], 16) / 0xFFFFFF
        p = 0.8 if "good" in t.split() else 0.2
        z[i, :, 1] = np.clip(p + 0.1 * (h - 0.5), 0, 1)
        z[i, :, 0] = 1 - z[i, :, 1]
    c = np.round(z * 10) / 10
    return ProbeTable("toy", LABELS, tuple(models), np.array([f"x{i}" for i in range(n)]), z, c)


class StubProber:
    def __init__(self, models=MODELS):
        self.calls: list[list[str]] = []
        self.models = models

    def __call__(self, texts):
        self.calls.append(list(texts))
        return stub_probe(texts, self.models)


def toy_pool(n=120, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n)
    words = ["the", "film", "was", "quite", "long", "and", "we", "saw", "it"]
    texts = [" ".join(list(rng.choice(words, 6)) + (["good"] if y else ["bad"])) for y in truth]
    probed = stub_probe(texts)
    ids = np.arange(n)
    table = ProbeTable("toy", LABELS, MODELS, ids, probed.z, probed.c)
    return table, truth, dict(zip(ids.tolist(), texts))


def test_vocabulary_augmentation_is_seeded_and_changes_text():
    text = "the quick brown fox jumps over the lazy dog again"
    a = augment_texts([text, "two words"], n_aug=5, seed=3)
    b = augment_texts([text, "two words"], n_aug=5, seed=3)
    c = augment_texts([text, "two words"], n_aug=5, seed=4)
    assert a == b and a != c
    assert all(t != text for t in a[0])
    rng = np.random.default_rng(0)
    assert len(augment_text(text, rng, operation="delete").split()) == len(text.split()) - 1
    assert sorted(augment_text(text, rng, operation="swap").split()) == sorted(text.split())
    assert len(augment_text(text, rng, operation="insert").split()) == len(text.split()) + 1
    assert augment_text("single", rng) == "single"
    with pytest.raises(DataError):
        augment_text(text, rng, operation="synonym", synonyms=None)


def test_da_reprobes_augmented_labelled_texts_and_trains_xgboost():
    table, truth, texts = toy_pool()
    lab = LabelledSet(table.item_ids[:20], truth[:20])
    prober = StubProber()
    da = make_annotator("da", prober=prober, texts=texts, n_aug=3, random_state=1).fit(table, lab)
    assert len(prober.calls) == 1 and len(prober.calls[0]) == 20 * 3  # only the labelled texts, n_aug each
    assert set(prober.calls[0]).isdisjoint(texts[i] for i in range(20, 120))  # never the pool's texts
    assert da.n_training_rows_ == 20 * (1 + 3)
    ann = da.annotate(table.item_ids[20:])
    assert (ann.y_plus == truth[20:]).mean() > 0.9
    again = make_annotator("da", prober=StubProber(), texts=texts, n_aug=3, random_state=1).fit(table, lab)
    assert np.array_equal(again.annotate().proba, da.annotate().proba)


def test_pag_aggregates_paraphrases_of_the_labelled_texts():
    table, truth, texts = toy_pool()
    lab = LabelledSet(table.item_ids[:20], truth[:20])
    seen = []

    def paraphraser(batch, n):
        seen.extend(batch)
        return [[f"{t} version {k}" for k in range(n)] for t in batch]

    prober = StubProber()
    pag = make_annotator("pag", prober=prober, paraphraser=paraphraser, texts=texts, n_aug=2).fit(table, lab)
    assert seen == [texts[i] for i in range(20)]
    assert len(prober.calls[0]) == 40 and pag.n_training_rows_ == 20 + 40
    assert (pag.annotate(table.item_ids[20:]).y_plus == truth[20:]).mean() > 0.9


def test_live_methods_fail_clearly_without_texts_or_with_a_mismatched_prober():
    table, truth, texts = toy_pool()
    lab = LabelledSet(table.item_ids[:10], truth[:10])
    with pytest.raises(MolliaError, match="texts"):
        make_annotator("da", prober=StubProber()).fit(table, lab)
    with pytest.raises(DataError, match="no text for labelled item"):
        make_annotator("da", prober=StubProber(), texts={0: "a b c"}).fit(table, lab)
    with pytest.raises(DataError, match="re-probed texts have models"):
        make_annotator("da", prober=StubProber(models=("other", "m2")), texts=texts).fit(table, lab)


def test_reprobing_uses_the_pools_probe_settings():
    """Augmented texts are probed with the T, temperature, ... that produced the pool's features."""
    import numpy as np
    import pytest

    from mollia.annotators.augment import probe_settings
    from mollia.errors import DataError
    from mollia.probes.table import ProbeTable

    meta = {"T": 5, "temperature": 0.7, "top_p": 0.9, "max_new_tokens": 8, "seed": 3, "source": "replay"}
    z = np.full((2, 2, 2), 0.5)
    table = ProbeTable("toy", ("a", "b"), ("m1", "m2"), np.arange(2), z, z, per_model={"m1": meta, "m2": meta})
    assert probe_settings(table) == {"T": 5, "temperature": 0.7, "top_p": 0.9, "max_new_tokens": 8, "seed": 3}
    clash = ProbeTable("toy", ("a", "b"), ("m1", "m2"), np.arange(2), z, z,
                       per_model={"m1": meta, "m2": dict(meta, T=10)})
    with pytest.raises(DataError, match="different T"):
        probe_settings(clash)
