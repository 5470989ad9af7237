"""The `Dataset` type: what the data stage hands to every later stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from mollia.errors import DataError

SPLITS = ("train", "validation", "test")
# items a source holds but no split may use: e.g. TREC train_5500 questions that also occur in the
# official test set (kept, so ids and the released probes' row order stay as published)
EXCLUDED = "excluded"
REQUIRED_COLUMNS = ("id", "text", "label", "split")


@dataclass(frozen=True)
class Dataset:
    """Texts with integer labels, in one frame.

    ``frame`` has at least the columns ``id`` (unique, stable across runs), ``text`` (non-empty
    str), ``label`` (int in ``[0, K)``, index into ``label_names``) and ``split`` (one of
    ``train``, ``validation``, ``test``); builders may add more (e.g. ``fine_label`` for TREC).
    Build it with :meth:`from_frame`, which validates.
    """

    name: str
    label_names: tuple[str, ...]
    frame: pd.DataFrame = field(repr=False)
    source: str = ""

    @classmethod
    def from_frame(cls, name: str, frame: pd.DataFrame, label_names: Sequence[str], source: str = "") -> "Dataset":
        label_names = tuple(str(x) for x in label_names)
        missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
        if missing:
            raise DataError(f"dataset {name!r}: missing column(s) {missing}; have {list(frame.columns)}")
        if len(set(label_names)) != len(label_names) or len(label_names) < 2:
            raise DataError(f"dataset {name!r}: label names must be >= 2 distinct strings, got {label_names}")
        frame = frame.reset_index(drop=True)
        if frame["id"].duplicated().any():
            dup = frame.loc[frame["id"].duplicated(), "id"].iloc[0]
            raise DataError(f"dataset {name!r}: duplicate id {dup!r}")
        bad_text = ~frame["text"].map(lambda t: isinstance(t, str) and t.strip() != "")
        if bad_text.any():
            i = int(np.flatnonzero(bad_text.to_numpy())[0])
            raise DataError(f"dataset {name!r}: empty or non-string text at row {i} (id {frame['id'].iloc[i]!r})")
        labels = pd.to_numeric(frame["label"], errors="coerce")
        bad_label = labels.isna() | (labels < 0) | (labels >= len(label_names)) | (labels % 1 != 0)
        if bad_label.any():
            i = int(np.flatnonzero(bad_label.to_numpy())[0])
            raise DataError(
                f"dataset {name!r}: label {frame['label'].iloc[i]!r} at row {i} is outside 0..{len(label_names) - 1} "
                f"({list(label_names)})"
            )
        bad_split = ~frame["split"].isin(SPLITS + (EXCLUDED,))
        if bad_split.any():
            raise DataError(f"dataset {name!r}: unknown split {frame.loc[bad_split, 'split'].iloc[0]!r}; "
                            f"known {SPLITS + (EXCLUDED,)}")
        frame = frame.assign(label=labels.astype(np.int64))
        return cls(name=name, label_names=label_names, frame=frame, source=source)

    # -- views -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.frame)

    @property
    def n_labels(self) -> int:
        return len(self.label_names)

    @property
    def ids(self) -> np.ndarray:
        return self.frame["id"].to_numpy()

    @property
    def texts(self) -> list[str]:
        return self.frame["text"].tolist()

    @property
    def labels(self) -> np.ndarray:
        return self.frame["label"].to_numpy(dtype=np.int64)

    def split(self, name: str) -> "Dataset":
        if name not in SPLITS + (EXCLUDED,):
            raise DataError(f"unknown split {name!r}; known {SPLITS + (EXCLUDED,)}")
        return Dataset(self.name, self.label_names, self.frame[self.frame["split"] == name].reset_index(drop=True), self.source)

    def split_sizes(self) -> dict[str, int]:
        """Items per split; ``excluded`` appears only where the source has such items."""
        counts = self.frame["split"].value_counts()
        sizes = {s: int(counts.get(s, 0)) for s in SPLITS}
        if counts.get(EXCLUDED, 0):
            sizes[EXCLUDED] = int(counts[EXCLUDED])
        return sizes

    def subset(self, ids: Sequence) -> "Dataset":
        """Rows with these ids, in the order given. Unknown ids raise DataError."""
        index = pd.Index(self.frame["id"])
        pos = index.get_indexer(list(ids))
        if (pos < 0).any():
            raise DataError(f"dataset {self.name!r}: unknown id {list(ids)[int(np.flatnonzero(pos < 0)[0])]!r}")
        return Dataset(self.name, self.label_names, self.frame.iloc[pos].reset_index(drop=True), self.source)

    def sample(self, n: int, seed: int, split: str = "train") -> "Dataset":
        """The paper's pool sampling: shuffle ``split`` with ``seed``, keep the first ``n``."""
        part = self.split(split)
        if isinstance(n, bool) or int(n) != n or n < 0:
            raise DataError(f"dataset {self.name!r}: the number of items to sample must be a whole number >= 0, "
                            f"got {n!r}")
        if n > len(part):
            raise DataError(f"dataset {self.name!r}: asked for {n} {split} items, only {len(part)} exist")
        order = np.random.default_rng(seed).permutation(len(part))[:n]
        return Dataset(self.name, self.label_names, part.frame.iloc[order].reset_index(drop=True), self.source)
