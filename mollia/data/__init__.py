"""Data stage: dataset registry, offline builders, hub loaders, the user's own files.

Never imports anything else of mollia but errors/paths/atomic.
"""

from mollia.data.dataset import SPLITS, Dataset

__all__ = ["Dataset", "SPLITS"]
