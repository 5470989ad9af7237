"""The query-strategy contract: the ``QueryModel`` protocol a backbone implements, the ``Strategy``
base class every strategy derives from, and the name registry (``make_strategy``).

Conventions (shared with the AL loop):

* ``idx`` / ``pool_idx`` / ``labelled_idx`` are 1-d integer arrays of *positions into the AL
  dataset* (row numbers of the embedding matrix / the loop's item list), never item ids.
* ``query`` returns ``n`` distinct values taken from ``pool_idx`` (dataset positions, in the order
  the strategy picked them), never a position in ``labelled_idx``.
* Every random choice uses the ``rng`` passed in (``numpy.random.Generator``); the same model, the
  same indices and ``np.random.default_rng(seed)`` give the same answer. No global RNG.
* Strategies only *read* the model; they never train it.
"""

from __future__ import annotations

import importlib
import numbers
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from mollia.errors import MolliaError, UnknownNameError


@runtime_checkable
class QueryModel(Protocol):
    """What a strategy may ask of the current model (the backbone after this iteration's training).

    Shapes: ``m = len(idx)``, ``K`` classes, ``d`` embedding width. All arrays are float
    (float32 or float64); probabilities are rows summing to 1.
    """

    def predict_proba(self, idx: np.ndarray) -> np.ndarray:
        """Class probabilities of the (deterministic, eval-mode) model: shape ``(m, K)``."""
        ...

    def embed(self, idx: np.ndarray) -> np.ndarray:
        """The representation the classifier head reads (eval mode; e.g. the [CLS]/pooled vector or
        the frozen-encoder embedding in head mode): shape ``(m, d)``. Used by coreset."""
        ...

    def predict_proba_samples(self, idx: np.ndarray, n_samples: int,
                              rng: np.random.Generator) -> np.ndarray:
        """Posterior samples of the class probabilities: shape ``(S, m, K)`` with ``S = n_samples``.

        Sample ``s`` must be ONE model draw shared by every row of ``idx`` (one Monte-Carlo
        dropout mask over the head's input features / weights, or one member of a small
        ensemble), so that rows are *jointly* sampled: BEMPS uses the covariance across rows.
        (Per-example independent dropout masks would make that covariance zero.) Randomness
        only from ``rng``; the same ``rng`` state gives the same samples.
        """
        ...

    def perturbed_proba(self, idx: np.ndarray, noise_scale: float, n_draws: int,
                        rng: np.random.Generator) -> np.ndarray:
        """Class probabilities under Gaussian parameter noise: shape ``(D, m, K)``, ``D = n_draws``.

        Draw ``t``: every module weight tensor ``W`` (``module.weight``; biases untouched, as in
        the original NoiseStability code of Li et al., AAAI 2024; in head mode the head's weight
        matrix) becomes ``W + noise_scale * ||W||_F * Z / ||Z||_F`` with ``Z ~ N(0, I)`` drawn
        from ``rng``; one draw is shared by every row of ``idx``. The unperturbed outputs are
        ``predict_proba(idx)``. The model is left unchanged afterwards.
        """
        ...


