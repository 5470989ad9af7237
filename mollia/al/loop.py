"""Algorithm 1 of the paper (MoLLIA training and update strategy), resumable.

    config = ALConfig(dataset="trec", probes="/path/to/probes", strategy="coreset", annotator="molam")
    metrics = run_al(config, "results/al/trec-coreset-molam-0")

Two layers, as small-text's ``PoolBasedActiveLearner``: `ActiveLearner` holds one run in memory and
does one iteration per call (``initialize`` for iteration 0, ``step`` for the others); `run_al` is
the driver: it loads the inputs, restores a saved run, and writes each iteration's records and
state (``checkpoint.RunState``) so a killed run resumes with identical numbers.

Iteration 0 trains the AL model on the initial labelled set (``initial`` pool items with their
ground-truth labels, W = 1, no negative labels). Iteration i = 1..iterations:

1. the strategy queries ``batch_size`` items of the unlabelled pool with the current model;
2. their labels y+ and negative labels y- come from the annotator (Eq. 6; fitted once, see
   annotate.py), never from the ground truth unless the annotator is the oracle;
3. d_anno = [argmax of the PREVIOUS iteration's model != y+] (computed before the items are
   trained on) and W_d = 1 or alpha (Eq. 8); both stay as computed when the item was added;
4. the items move to the labelled set; the model is retrained from a cold start with
   L = W_d * CE + lambda_i * L_neg (Eqs. 7, 9), lambda_i linear from lambda_start to lambda_end;
5. it is evaluated on the test split, and the row is written (metrics.json + state) atomically.

Switches: ``negative_learning=False`` drops L_neg (y- ignored), ``discrepancy=False`` sets every
W_d = 1: the ablation variants A (both on), B (no discrepancy), C (no negatives), D (neither).
The ``oracle`` arm trains with plain cross-entropy (W = 1, no y-) whatever the switches say;
``oracle-robust``, an explicit ablation, gives the same true labels the robust loss.
The pool is the train split's items that have probes; early stopping uses the validation split's
true labels (counted in each row as ``n_validation_labels``) or, with ``early_stopping="annotated"``,
a seeded held-out share of the labelled set with its annotated labels (`annotated_holdout`).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable

import numpy as np

from mollia.al.annotate import AnnotatorFactory, annotate_pool
from mollia.al.backbones import EmbedFn, make_backbone
from mollia.al.budget import doubt_scores, route_to_human
from mollia.al.checkpoint import LabelledItems, RunState, metrics_document
from mollia.al.config import ALConfig, ConfigError
from mollia.al.loss import discrepancy_weights, lambda_schedule
from mollia.al.memory import peak_memory_mb, reset_peak
from mollia.al.records import added_rows, initial_row_fields
from mollia.annotators.types import LabelledSet
from mollia.data.dataset import Dataset
from mollia.errors import DataError
from mollia.probes.table import ProbeTable

log = logging.getLogger(__name__)

# scores one iteration's test predictions: (y_true, y_pred, n_labels) -> {"micro_f1": ..., ...}.
# Scoring against ground truth is the study's: the driver is given it (mollia.study.scoring.test_metrics).
TestScorer = Callable[[np.ndarray, np.ndarray, int], dict]

# independent random streams of a run, each a pure function of (seed, stream, iteration)
_POOL, _INITIAL, _QUERY, _TRAIN, _HOLDOUT = 0, 1, 2, 3, 4


def _rng(seed: int, stream: int, iteration: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, stream, iteration])


def _train_seed(seed: int, iteration: int) -> int:
    return int(np.random.SeedSequence([seed, _TRAIN, iteration]).generate_state(1)[0])


def load_probes(path: str | Path, dataset: str) -> ProbeTable:
    """A probe table from ``path``: the engine's loader (cache file/folder or released arrays), or,
    where that module is unavailable, the paper-array importer."""
    try:
        from mollia.probes.replay import load_probes as replay_load
    except ImportError:
        from mollia.probes.paper import load_released

        return load_released(path, dataset).table
    return replay_load(path, dataset)


class ALData:
    """The AL dataset: pool, validation and test items of a `Dataset`, addressed by *position*
    (0..n_pool-1 the pool, then validation, then test). Strategies and backbones see positions."""

    def __init__(self, dataset: Dataset, probes: ProbeTable | None, config: ALConfig):
        frame = dataset.frame
        split = frame["split"].to_numpy()
        ids = frame["id"].to_numpy()
        train = np.flatnonzero(split == "train")
        if probes is not None:
            train = train[np.isin(ids[train], probes.item_ids)]
            if len(train) == 0:
                raise DataError(f"no train item of {dataset.name!r} has probes in the probe table "
                                f"(table of {probes.dataset!r}, {len(probes)} items): wrong dataset or probes?")
        if config.pool_size is not None and config.pool_size < len(train):
            train = np.sort(_rng(config.seed, _POOL).choice(train, config.pool_size, replace=False))
        val, test = np.flatnonzero(split == "validation"), np.flatnonzero(split == "test")
        for name, part in (("validation", val), ("test", test)):
            if len(part) == 0:
                raise DataError(f"dataset {dataset.name!r} has no {name} split; the AL loop needs one "
                                "(validation for early stopping, test for the records)")
        if len(train) < config.initial:
            raise DataError(f"pool of {len(train)} items is smaller than the initial set ({config.initial})")
        rows = np.concatenate([train, val, test])
        self.n_pool = len(train)
        self.ids = ids[rows]
        self.texts = frame["text"].to_numpy()[rows].tolist()
        self.labels = dataset.labels[rows]
        self.pool = np.arange(self.n_pool)
        self.val = np.arange(self.n_pool, self.n_pool + len(val))
        self.test = np.arange(self.n_pool + len(val), len(rows))

    def truth_of_ids(self, ids: np.ndarray) -> np.ndarray:
        """Ground truth by item id (used ONLY by the oracle annotator)."""
        import pandas as pd

        return self.labels[pd.Index(self.ids).get_indexer(list(ids))]


def annotated_holdout(config: ALConfig, n_labelled: int, iteration: int) -> np.ndarray:
    """Boolean mask over the labelled set (in order): the seeded ``early_stopping_holdout`` share
    (at least one item, at least one left to train on) held out of this iteration's training for
    ``early_stopping="annotated"``; it early-stops on the labels those items were annotated with."""
    k = min(max(1, int(round(config.early_stopping_holdout * n_labelled))), n_labelled - 1)
    mask = np.zeros(n_labelled, dtype=bool)
    mask[_rng(config.seed, _HOLDOUT, iteration).permutation(n_labelled)[:k]] = True
    return mask


def initial_positions(config: ALConfig, data: ALData) -> np.ndarray:
    """The seeded initial set (pool positions), labelled with the ground truth at iteration 0."""
    return np.sort(_rng(config.seed, _INITIAL).choice(data.pool, config.initial, replace=False))


class ActiveLearner:
    """One AL run in memory, one iteration of Algorithm 1 per call (the split of small-text's
    ``PoolBasedActiveLearner``: ``initialize`` trains on the initial set, ``step`` does
    query -> annotate -> weight -> train -> evaluate). It reads and writes no file: `run_al` (the
    driver) restores it from a saved state and persists what each step returns.

    ``labelled`` is the labelled set so far (empty for a fresh run); ``annotation`` the pool's labels
    by the fitted annotator; ``consistency`` the LLMs' c of the pool (None without probes).
    """

    def __init__(self, config: ALConfig, data: ALData, n_labels: int, annotation, backbone, strategy,
                 consistency: np.ndarray | None = None, labelled: LabelledItems | None = None, *,
                 score_test: TestScorer):
        self.config = config
        self.score_test = score_test
        self.data = data
        self.annotation = annotation
        self.backbone = backbone
        self.strategy = strategy
        self.consistency = consistency
        self.labelled = LabelledItems() if labelled is None else labelled
        self.n_labels = n_labels
        self.objective = config.training_objective()

    # -- the parts of one iteration --------------------------------------------------------------
    def unlabelled(self) -> np.ndarray:
        taken = np.zeros(self.data.n_pool, dtype=bool)
        taken[self.labelled.positions] = True
        return self.data.pool[~taken]

    def query(self, iteration: int) -> np.ndarray:
        """Positions of the next batch (at most ``batch_size``; empty when the pool is exhausted),
        chosen by the strategy with the current model."""
        unlabelled = self.unlabelled()
        n = min(self.config.batch_size, len(unlabelled))
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        return np.asarray(self.strategy.query(self.backbone, unlabelled, np.asarray(self.labelled.positions), n,
                                              _rng(self.config.seed, _QUERY, iteration)), dtype=np.int64)

    def update(self, chosen: np.ndarray, iteration: int) -> dict:
        """Annotate ``chosen`` (y+, y-), flag discrepancies with the CURRENT (previous iteration's)
        model, weight them (Eq. 8) and add them to the labelled set; returns the record fields of
        the added items."""
        config, data = self.config, self.data
        n = len(chosen)
        prev_proba = self.backbone.predict_proba(chosen)  # the previous iteration's model
        y_llm = self.annotation.y_plus[chosen].astype(np.int64)
        d_anno = prev_proba.argmax(axis=1) != y_llm
        weights = discrepancy_weights(d_anno, config.alpha) if config.uses_discrepancy else np.ones(n)
        soft = np.asarray(self.annotation.proba[chosen], dtype=np.float64)
        if config.confidence_weighting:  # the annotator's q(y+|x) (mollia.al.noisy)
            weights = weights * soft[np.arange(n), y_llm]
        negatives = self.annotation.negatives[chosen].astype(bool) & config.uses_negatives
        batch_c = None if self.consistency is None else self.consistency[chosen]
        human = np.zeros(n, dtype=bool)
        if config.human_budget:  # hybrid budget (mollia.al.budget): the h most doubtful get a human's label
            scores = doubt_scores(config.human_route, y_llm, model_proba=prev_proba, consistency=batch_c,
                                  annotator_proba=soft)
            human[route_to_human(scores, config.human_budget)] = True
        y_plus = np.where(human, data.labels[chosen], y_llm)  # the human oracle: ONLY the routed items
        weights = np.where(human, 1.0, weights)
        negatives[human] = False
        soft[human] = np.eye(self.n_labels)[y_plus[human]]
        negatives[np.arange(n), y_plus] = False  # never push away from the label trained on
        self.labelled.add(chosen, data.ids[chosen], y_plus, weights, negatives, d_anno, iteration, soft=soft,
                          trusted=human.astype(int))
        extra = added_rows(y_llm, data.labels[chosen], negatives, d_anno, prev_proba, batch_c)
        extra.update(n_human=int(human.sum()), n_human_caught=int((y_llm[human] != y_plus[human]).sum()),
                     trained_label_accuracy=float((y_plus == data.labels[chosen]).mean()),
                     n_validation_labels=self.n_validation_labels)
        return extra

    def train(self, iteration: int) -> float:
        """Retrain from a cold start on the labelled set (Eqs. 7, 9); returns the lambda used
        (0 when negative learning is switched off: variants C, D, the oracle)."""
        config, data = self.config, self.data
        lam = lambda_schedule(iteration, config.iterations, config.lambda_start, config.lambda_end) \
            if config.uses_negatives else 0.0
        pos, y, w, neg = self.labelled.arrays()
        soft_targets, trusted = self.labelled.soft_and_trusted()
        val_pos, val_y = data.val, data.labels[data.val]
        if config.early_stopping == "annotated":  # no human label beyond the labelled set's own
            held = annotated_holdout(config, len(pos), iteration)
            val_pos, val_y, keep = pos[held], y[held], ~held
            pos, y, w, neg, trusted = pos[keep], y[keep], w[keep], neg[keep], trusted[keep]
            soft_targets = None if soft_targets is None else soft_targets[keep]
        self.backbone.fit(pos, y, w, neg, lam, val_pos, val_y, seed=_train_seed(config.seed, iteration),
                          objective=self.objective, soft_targets=soft_targets, trusted=trusted)
        return lam

    @property
    def n_validation_labels(self) -> int:
        """Human labels of the validation split this run reads (0 when it early-stops on annotated labels)."""
        return int(len(self.data.val)) if self.config.early_stopping == "validation" else 0

    def evaluate(self) -> dict[str, float]:
        """Test-split metrics of the current model, scored by ``score_test`` (the study's)."""
        pred = self.backbone.predict_proba(self.data.test).argmax(axis=1)
        return self.score_test(self.data.labels[self.data.test], pred, self.n_labels)

    # -- whole iterations ------------------------------------------------------------------------
    def initialize(self) -> dict:
        """Iteration 0: the initial set with its ground-truth labels (W = 1, no y-), train, evaluate."""
        return self._iteration(0, None)

    def step(self, iteration: int) -> dict | None:
        """Iteration ``iteration`` >= 1 of Algorithm 1; its record row, or None when the pool is
        exhausted (nothing was changed)."""
        return self._iteration(iteration, iteration)

    def _iteration(self, iteration: int, query_at: int | None) -> dict | None:
        t0 = time.perf_counter()
        reset_peak(self.config.device)
        data = self.data
        if query_at is None:
            pos = initial_positions(self.config, data)
            n0 = len(pos)
            self.labelled.add(pos, data.ids[pos], data.labels[pos], np.ones(n0),
                              np.zeros((n0, self.n_labels), dtype=bool), np.zeros(n0, dtype=int), 0,
                              soft=np.eye(self.n_labels)[data.labels[pos]], trusted=np.ones(n0, dtype=int))
            extra = {**initial_row_fields(), "n_human": 0, "n_human_caught": 0, "trained_label_accuracy": None,
                     "n_validation_labels": self.n_validation_labels}
        else:
            chosen = self.query(iteration)
            if len(chosen) == 0:
                return None
            extra = self.update(chosen, iteration)
        lam = self.train(iteration)
        scores = self.evaluate()
        peak, kind = peak_memory_mb(self.config.device)
        return {"iteration": iteration, "n_labelled": len(self.labelled.positions), **scores, **extra,
                "lambda": lam, "wall_s": time.perf_counter() - t0, "peak_memory_mb": peak, "memory_kind": kind}

    @property
    def pool_exhausted(self) -> bool:
        return len(self.labelled.positions) >= self.data.n_pool


def _text_features(config: ALConfig, dataset_name: str, data: ALData, embed_fn: EmbedFn | None,
                   progress: bool) -> np.ndarray | None:
    """The pool's frozen-encoder embeddings for annotators that read texts (``stack-text``), else None.
    The AL encoder's pretrained weights (never fine-tuned here): no label reaches them."""
    from mollia.annotators.registry import needs_text_features

    if config.is_oracle or not needs_text_features(config.annotator):
        return None
    from mollia.al.backbones.head import head_features

    pool_texts = [data.texts[i] for i in data.pool]
    return head_features(config.encoder, dataset_name, pool_texts, config.max_length, config.device, embed_fn,
                         progress)


def run_al(config: ALConfig, out_dir: str | Path, dataset: Dataset | None = None, probes: ProbeTable | None = None,
           *, score_test: TestScorer, embed_fn: EmbedFn | None = None,
           annotator_factory: AnnotatorFactory | None = None, encoder_loader=None,
           on_iteration: Callable[[dict], None] | None = None, progress: bool = True, wait: bool = False) -> dict:
    """Run (or resume) one AL configuration; returns the metrics.json document.

    ``score_test(y_true, y_pred, n_labels) -> dict`` scores each iteration's model on the test
    split: scoring against ground truth is the study's (`mollia.study.scoring.test_metrics`;
    `mollia.study.active_learning.run_al` is this driver with it).

    The driver of `ActiveLearner`: loads the inputs, restores a saved run (labelled set, annotation,
    model), runs the remaining iterations and writes each one's records and state atomically.
    ``dataset`` / ``probes`` override loading by name / path. Test hooks: ``embed_fn`` replaces
    the frozen encoder in head mode, ``annotator_factory`` replaces ``make_annotator``,
    ``encoder_loader`` replaces ``load_encoder`` in finetune mode, ``on_iteration(row)`` is
    called after each iteration's records are on disk.

    The run holds ``out_dir`` exclusively (`mollia.al.runlock`): a second run of the same folder
    raises `RunLocked` naming the holder, or with ``wait`` waits for it. Ctrl-C raises
    `Interrupted` saying after which iteration (everything before it is on disk).
    """
    from mollia.al.runlock import run_lock

    with run_lock(out_dir, wait=wait, on_wait=lambda message: log.warning("%s", message)):
        return _run_locked(config, out_dir, dataset, probes, score_test=score_test, embed_fn=embed_fn,
                           annotator_factory=annotator_factory, encoder_loader=encoder_loader,
                           on_iteration=on_iteration, progress=progress)


def _run_locked(config: ALConfig, out_dir: str | Path, dataset: Dataset | None, probes: ProbeTable | None, *,
                score_test, embed_fn, annotator_factory, encoder_loader, on_iteration, progress: bool) -> dict:
    params = config.to_params()
    state_io = RunState(out_dir)
    saved = state_io.load(params)
    if saved is not None and saved.get("done"):
        finished = metrics_document(params, saved["rows"], True)
        state_io.sync_metrics(finished)  # a kill between state.json and metrics.json left it behind
        return finished

    rows, start = ([], 0) if saved is None else (list(saved["rows"]), int(saved["iteration"]) + 1)
    try:
        learner = _build_learner(config, state_io, saved, dataset, probes, score_test=score_test, embed_fn=embed_fn,
                                 annotator_factory=annotator_factory, encoder_loader=encoder_loader, progress=progress)
        return _iterate(config, params, state_io, learner, rows, start, on_iteration, progress)
    except KeyboardInterrupt:
        raise _interrupted(state_io, params) from None


def _iterate(config: ALConfig, params: dict, state_io: RunState, learner: "ActiveLearner", rows: list[dict],
             start: int, on_iteration: Callable[[dict], None] | None, progress: bool) -> dict:
    """Iterations ``start..config.iterations``, each saved before the next; stops early when the pool
    is exhausted, saying so."""
    from tqdm.auto import tqdm

    metrics = metrics_document(params, rows, False)
    # a manual bar: tqdm over an iterable counts an item only when the next is asked for, so the
    # `break` after the last iteration left a finished run's bar at iterations / (iterations + 1)
    bar = tqdm(desc=f"AL {config.strategy}/{config.annotator}", disable=not progress, initial=start,
               total=config.iterations + 1, unit="it")
    try:
        for it in range(start, config.iterations + 1):
            row = learner.initialize() if it == 0 else learner.step(it)
            if row is None:
                _say_pool_exhausted(bar, it - 1, learner.data.n_pool, config.iterations)
                break
            rows.append(row)
            done = it == config.iterations or learner.pool_exhausted
            metrics = state_io.save_iteration(params, it, learner.labelled, rows, learner.backbone.state_dict(), done)
            bar.update(1)
            bar.set_postfix(micro_f1=f"{row['micro_f1']:.3f}")
            if on_iteration is not None:
                on_iteration(row)
            if done:
                if it < config.iterations:
                    _say_pool_exhausted(bar, it, learner.data.n_pool, config.iterations)
                break
    finally:
        bar.close()
    if not metrics["done"]:  # the pool ran out before the last iteration
        metrics = metrics_document(params, rows, True)
        state_io.mark_done(metrics)
    return metrics


def pool_exhausted_message(iteration: int, n_pool: int, iterations: int) -> str:
    return (f"pool exhausted after iteration {iteration}: all {n_pool} pool items are labelled, so the run "
            f"stops before the {iterations} iterations asked for (a larger pool or a smaller --batch-size "
            "would go on)")


def _say_pool_exhausted(bar, iteration: int, n_pool: int, iterations: int) -> None:
    """Log the early stop and fill the bar: the run is finished, not stuck at 86%."""
    log.warning("%s", pool_exhausted_message(iteration, n_pool, iterations))
    bar.total = bar.n
    bar.refresh()


def _interrupted(state_io: RunState, params: dict):
    """The `Interrupted` error of a Ctrl-C: after which iteration the run stands (what is on disk)."""
    from mollia.errors import Interrupted

    try:
        saved = state_io.load(params)
    except Exception:  # the message must not fail: it only reports what is on disk
        saved = None
    where = "before its first iteration finished" if not saved else f"after iteration {saved['iteration']}"
    return Interrupted(f"interrupted {where}; every finished iteration is saved in {state_io.out_dir}: rerun the same "
                       "command to resume (the numbers are identical to an uninterrupted run)")


def _build_learner(config: ALConfig, state_io: RunState, saved: dict | None, dataset: Dataset | None,
                   probes: ProbeTable | None, *, score_test, embed_fn, annotator_factory, encoder_loader,
                   progress: bool) -> ActiveLearner:
    """Load (or take) the dataset and probes, annotate the pool once (or reload that annotation),
    build the backbone and strategy, and restore the labelled set and model of ``saved``."""
    from mollia.al.strategies import make_strategy

    if dataset is None:
        from mollia.data import load_dataset

        dataset = load_dataset(config.dataset, source=config.dataset_source)
    from mollia.data.user_registry import dataset_name

    if dataset.name != dataset_name(config.dataset):
        raise ConfigError(f"config.dataset is {config.dataset!r} but the dataset given is {dataset.name!r}")
    if probes is None and config.probes is not None:
        probes = load_probes(config.probes, config.dataset)
    if probes is not None and [s.lower() for s in probes.label_names] != [s.lower() for s in dataset.label_names]:
        raise DataError(f"probe labels {list(probes.label_names)} differ from the dataset's {list(dataset.label_names)}")
    if probes is None and not config.is_oracle:
        raise DataError(f"annotator {config.annotator!r} needs LLM probes (--probes PATH); only 'oracle' runs without")

    data = ALData(dataset, probes, config)
    K = dataset.n_labels
    strategy = make_strategy(config.strategy, **config.strategy_params)
    initial_pos = initial_positions(config, data)
    annotation = state_io.load_annotation() if saved is not None else None
    if annotation is None:
        initial = LabelledSet(ids=data.ids[initial_pos], labels=data.labels[initial_pos])
        annotation = annotate_pool(config.annotator, data.ids[data.pool], initial, probes, K,
                                   data.truth_of_ids, config.annotator_params, annotator_factory,
                                   seed=config.seed,
                                   text_features=_text_features(config, dataset.name, data, embed_fn, progress))
        state_io.save_annotation(annotation)
    if len(annotation) != data.n_pool or not np.array_equal(annotation.item_ids, data.ids[data.pool]):
        raise DataError("the pool annotation does not cover the pool in order (a stale state folder?)")
    consistency = None if probes is None else probes.c[probes.positions(data.ids[data.pool])]

    backbone = make_backbone(config, dataset.name, data.texts, K, embed_fn=embed_fn,
                             encoder_loader=encoder_loader, progress=progress)
    labelled = None
    if saved is not None:
        labelled = LabelledItems(**saved["labelled"])
        backbone.load_state_dict(state_io.load_model(int(saved["iteration"])))
    return ActiveLearner(config, data, K, annotation, backbone, strategy, consistency, labelled,
                         score_test=score_test)
