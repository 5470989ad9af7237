"""Annotators inside the AL loop: the oracle (ground truth) and adapters to ``mollia.annotators``.

A non-oracle annotator is fitted ONCE, on the probes of the pool and the initial labelled set's
labels only (a `LabelledSet`: nothing else of the ground truth ever reaches it), and then labels
the whole pool in one call; the loop reads the labels of the items it queries from that
annotation (equivalent to labelling each queried batch, since the fitted annotator is fixed, and
it makes resuming exact: the annotation is stored with the run's state).
No LLM runs here: annotators read the probe table.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Callable

import numpy as np

from mollia.al.config import GROUND_TRUTH_ANNOTATORS, ORACLE
from mollia.annotators.types import Annotation, LabelledSet
from mollia.errors import CacheError, DataError
from mollia.paths import mollia_home
from mollia.probes.table import ProbeTable

log = logging.getLogger(__name__)

AnnotatorFactory = Callable[..., object]


def oracle_annotation(item_ids: np.ndarray, labels: np.ndarray, n_labels: int, method: str = ORACLE) -> Annotation:
    """Ground truth as an annotation: one-hot probabilities and NO negative labels (a human oracle
    gives the label, not a list of excluded ones; so negative learning is a no-op with the oracle)."""
    labels = np.asarray(labels, dtype=np.int64)
    proba = np.eye(n_labels)[labels]
    return Annotation(method, np.asarray(item_ids), labels, proba, np.zeros_like(proba, dtype=bool))


def annotate_pool(annotator: str, pool_ids: np.ndarray, initial: LabelledSet, probes: ProbeTable | None,
                  n_labels: int, ground_truth: Callable[[np.ndarray], np.ndarray],
                  params: dict | None = None, factory: AnnotatorFactory | None = None,
                  seed: int | None = None, text_features: np.ndarray | None = None) -> Annotation:
    """Labels (y+, probabilities, y-) of every id in ``pool_ids`` by ``annotator``.

    ``ground_truth(ids)`` is called ONLY for the oracle (and its ``oracle-robust`` ablation). Other annotators get ``probes`` restricted
    to the pool (the unlabelled data MoLAM's pseudo-labelling may use) and ``initial``.
    ``factory`` replaces ``mollia.annotators.make_annotator`` (tests). ``seed`` (the run's) becomes
    the annotator's ``random_state`` where it takes one and ``params`` does not set it.
    ``text_features`` (one row per pool id, the AL encoder's embeddings) go to annotators that read
    texts (``stack-text``).
    """
    pool_ids = np.asarray(pool_ids)
    if annotator in GROUND_TRUTH_ANNOTATORS:
        return oracle_annotation(pool_ids, ground_truth(pool_ids), n_labels, annotator)
    if probes is None:
        raise DataError(f"annotator {annotator!r} reads LLM probes: give --probes (a probe table or the "
                        "released arrays); only 'oracle' runs without them")
    if probes.n_labels != n_labels:
        raise DataError(f"probe table has {probes.n_labels} labels {list(probes.label_names)}, the dataset {n_labels}")
    table = probes.subset(pool_ids)
    cache_path = None
    if factory is None:  # the real annotators are cached on disk; test stand-ins never are
        from mollia.annotators import make_annotator as factory
        from mollia.annotators.registry import accepted_params

        if seed is not None and "random_state" in accepted_params(annotator):
            params = {"random_state": int(seed), **(params or {})}

        from mollia.annotators.registry import needs_text_features

        if needs_text_features(annotator) and text_features is None:
            raise DataError(f"annotator {annotator!r} reads the texts' embeddings: the loop must pass text_features")
        if not needs_text_features(annotator):
            text_features = None
        cache_path = annotation_cache_path(annotator, params or {}, table, initial, text_features)
        cached = _load_cached(cache_path, pool_ids)
        if cached is not None:
            return cached
    extra = {} if text_features is None else {"text_features": np.asarray(text_features)}
    model = factory(annotator, **(params or {}), **extra)
    model.fit(table, initial)
    ann = model.annotate(pool_ids)
    if len(ann) != len(pool_ids) or not np.array_equal(np.asarray(ann.item_ids), pool_ids):
        ann = ann.subset(pool_ids)
    if ann.proba.shape[1] != n_labels:
        raise DataError(f"annotator {annotator!r} returned {ann.proba.shape[1]} classes, expected {n_labels}")
    if cache_path is not None:
        ann.save(cache_path)
    return ann


def annotator_code_version(folder: Path | None = None) -> str:
    """A digest of the annotators' source (every ``*.py`` under ``mollia/annotators``, by relative
    path and content): a cached annotation is only reused by the code that computed it, so a change
    to MoLAM, an ensemble or a baseline invalidates the cache instead of replaying stale labels."""
    folder = Path(__file__).resolve().parents[1] / "annotators" if folder is None else Path(folder)
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def annotation_cache_path(annotator: str, params: dict, table: ProbeTable, initial: LabelledSet,
                          text_features: np.ndarray | None = None, code_version: str | None = None) -> Path:
    """``mollia_home()/annotations/<annotator>-<key>.npz``; the key hashes everything the fitted
    annotator depends on: its name and params, the probes (ids, z, c), the initial set's ids and
    labels, and the annotators' code version (`annotator_code_version`, the default) with the
    package version. Fitting MoLAM takes a minute on a CPU; every strategy of a seed shares one fit."""
    from mollia import __version__

    code_version = annotator_code_version() if code_version is None else str(code_version)
    digest = hashlib.sha256()
    digest.update(json.dumps({"annotator": annotator, "params": params, "models": list(table.models),
                              "labels": list(table.label_names), "mollia": __version__,
                              "code_version": code_version}, sort_keys=True, default=str).encode())
    arrays = [np.asarray(table.item_ids), table.z, table.c, np.asarray(initial.ids), np.asarray(initial.labels)]
    if text_features is not None:
        arrays.append(np.asarray(text_features, dtype=np.float32))
    for arr in arrays:
        digest.update(np.ascontiguousarray(arr).tobytes())
        digest.update(str(arr.dtype).encode())
    safe = annotator.replace(":", "_").replace("/", "_")
    return mollia_home() / "annotations" / f"{safe}-{digest.hexdigest()[:24]}.npz"


def _load_cached(path: Path, pool_ids: np.ndarray) -> Annotation | None:
    if not path.exists():
        return None
    try:
        ann = Annotation.load(path)
    except CacheError as exc:
        log.warning("annotation cache %s unreadable (%s): refitting", path, exc)
        return None
    return ann if np.array_equal(np.asarray(ann.item_ids), pool_ids) else None
