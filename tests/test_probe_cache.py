"""Probe cache: per-batch shards, resume after a kill gives identical numbers, strict errors, replay.

Uses the tiny random LM of `mollia.probes.tiny_lm` (exact numbers, no download, fast)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from mollia.data.dataset import Dataset
from mollia.errors import CacheError, DataError
from mollia.probes.cache import ProbeCache
from mollia.probes.engine import probe_dataset
from mollia.probes.replay import load_probes
from mollia.probes.tiny_lm import tiny_causal_lm

LABELS = ("abbreviation", "entity", "description", "human", "location", "numeric")
QUESTIONS = [
    "What does NASA stand for ?", "Who wrote Hamlet ?", "What is the capital of France ?",
    "How many people live in Tokyo ?", "What is a tornado ?", "Who was the first president ?",
    "Where is the Eiffel tower ?", "What is the population of the world ?", "Why is the sky blue ?",
    "What is the name of the business ?", "How far is the moon ?",
]

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tiny():
    return tiny_causal_lm(seed=3)


@pytest.fixture
def loader(tiny):
    calls = []

    def load(name, device="cpu", dtype=None, quantization=None):
        calls.append(name)
        return tiny

    load.calls = calls
    return load


def make_dataset(texts=QUESTIONS, name="trec"):
    frame = pd.DataFrame({"id": np.arange(100, 100 + len(texts)), "text": texts,
                          "label": np.arange(len(texts)) % len(LABELS), "split": "train"})
    return Dataset.from_frame(name, frame, LABELS)


def run(tmp_path, loader, **kw):
    params = dict(models=["tiny"], T=3, max_new_tokens=4, batch_size=3, cache_dir=tmp_path / "cache",
                  progress=False, loader=loader)
    params.update(kw)
    return probe_dataset(make_dataset(), **params)


def assert_same(a, b):
    np.testing.assert_array_equal(a.item_ids, b.item_ids)
    np.testing.assert_array_equal(a.z, b.z)
    np.testing.assert_array_equal(a.z_first, b.z_first)
    np.testing.assert_array_equal(a.c, b.c)
    pd.testing.assert_frame_equal(a.generations.reset_index(drop=True), b.generations.reset_index(drop=True))


class Kill(Exception):
    pass


def test_resume_after_kill_gives_identical_numbers(tmp_path, loader):
    whole = run(tmp_path / "a", loader)

    def kill_after_two(model, done):
        if done >= 6:
            raise Kill

    with pytest.raises(Kill):
        run(tmp_path / "b", loader, on_batch=kill_after_two)
    folder = next((tmp_path / "b" / "cache").glob("trec/tiny/*"))
    assert [p.name[:11] for p in ProbeCache.shards_in(folder)] == ["part-000001", "part-000002"]
    seen = []
    resumed = run(tmp_path / "b", loader, on_batch=lambda m, done: seen.append(done))
    assert seen == [9, 11]  # only the two unfinished batches were probed
    assert_same(whole, resumed)
    assert len(list(folder.glob("part-*.npz"))) == 1  # compacted after completion


def test_second_run_reads_cache_without_loading_model(tmp_path, loader):
    first = run(tmp_path, loader)
    assert loader.calls == ["tiny"]
    again = run(tmp_path, loader)
    assert loader.calls == ["tiny"]
    assert_same(first, again)
    smaller = run(tmp_path, loader, n=4)
    assert loader.calls == ["tiny"]
    assert_same(first.subset(first.item_ids[:4]), smaller)


def test_other_settings_are_not_reused(tmp_path, loader):
    run(tmp_path, loader, n=4)
    other = run(tmp_path, loader, n=4, T=2)
    assert loader.calls == ["tiny", "tiny"]
    assert other.generations.groupby("item_id").size().eq(2).all()
    run(tmp_path, loader, n=4, seed=1)
    run(tmp_path, loader, n=4, template="Question: {text}\nCategory ({labels}):")
    assert len(loader.calls) == 4
    assert len(list((tmp_path / "cache" / "trec" / "tiny").iterdir())) == 4


def _folder(tmp_path):
    return next((tmp_path / "cache").glob("trec/tiny/*"))


def test_corrupt_shard_raises_cache_error_naming_file(tmp_path, loader):
    run(tmp_path, loader, n=4)
    shard = next(_folder(tmp_path).glob("part-*.npz"))
    good = shard.read_bytes()
    shard.write_bytes(good[: len(good) // 2])
    with pytest.raises(CacheError, match=shard.name):
        run(tmp_path, loader, n=4)
    assert shard.read_bytes() == good[: len(good) // 2]  # left for the user to inspect, not overwritten
    assert loader.calls == ["tiny"]


def test_mismatched_key_file_raises(tmp_path, loader):
    run(tmp_path, loader, n=4)
    key_file = _folder(tmp_path) / "key.json"
    key = json.loads(key_file.read_text())
    key["T"] = 99
    key_file.write_text(json.dumps(key))
    with pytest.raises(CacheError, match="key.json"):
        run(tmp_path, loader, n=4)


def test_changed_text_under_same_id_raises(tmp_path, loader):
    run(tmp_path, loader, n=4)
    changed = make_dataset(["Something else entirely ?"] + QUESTIONS[1:])
    with pytest.raises(CacheError, match="another text"):
        probe_dataset(changed, ["tiny"], n=4, T=3, max_new_tokens=4, batch_size=3, cache_dir=tmp_path / "cache",
                      progress=False, loader=loader)


def test_replay_from_cache_and_table_file(tmp_path, loader):
    table = run(tmp_path, loader)
    for source in (tmp_path / "cache", _folder(tmp_path)):
        replayed = load_probes(source, "trec")
        assert replayed.models == ("tiny",)
        assert_same(table, replayed)
    out = table.save(tmp_path / "table.npz")
    assert_same(table, load_probes(out, "trec"))
    with pytest.raises(DataError):
        load_probes(out, "imdb")
    with pytest.raises(CacheError):
        load_probes(tmp_path / "nowhere", "trec")


def test_replay_released_arrays(paper_dir):
    table = load_probes(paper_dir / "probes", "trec")
    assert table.models[0] == "gemma-2-9b-it" and table.z.shape == (5452, 5, 6)
    assert not hasattr(table, "ground_truth")


def test_shard_layout_is_per_item(tmp_path, loader):
    run(tmp_path, loader, n=4)
    cache_root = tmp_path / "cache"
    folder = _folder(tmp_path)
    with np.load(next(folder.glob("part-*.npz"))) as data:
        assert data["z"].shape == (4, 6) and data["gen_text"].shape == (4, 3)
        assert set(data["item_ids"].tolist()) == {"100", "101", "102", "103"}  # ids as text ...
        assert data["item_id_is_int"].all()                                     # ... and which were ints
    assert ProbeCache.__name__ and cache_root.exists()


def test_cache_shared_with_string_ids_keeps_int_ids_and_resumes(tmp_path, loader):
    """Regression: augmented texts ("aug-..." ids) probed into the same cache used to turn the
    compacted shard's int ids into strings, so a later run missed every cached item and probed
    them all again. Ids now keep their types, and lookups treat 7 and "7" as one item."""
    whole = run(tmp_path, loader, n=6)
    frame = pd.DataFrame({"id": ["aug-1", "aug-2"], "text": ["What is an aardvark ?", "Who painted it ?"],
                          "label": [0, 0], "split": "train"})
    augmented = Dataset.from_frame("trec", frame, LABELS)
    probe_dataset(augmented, ["tiny"], T=3, max_new_tokens=4, batch_size=3, cache_dir=tmp_path / "cache",
                  progress=False, loader=loader)
    assert len(ProbeCache.shards_in(_folder(tmp_path))) == 1  # compacted: int and str ids in one shard
    seen = []
    again = run(tmp_path, loader, n=9, on_batch=lambda m, done: seen.append(done))
    assert seen == [9]  # only the three new items were probed
    assert again.item_ids.dtype.kind == "i"
    assert_same(whole, again.subset(again.item_ids[:6]))
    replayed = load_probes(tmp_path / "cache", "trec")
    assert replayed.item_ids[:9].tolist() == list(range(100, 109))
    assert replayed.item_ids[9:].tolist() == ["aug-1", "aug-2"]


def test_only_cached_takes_the_prefix_every_model_finished_and_loads_nothing(tmp_path, loader):
    run(tmp_path, loader, models=["tiny"], n=6)
    run(tmp_path, loader, models=["other"], n=3)
    assert loader.calls == ["tiny", "other"]
    table = run(tmp_path, loader, models=["tiny", "other"], n=11, only_cached=True)
    assert loader.calls == ["tiny", "other"]  # no model loaded
    assert table.models == ("tiny", "other") and table.item_ids.tolist() == [100, 101, 102]
    assert_same(table.select_models(["tiny"]), run(tmp_path, loader, n=3))
    with pytest.raises(DataError, match="no item that every model"):
        run(tmp_path, loader, models=["tiny", "never"], only_cached=True)


def test_replay_from_a_folder_of_dataset_tables(tmp_path, loader):
    """The committed live probes: a folder holding <dataset>.npz files."""
    table = run(tmp_path, loader)
    table.save(tmp_path / "live" / "trec.npz")
    assert_same(table, load_probes(tmp_path / "live", "trec"))
    with pytest.raises(DataError, match="neither a probe table"):
        load_probes(tmp_path / "live", "imdb")


# -- issue 13: a damaged shard costs only its own items; truncation; estimate and confirmation ---
def test_compaction_keeps_bounded_shards_and_a_damaged_one_costs_only_its_items(tmp_path, loader, monkeypatch):
    import mollia.probes.cache as cache_module

    monkeypatch.setattr(cache_module, "COMPACT_ITEMS", 4)
    whole = run(tmp_path, loader)  # 11 items, batches of 3 -> 4 shards, compacted into 4 + 4 + 3
    shards = ProbeCache.shards_in(_folder(tmp_path))
    assert len(shards) == 3
    damaged = shards[1]
    damaged.write_bytes(damaged.read_bytes()[:100])
    with pytest.raises(CacheError, match=rf"{damaged.name}.*delete it.*rerun the same command; only its items"):
        run(tmp_path, loader)
    damaged.unlink()  # the fix the error names
    seen = []
    again = run(tmp_path, loader, on_batch=lambda m, done: seen.append(done))
    assert seen == [10, 11]  # 7 items read back; only the 4 of the damaged shard probed (batches of 3)
    # re-probed in other batches (other padding): z equal to float rounding, the samples identical
    np.testing.assert_allclose(again.z, whole.z, rtol=1e-5)
    np.testing.assert_array_equal(again.c, whole.c)
    np.testing.assert_array_equal(again.item_ids, whole.item_ids)


def test_compaction_verifies_before_removing_the_batches(tmp_path, loader, monkeypatch):
    import mollia.probes.cache as cache_module

    real = cache_module.read_shard
    calls = {"n": 0}

    def flaky(path, key):  # the merged shard reads back wrong: compaction must keep the per-batch shards
        records = real(path, key)
        if len(records) == 11:
            calls["n"] += 1
            records.z = records.z + 1.0
        return records

    monkeypatch.setattr(cache_module, "read_shard", flaky)
    with pytest.raises(CacheError, match="does not read back as written; the per-batch shards are kept"):
        run(tmp_path, loader)
    assert calls["n"] == 1
    monkeypatch.setattr(cache_module, "read_shard", real)
    assert len(ProbeCache.shards_in(_folder(tmp_path))) == 4  # the 4 batch shards, the bad merge removed
    assert len(run(tmp_path, loader)) == 11 and loader.calls == ["tiny"]  # nothing probed again


def test_max_text_tokens_cuts_texts_and_keys_the_cache(tmp_path, loader):
    from mollia.probes.engine import truncate_text

    assert truncate_text("a b  c d", 2) == "a b ..." and truncate_text("a b", 2) == "a b"
    assert truncate_text("a b c", None) == "a b c"
    full = run(tmp_path, loader, n=4)
    cut = run(tmp_path, loader, n=4, max_text_tokens=2)
    assert loader.calls == ["tiny", "tiny"]  # another key: probed again
    folders = sorted(p.name for p in (tmp_path / "cache" / "trec" / "tiny").iterdir())
    assert len(folders) == 2 and any("-cut2-" in f for f in folders)
    assert cut.per_model["tiny"]["max_text_tokens"] == 2 and "max_text_tokens" not in full.per_model["tiny"]
    assert not np.array_equal(full.z, cut.z)
    with pytest.raises(DataError, match="max_text_tokens must be >= 1"):
        run(tmp_path, loader, n=4, max_text_tokens=0)


def test_estimate_after_a_warm_up_and_a_declined_run_keeps_the_warm_up(tmp_path, loader):
    from mollia.probes.engine import ProbeCancelled

    estimates = []
    with pytest.raises(ProbeCancelled, match="3 warm-up items are cached"):
        run(tmp_path, loader, models=["tiny", "tiny2"], confirm=lambda e: estimates.append(e) or False)
    (estimate,) = estimates
    assert estimate.items == 22 and estimate.models == 2 and estimate.warmup_items == 3
    assert estimate.measured_on == "tiny" and estimate.seconds_per_item > 0
    assert estimate.seconds == pytest.approx(19 * estimate.seconds_per_item)
    assert "22 item-probes to do (2 model(s))" in estimate.line() and "min more" in estimate.line()
    seen = []
    run(tmp_path, loader, models=["tiny", "tiny2"], confirm=lambda e: seen.append(e.items) or True)
    assert seen == [19]  # the warm-up batch was kept
    calls = len(loader.calls)
    run(tmp_path, loader, models=["tiny", "tiny2"], confirm=lambda e: pytest.fail("nothing left to estimate"))
    assert len(loader.calls) == calls
