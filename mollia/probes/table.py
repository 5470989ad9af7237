"""The `ProbeTable` type and its on-disk format: LLM probe outputs, what annotators read.

Format (one ``.npz`` file, written atomically):

- ``item_ids``: (n,) dataset item ids (int64 or str), the join key to the `Dataset`;
- ``z``: (n, N, K) float64, label probabilities of each of N models (Eq. 1; not renormalised
  unless the metadata says so);
- ``c``: (n, N, K) float64, consistency shares (Eq. 3); rows may sum to < 1 (invalid answers);
- ``z_first`` (optional): (n, N, K) first-token probabilities, as the paper's released features;
- ``meta``: a JSON string: ``{"dataset", "label_names", "models", "per_model": {model: {...}}}``
  where per-model metadata records what produced the probes (source, prompt hash, T,
  temperature, top_p, seed, ...).

Raw generations, when kept, live beside it as ``<stem>.generations.parquet`` (columns
``item_id, model, sample, text, parsed``). A ProbeTable holds no ground-truth labels, ever.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from mollia.atomic import atomic_path
from mollia.errors import CacheError, DataError

FORMAT_VERSION = 1


@dataclass(frozen=True)
class ProbeTable:
    dataset: str
    label_names: tuple[str, ...]
    models: tuple[str, ...]
    item_ids: np.ndarray
    z: np.ndarray
    c: np.ndarray
    z_first: np.ndarray | None = None
    per_model: dict[str, dict[str, Any]] = field(default_factory=dict)
    generations: pd.DataFrame | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        n, N, K = len(self.item_ids), len(self.models), len(self.label_names)
        for name in ("z", "c", "z_first"):
            arr = getattr(self, name)
            if arr is None:
                continue
            if arr.shape != (n, N, K):
                raise DataError(f"probe table {self.dataset!r}: {name} has shape {arr.shape}, expected {(n, N, K)}")
            if not np.isfinite(arr).all():
                raise DataError(f"probe table {self.dataset!r}: {name} holds NaN or inf")
        if len(pd.unique(self.item_ids)) != n:
            raise DataError(f"probe table {self.dataset!r}: duplicate item ids")

    # -- views -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.item_ids)

    @property
    def n_models(self) -> int:
        return len(self.models)

    @property
    def n_labels(self) -> int:
        return len(self.label_names)

    @property
    def z_eq5(self) -> np.ndarray:
        """The z that the negative-label rule (Eq. 5, delta = 0.001) reads: ``z_first`` where the table
        has it (live probes: first-token probabilities, the scale the paper's delta was set on; the
        engine's ``z`` is the label's whole mass, a different scale), else ``z`` (the paper's released
        arrays, which are first-token probabilities themselves)."""
        return self.z if self.z_first is None else self.z_first

    def features(self) -> np.ndarray:
        """h(x) = [z_1, c_1, ..., z_N, c_N] (Eq. 4), shape (n, 2*N*K)."""
        return np.stack([self.z, self.c], axis=2).reshape(len(self), -1)

    def positions(self, ids: Sequence) -> np.ndarray:
        """Row positions of ``ids``; unknown ids raise DataError."""
        pos = pd.Index(self.item_ids).get_indexer(list(ids))
        if (pos < 0).any():
            raise DataError(f"probe table {self.dataset!r}: no probes for id {list(ids)[int(np.flatnonzero(pos < 0)[0])]!r}")
        return pos

    def subset(self, ids: Sequence) -> "ProbeTable":
        pos = self.positions(ids)
        gens = None
        if self.generations is not None:
            gens = self.generations[self.generations["item_id"].isin(set(self.item_ids[pos].tolist()))]
        return ProbeTable(self.dataset, self.label_names, self.models, self.item_ids[pos], self.z[pos], self.c[pos],
                          None if self.z_first is None else self.z_first[pos], dict(self.per_model), gens)

    def select_models(self, models: Sequence[str]) -> "ProbeTable":
        missing = [m for m in models if m not in self.models]
        if missing:
            raise DataError(f"probe table {self.dataset!r}: no model(s) {missing}; have {list(self.models)}")
        idx = [self.models.index(m) for m in models]
        gens = None if self.generations is None else self.generations[self.generations["model"].isin(models)]
        return ProbeTable(self.dataset, self.label_names, tuple(models), self.item_ids, self.z[:, idx], self.c[:, idx],
                          None if self.z_first is None else self.z_first[:, idx],
                          {m: self.per_model.get(m, {}) for m in models}, gens)

    # -- disk --------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        meta = {"format_version": FORMAT_VERSION, "dataset": self.dataset, "label_names": list(self.label_names),
                "models": list(self.models), "per_model": self.per_model}
        arrays = {"item_ids": np.asarray(self.item_ids), "z": self.z, "c": self.c,
                  "meta": np.array(json.dumps(meta, sort_keys=True, default=str))}
        if self.z_first is not None:
            arrays["z_first"] = self.z_first
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, **arrays)
        gen_path = generations_path(path)
        if self.generations is not None:
            with atomic_path(gen_path) as tmp:
                self.generations.to_parquet(tmp, index=False)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "ProbeTable":
        path = Path(path)
        if not path.exists():
            raise CacheError(f"no probe table at {path}")
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                z_first = data["z_first"] if "z_first" in data.files else None
                table = cls(meta["dataset"], tuple(meta["label_names"]), tuple(meta["models"]), data["item_ids"],
                            data["z"], data["c"], z_first, meta.get("per_model", {}))
        except (OSError, ValueError, KeyError, EOFError, json.JSONDecodeError) as exc:
            raise CacheError(f"corrupt probe table {path}: {exc}") from exc
        gen_path = generations_path(path)
        if gen_path.exists():
            try:
                gens = pd.read_parquet(gen_path)
            except Exception as exc:  # pyarrow raises several types for a damaged file
                raise CacheError(f"corrupt generations file {gen_path}: {exc}") from exc
            table = ProbeTable(table.dataset, table.label_names, table.models, table.item_ids, table.z, table.c,
                               table.z_first, table.per_model, gens)
        return table


def generations_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.stem + ".generations.parquet")