def as_index_array(values, what: str) -> np.ndarray:
    """A 1-d int64 array of dataset positions, or a MolliaError naming ``what`` is wrong."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise MolliaError(f"{what} must be a 1-d array of integer positions, got shape {arr.shape}")
    if arr.size == 0:
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise MolliaError(f"{what} must hold integer positions, got dtype {arr.dtype}")
    if arr.min() < 0:
        raise MolliaError(f"{what} holds a negative position ({int(arr.min())})")
    return arr.astype(np.int64, copy=False)


def is_int(value) -> bool:
    """An integer parameter (Python or numpy int, not bool)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value) -> bool:
    """A finite real parameter (Python or numpy, not bool)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)


def check_model_output(arr: np.ndarray, shape: tuple, what: str) -> np.ndarray:
    """Validate a QueryModel answer (shape and finiteness) so a broken backbone fails loudly."""
    arr = np.asarray(arr)
    if arr.shape != tuple(shape):
        raise MolliaError(f"QueryModel.{what} returned shape {arr.shape}, expected {tuple(shape)}")
    if not np.all(np.isfinite(arr)):
        raise MolliaError(f"QueryModel.{what} returned non-finite values")
    return arr


class Strategy:
    """Base class: validates the request, calls ``_select`` and maps its answer back to positions.

    Subclasses implement ``_select(model, pool_idx, labelled_idx, n, rng)`` returning ``n``
    distinct *row numbers into* ``pool_idx`` (0 .. len(pool_idx)-1). ``__init__`` only stores
    parameters (scikit-learn style).
    """

    name: ClassVar[str] = "?"

    def query(self, model: QueryModel, pool_idx, labelled_idx, n: int,
              rng: np.random.Generator) -> np.ndarray:
        """Choose ``n`` distinct positions out of ``pool_idx`` to label next.

        Raises MolliaError when ``n`` is not an integer in ``1..len(pool_idx)``, when the indices
        are not 1-d non-negative integers, when ``pool_idx`` has duplicates or overlaps
        ``labelled_idx``, or when ``rng`` is not a ``numpy.random.Generator``.
        """
        self.check_params()
        pool = as_index_array(pool_idx, "pool_idx")
        labelled = as_index_array(labelled_idx, "labelled_idx")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise MolliaError(f"n (the batch size) must be an integer, got {n!r}")
        n = int(n)
        if n <= 0:
            raise MolliaError(f"n (the batch size) must be positive, got {n}")
        if n > pool.size:
            raise MolliaError(f"cannot query n={n} items from a pool of {pool.size}")
        if not isinstance(rng, np.random.Generator):
            raise MolliaError("rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                              f"got {type(rng).__name__}")
        # Membership by a boolean mask over positions: O(N), several times faster than the
        # sort/hash of np.unique on a 100k pool.
        top = int(max(pool.max(), labelled.max() if labelled.size else 0)) + 1
        in_pool = np.zeros(top, dtype=bool)
        in_pool[pool] = True
        if np.count_nonzero(in_pool) != pool.size:
            raise MolliaError("pool_idx holds duplicate positions")
        if labelled.size and in_pool[labelled].any():
            raise MolliaError("pool_idx and labelled_idx overlap: an item cannot be both "
                              "labelled and in the pool")
        rows = np.asarray(self._select(model, pool, labelled, n, rng), dtype=np.int64)
        # Guard the contract here, once, instead of trusting every subclass.
        if (rows.shape != (n,) or rows.min() < 0 or rows.max() >= pool.size
                or np.unique(rows).size != n):
            raise AssertionError(f"{type(self).__name__}._select broke its contract: {rows!r}")
        return pool[rows]

    def check_params(self) -> None:
        """Raise MolliaError on a bad constructor parameter (called by make_strategy and query)."""

    def _select(self, model: QueryModel, pool_idx: np.ndarray, labelled_idx: np.ndarray,
                n: int, rng: np.random.Generator) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_params(self) -> dict:
        """The constructor parameters (for records)."""
        return {k: v for k, v in vars(self).items() if not k.endswith("_")}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


# name -> "module:Class"; imported lazily so base.py stays import-light and cycle-free.
_REGISTRY: dict[str, str] = {
    "random": "mollia.al.strategies.random_sampling:RandomSampling",
    "coreset": "mollia.al.strategies.coreset:CoreSet",
    "bemps": "mollia.al.strategies.bemps:BEMPS",
    "noise_stability": "mollia.al.strategies.noise_stability:NoiseStability",
    "entropy": "mollia.al.strategies.entropy:EntropySampling",
    "margin": "mollia.al.strategies.margin:MarginSampling",
}


def available_strategies() -> list[str]:
    """Names ``make_strategy`` accepts."""
    return sorted(_REGISTRY)


def make_strategy(name: str, **params) -> Strategy:
    """Build the strategy called ``name`` with constructor ``params``.

    Unknown names raise ``UnknownNameError``; unknown or bad parameters raise ``MolliaError``.
    """
    key = str(name).strip().lower().replace("-", "_")
    if key not in _REGISTRY:
        raise UnknownNameError("strategy", str(name), _REGISTRY)
    module_name, cls_name = _REGISTRY[key].split(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    try:
        strategy = cls(**params)
    except TypeError as exc:
        raise MolliaError(f"bad parameters for strategy {key!r}: {exc}") from exc
    strategy.check_params()
    return strategy
