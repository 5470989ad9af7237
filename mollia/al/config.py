"""`ALConfig`: every parameter of one active-learning run (Algorithm 1), validated.

A run's records (``metrics.json``) store ``params = ALConfig.to_params()``; a resumed run with
different params is refused (CacheError) rather than mixing two configurations in one curve.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from mollia.errors import MolliaError

ORACLE = "oracle"
# The ablation of the oracle arm: the same true labels, trained with the robust loss (W_d of Eq. 8;
# the oracle gives no negative labels, so Eq. 7 stays a no-op). The paper's oracle is ``ORACLE``.
ORACLE_ROBUST = "oracle-robust"
GROUND_TRUTH_ANNOTATORS = (ORACLE, ORACLE_ROBUST)
# early stopping's choice of epoch (mollia.al.backbones.base.TorchBackbone)
SELECTIONS = ("f1+loss", "f1", "loss")
BACKBONE_KINDS = ("head", "finetune")
# Learning-rate defaults: the paper's 5e-5 for full fine-tuning; a freshly initialised MLP head on
# frozen embeddings needs a much larger step to converge within 40 epochs (measured on TREC).
DEFAULT_LR = {"head": 1e-3, "finetune": 5e-5}


# the beyond-the-paper fields and their defaults (left out of the recorded params while at them)
BEYOND_DEFAULTS: dict[str, Any] = {"label_loss": "ce", "loss_params": {}, "confidence_weighting": False,
                                   "small_loss_forget": 0.0, "human_budget": 0, "human_route": "discrepancy",
                                   # not beyond the paper, but added later: left out at its default too,
                                   # so the params of runs saved before it existed still match
                                   "negative_reduction": "sum", "early_stopping": "validation",
                                   "early_stopping_holdout": 0.2}
# where each retraining's early stopping reads its labels: the validation split's ground truth (the
# paper: human labels the run does not pay for) or a held-out part of the labelled set's own labels
EARLY_STOPPING = ("validation", "annotated")


class ConfigError(MolliaError, ValueError):
    """An AL run parameter is out of range or malformed."""


@dataclass(frozen=True)
class ALConfig:
    """Parameters of one AL run. Defaults follow the paper (Implementation section).

    dataset / dataset_source: name for ``mollia.data.load_dataset`` and its source (auto|offline|hub).
    probes: path of the probe table (cache file/folder or released arrays); None only for ``oracle``.
    strategy / strategy_params: ``mollia.al.strategies.make_strategy`` name and parameters.
    annotator / annotator_params: ``oracle`` (true labels, plain cross-entropy: W = 1, no negatives),
        ``oracle-robust`` (true labels with the robust loss: an ablation) or a
        ``mollia.annotators.make_annotator`` name.
    backbone: ``head:<encoder>`` (frozen cached embeddings + MLP head) or ``finetune:<encoder>``.
    iterations, initial, batch_size: Algorithm 1 (10 iterations, 50 initial items, B = 50).
    negative_learning, discrepancy: the ablation switches of Table 4 (A: both on ... D: both off).
    alpha: W_d of Eq. 8; lambda_start/lambda_end: the linear lambda of Eq. 9.
    negative_reduction: Eq. 7 over an item's y-: ``sum`` (the paper's formula) or ``mean`` (the
    authors' code: mean over y-, then over the batch items that have any; see ``mollia.al.loss``).
    lr (None = backbone default, see DEFAULT_LR), epochs, patience, train_batch_size,
    weight_decay, max_length, hidden_size (0 = a linear head), dropout: training of the AL model.
    selection: the epoch early stopping keeps: "f1+loss" (best validation micro-F1, ties broken by
    the lower validation cross-entropy; the default), "f1" (first best micro-F1: on a small
    validation split it can keep an almost untrained epoch, bench/head_vs_linear.py) or "loss";
    min_steps_per_epoch: training batches shrink below train_batch_size so that an epoch takes at
    least this many optimiser steps (1 = the old behaviour: 4 steps per epoch at 50 labels).
    pool_size: optional cap on the pool (a seeded subsample of it); None = the whole pool.
    device: ``cpu`` or ``cuda``.

    Beyond the paper (`mollia.al.noisy`, `mollia.al.budget`; each cites its source there):
    label_loss: the CE term of Eq. 9 on annotated items: ``ce`` (the paper), ``soft`` (CE against the
        annotator's posterior), ``gce`` (Zhang & Sabuncu 2018), ``sce`` (Wang et al. 2019),
        ``bootstrap`` (hard bootstrapping, Reed et al. 2015); loss_params overrides their defaults
        (gce_q, sce_alpha, sce_beta, sce_log_zero, bootstrap_beta, small_loss_ramp).
    confidence_weighting: multiply each annotated item's weight by the annotator's q(y+|x).
    small_loss_forget: co-teaching's small-loss selection (Han et al. 2018): the largest-loss share
        of annotated items dropped per minibatch (ramped over small_loss_ramp epochs); 0 = off.
    early_stopping: ``validation`` (the paper: the validation split's true labels, counted as human
        labels in the records) or ``annotated`` (a seeded ``early_stopping_holdout`` share of the
        labelled set, with the labels it was annotated with, is held out of each retraining: the run
        then uses no human label beyond the initial set).
    human_budget: h, items per iteration routed to the human oracle (the h most doubtful of the
        batch by ``human_route``: discrepancy, disagreement or confidence); 0 = LLM labels only.
    These fields are left out of ``to_params`` while at their defaults, so runs recorded before they
    existed keep resuming and keep their identity.
    """

    dataset: str = "trec"
    probes: str | None = None
    strategy: str = "random"
    annotator: str = "molam"
    backbone: str = "head:minilm-l6"
    iterations: int = 10
    seed: int = 0
    initial: int = 50
    batch_size: int = 50
    negative_learning: bool = True
    discrepancy: bool = True
    alpha: float = 0.5
    lambda_start: float = 0.4
    lambda_end: float = 1.0
    lr: float | None = None
    epochs: int = 40
    patience: int = 10
    train_batch_size: int = 16
    weight_decay: float = 0.01
    max_length: int = 128
    hidden_size: int = 256
    dropout: float = 0.2
    selection: str = "f1+loss"
    min_steps_per_epoch: int = 12
    pool_size: int | None = None
    device: str = "cpu"
    dataset_source: str = "auto"
    negative_reduction: str = "sum"
    strategy_params: dict[str, Any] = field(default_factory=dict)
    annotator_params: dict[str, Any] = field(default_factory=dict)
    label_loss: str = "ce"
    loss_params: dict[str, Any] = field(default_factory=dict)
    confidence_weighting: bool = False
    small_loss_forget: float = 0.0
    human_budget: int = 0
    human_route: str = "discrepancy"
    early_stopping: str = "validation"
    early_stopping_holdout: float = 0.2

    def __post_init__(self) -> None:
        self.validate()

    # -- derived -------------------------------------------------------------------------------
    @property
    def backbone_kind(self) -> str:
        return self.backbone.split(":", 1)[0]

    @property
    def encoder(self) -> str:
        return self.backbone.split(":", 1)[1]

    @property
    def learning_rate(self) -> float:
        return float(self.lr) if self.lr is not None else DEFAULT_LR[self.backbone_kind]

    @property
    def is_oracle(self) -> bool:
        """The annotator gives the true labels (``oracle`` or its ``oracle-robust`` ablation)."""
        return self.annotator in GROUND_TRUTH_ANNOTATORS

    @property
    def uses_discrepancy(self) -> bool:
        """W_d of Eq. 8 applies: switched on, and not the plain oracle (true labels that the
        previous model got wrong are the most informative ones; they must not be down-weighted)."""
        return bool(self.discrepancy) and self.annotator != ORACLE

    @property
    def uses_negatives(self) -> bool:
        """L_neg of Eq. 7 applies: switched on, and not the plain oracle (plain cross-entropy)."""
        return bool(self.negative_learning) and self.annotator != ORACLE

    def to_params(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (what metrics.json records and resume compares); the
        beyond-the-paper fields only where they differ from their defaults."""
        params = asdict(self)
        params["probes"] = None if self.probes is None else str(self.probes)
        for name, default in BEYOND_DEFAULTS.items():
            if params[name] == default:
                del params[name]
        return params

    def training_objective(self):
        """The `TrainingObjective` of this run (label loss, its parameters, small-loss selection)."""
        from mollia.al.noisy import TrainingObjective

        return TrainingObjective(label_loss=self.label_loss, small_loss_forget=float(self.small_loss_forget),
                                 negative_reduction=self.negative_reduction, **self.loss_params)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "ALConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ConfigError(f"unknown AL parameter(s) {unknown}; known: {sorted(known)}")
        return cls(**params)

    @classmethod
    def from_notebook(cls, **params: Any) -> "ALConfig":
        """From a notebook's typed parameters, which cannot say None: ``probes=""`` and
        ``pool_size=0`` / ``lr=0`` mean "none"."""
        clean = dict(params)
        if clean.get("probes") == "":
            clean["probes"] = None
        for name in ("pool_size", "lr"):
            if clean.get(name) == 0:
                clean[name] = None
        return cls.from_params(clean)

    def validate(self) -> None:
        kind, _, encoder = self.backbone.partition(":")
        if kind not in BACKBONE_KINDS or not encoder:
            raise ConfigError(f"backbone must be 'head:<encoder>' or 'finetune:<encoder>', got {self.backbone!r}")
        for name in ("iterations", "initial", "batch_size", "epochs", "patience", "train_batch_size",
                     "max_length", "hidden_size", "min_steps_per_epoch"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{name} must be an integer, got {value!r}")
            if value < (0 if name in ("iterations", "hidden_size") else 1):
                raise ConfigError(f"{name} must be {'>= 0' if name in ('iterations', 'hidden_size') else 'positive'}, "
                                  f"got {value}")
        if self.selection not in SELECTIONS:
            raise ConfigError(f"selection must be one of {', '.join(SELECTIONS)}, got {self.selection!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not 0.0 < float(self.alpha) <= 1.0:
            raise ConfigError(f"alpha must be in (0, 1] (Eq. 8), got {self.alpha}")
        for name in ("lambda_start", "lambda_end", "weight_decay"):
            if float(getattr(self, name)) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.lr is not None and not float(self.lr) > 0:
            raise ConfigError(f"lr must be positive, got {self.lr}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.pool_size is not None and (not isinstance(self.pool_size, int) or self.pool_size < self.initial):
            raise ConfigError(f"pool_size must be an integer >= initial ({self.initial}), got {self.pool_size!r}")
        if self.device not in ("cpu", "cuda") and not str(self.device).startswith("cuda:"):
            raise ConfigError(f"device must be 'cpu' or 'cuda[:n]', got {self.device!r}")
        if self.negative_reduction not in ("sum", "mean"):
            raise ConfigError(f"negative_reduction must be 'sum' (Eq. 7) or 'mean' (the authors' code), "
                              f"got {self.negative_reduction!r}")
        if self.dataset_source not in ("auto", "offline", "hub"):
            raise ConfigError(f"dataset_source must be auto, offline or hub, got {self.dataset_source!r}")
        if not isinstance(self.strategy_params, dict) or not isinstance(self.annotator_params, dict):
            raise ConfigError("strategy_params and annotator_params must be dicts")
        self._validate_beyond()

    def _validate_beyond(self) -> None:
        from mollia.al.budget import HUMAN_ROUTES
        from mollia.al.noisy import LABEL_LOSSES, LOSS_PARAM_DEFAULTS

        if self.label_loss not in LABEL_LOSSES:
            raise ConfigError(f"label_loss must be one of {', '.join(LABEL_LOSSES)}, got {self.label_loss!r}")
        if not isinstance(self.loss_params, dict):
            raise ConfigError("loss_params must be a dict")
        unknown = sorted(set(self.loss_params) - set(LOSS_PARAM_DEFAULTS))
        if unknown:
            raise ConfigError(f"unknown loss_params {unknown}; known: {sorted(LOSS_PARAM_DEFAULTS)}")
        if not 0.0 <= float(self.small_loss_forget) < 1.0:
            raise ConfigError(f"small_loss_forget must be in [0, 1), got {self.small_loss_forget}")
        if isinstance(self.human_budget, bool) or not isinstance(self.human_budget, int) or self.human_budget < 0:
            raise ConfigError(f"human_budget must be a non-negative integer, got {self.human_budget!r}")
        if self.human_budget > self.batch_size:
            raise ConfigError(f"human_budget ({self.human_budget}) exceeds the batch size ({self.batch_size})")
        if self.early_stopping not in EARLY_STOPPING:
            raise ConfigError(f"early_stopping must be one of {', '.join(EARLY_STOPPING)}, got {self.early_stopping!r}")
        if not 0.0 < float(self.early_stopping_holdout) < 1.0:
            raise ConfigError(f"early_stopping_holdout must be in (0, 1), got {self.early_stopping_holdout}")
        if self.human_route not in HUMAN_ROUTES:
            raise ConfigError(f"human_route must be one of {', '.join(HUMAN_ROUTES)}, got {self.human_route!r}")
        if self.is_oracle and (self.human_budget or self.label_loss != "ce" or self.confidence_weighting
                               or self.small_loss_forget):
            raise ConfigError("the oracle's labels are true: human_budget, label_loss, confidence_weighting and "
                              "small_loss_forget apply to LLM annotators only")
        try:
            self.training_objective()
        except MolliaError as exc:
            raise ConfigError(str(exc)) from exc
