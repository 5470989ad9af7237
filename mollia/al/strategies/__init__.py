"""Active-learning query strategies: random, coreset, BEMPS (CoreMSE), NoiseStability, entropy, margin.

    >>> strategy = make_strategy("coreset")
    >>> chosen = strategy.query(model, pool_idx, labelled_idx, n=50, rng=np.random.default_rng(0))

``model`` implements :class:`QueryModel`; see ``base.py`` for the exact shapes.
"""

from mollia.al.strategies.base import QueryModel, Strategy, available_strategies, make_strategy

__all__ = ["QueryModel", "Strategy", "available_strategies", "make_strategy"]
