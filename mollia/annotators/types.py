"""What annotators receive and return.

An annotator receives a `ProbeTable` (no labels) and a `LabelledSet` (the ids and labels the
protocol grants: the initial labelled set, nothing else). It returns an `Annotation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mollia.atomic import atomic_path
from mollia.errors import CacheError, DataError


@dataclass(frozen=True)
class LabelledSet:
    """The only ground truth an annotator may see: ids and labels of the initial labelled set."""

    ids: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        if len(self.ids) != len(self.labels):
            raise DataError(f"labelled set: {len(self.ids)} ids but {len(self.labels)} labels")
        if len(pd.unique(self.ids)) != len(self.ids):
            raise DataError("labelled set: duplicate ids")


@dataclass(frozen=True)
class Annotation:
    """Labels for some items: y+ (argmax), class probabilities, negative labels y- (Eq. 5).

    ``negatives[i, k]`` is True when label k is a negative label of item i.
    """

    method: str
    item_ids: np.ndarray
    y_plus: np.ndarray
    proba: np.ndarray
    negatives: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.item_ids)
        if self.y_plus.shape != (n,) or self.proba.ndim != 2 or self.proba.shape[0] != n:
            raise DataError(f"annotation {self.method!r}: inconsistent shapes {self.y_plus.shape}, {self.proba.shape}")
        if self.negatives.shape != self.proba.shape:
            raise DataError(f"annotation {self.method!r}: negatives shape {self.negatives.shape} != proba {self.proba.shape}")

    def __len__(self) -> int:
        return len(self.item_ids)

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: item_id, y_plus, proba_k..., negative_k..."""
        K = self.proba.shape[1]
        cols = {"item_id": self.item_ids, "y_plus": self.y_plus}
        cols.update({f"proba_{k}": self.proba[:, k] for k in range(K)})
        cols.update({f"negative_{k}": self.negatives[:, k] for k in range(K)})
        return pd.DataFrame(cols)

    def save(self, path) -> Path:
        """Write the annotation to ``path`` (``.npz``, atomically: a kill never leaves half a file)."""
        path = Path(path)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, method=np.array(self.method), item_ids=np.asarray(self.item_ids), y_plus=self.y_plus,
                         proba=self.proba, negatives=self.negatives)
        return path

    @classmethod
    def load(cls, path) -> "Annotation":
        """The annotation `save` wrote; CacheError naming the file when it is unreadable."""
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(str(data["method"]), data["item_ids"], data["y_plus"], data["proba"], data["negatives"])
        except (OSError, ValueError, KeyError, DataError) as exc:
            raise CacheError(f"unreadable annotation file {path}: {exc}") from exc

    def subset(self, ids) -> "Annotation":
        pos = pd.Index(self.item_ids).get_indexer(list(ids))
        if (pos < 0).any():
            raise DataError(f"annotation {self.method!r}: no label for id {list(ids)[int(np.flatnonzero(pos < 0)[0])]!r}")
        return Annotation(self.method, self.item_ids[pos], self.y_plus[pos], self.proba[pos], self.negatives[pos])
