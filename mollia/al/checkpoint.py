"""The run state of an AL run, written atomically after every iteration, so a killed run resumes at
the next iteration and ends with the numbers an uninterrupted run gives.

``out_dir/state/``:
- ``state.json``: params, last completed iteration, the labelled items (AL positions, item ids,
  y+, W_d, y-, d_anno, iteration added: each as of when the item was added; d_anno is never
  recomputed later), and the records so far. It is the source of truth; ``metrics.json`` mirrors it.
- ``annotation.npz``: the annotator's labels of the whole pool (fitted once; see annotate.py).
- ``model_<i>.pt``: the AL model after iteration i (needed to query and to compute d_anno next).

Randomness needs no stored generator state: iteration i draws from
``np.random.default_rng([seed, stream, i])``, a pure function of the seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mollia.annotators.types import Annotation
from mollia.atomic import atomic_path, write_json
from mollia.errors import CacheError
from mollia.records import make_record, write_record

STATE_VERSION = 1


def normalise(obj: Any) -> Any:
    """JSON round trip, so params compare equal whether they came from a file or a dataclass."""
    return json.loads(json.dumps(obj, sort_keys=True, default=str))


@dataclass
class LabelledItems:
    """The labelled set L as the loop trains on it (parallel lists, in order of addition)."""

    positions: list[int] = field(default_factory=list)
    ids: list[Any] = field(default_factory=list)
    y_plus: list[int] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    negatives: list[list[int]] = field(default_factory=list)
    d_anno: list[int] = field(default_factory=list)
    added_at: list[int] = field(default_factory=list)
    # beyond the paper: the annotator's posterior of each item (soft targets) and whether its label
    # is a human's (the initial set, items routed to the human budget). Absent in older states.
    soft: list[list[float]] = field(default_factory=list)
    trusted: list[int] = field(default_factory=list)

    def add(self, positions, ids, y_plus, weights, negatives, d_anno, iteration: int, soft=None,
            trusted=None) -> None:
        self.positions += [int(p) for p in positions]
        self.ids += [i.item() if hasattr(i, "item") else i for i in ids]
        self.y_plus += [int(y) for y in y_plus]
        self.weights += [float(w) for w in weights]
        self.negatives += np.asarray(negatives, dtype=np.int8).tolist()
        self.d_anno += [int(d) for d in d_anno]
        self.added_at += [int(iteration)] * len(positions)
        if soft is not None:
            self.soft += np.asarray(soft, dtype=np.float64).tolist()
        self.trusted += [int(t) for t in (np.zeros(len(positions), dtype=int) if trusted is None else trusted)]

    def soft_and_trusted(self) -> tuple[np.ndarray | None, np.ndarray]:
        """Soft targets (n, K) (None when not every item has one) and the trusted mask (n,); a state
        written before these existed trusts the items of iteration 0 (the ground-truth initial set)."""
        n = len(self.positions)
        soft = np.asarray(self.soft, dtype=np.float32) if len(self.soft) == n and n else None
        if len(self.trusted) == n:
            trusted = np.asarray(self.trusted, dtype=bool)
        else:
            trusted = np.asarray(self.added_at, dtype=int) == 0
        return soft, trusted

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return (np.asarray(self.positions, dtype=np.int64), np.asarray(self.y_plus, dtype=np.int64),
                np.asarray(self.weights, dtype=np.float32), np.asarray(self.negatives, dtype=bool))


class RunState:
    """Reads and writes ``out_dir/state``."""

    def __init__(self, out_dir: str | Path):
        self.out_dir = Path(out_dir)
        self.dir = self.out_dir / "state"
        self.state_path = self.dir / "state.json"
        self.annotation_path = self.dir / "annotation.npz"
        self.metrics_path = self.out_dir / "metrics.json"

    def model_path(self, iteration: int) -> Path:
        return self.dir / f"model_{iteration}.pt"

    # -- read ------------------------------------------------------------------------------------
    def load(self, params: dict) -> dict | None:
        """The saved state, None for a fresh run; CacheError if it belongs to other params."""
        params = normalise(params)
        if self.state_path.exists():
            state = _read_json(self.state_path)
            if state.get("version") != STATE_VERSION or "params" not in state:
                raise CacheError(f"{self.state_path}: not an AL state file of version {STATE_VERSION}")
            _check_params(state["params"], params, self.state_path)
            return state
        if self.metrics_path.exists():
            metrics = _read_json(self.metrics_path)
            _check_params(metrics.get("params", {}), params, self.metrics_path)
            if metrics.get("rows"):
                raise CacheError(f"{self.metrics_path} has rows but its state folder {self.dir} is missing: "
                                 "cannot resume; use a new --out folder")
        return None

    def load_annotation(self) -> Annotation | None:
        if not self.annotation_path.exists():
            return None
        return Annotation.load(self.annotation_path)

    def load_model(self, iteration: int) -> dict:
        path = self.model_path(iteration)
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except (OSError, RuntimeError, EOFError) as exc:
            raise CacheError(f"cannot read the AL model checkpoint {path}: {exc}") from exc

    # -- write -----------------------------------------------------------------------------------
    def save_annotation(self, ann: Annotation) -> None:
        ann.save(self.annotation_path)

    def save_iteration(self, params: dict, iteration: int, labelled: LabelledItems, rows: list[dict],
                       model_state: dict, done: bool) -> dict:
        """Model first, then state.json (the commit point), then metrics.json; then old models go."""
        with atomic_path(self.model_path(iteration)) as tmp:
            torch.save(model_state, tmp)
        state = {"version": STATE_VERSION, "params": normalise(params), "iteration": int(iteration),
                 "done": bool(done), "labelled": vars(labelled), "rows": rows}
        write_json(self.state_path, state)
        metrics = metrics_document(params, rows, done)
        write_record(self.metrics_path, metrics)
        for old in self.dir.glob("model_*.pt"):
            if old != self.model_path(iteration):
                old.unlink(missing_ok=True)
        return metrics


    def sync_metrics(self, metrics: dict) -> None:
        """Rewrite metrics.json from the state when it differs (never with other params: load checked)."""
        try:
            current = _read_json(self.metrics_path) if self.metrics_path.exists() else None
        except CacheError:  # damaged: the state is the source of truth, rewrite the mirror from it
            current = None
        if current != normalise(metrics):
            write_record(self.metrics_path, metrics)

    def mark_done(self, metrics: dict) -> None:
        """The run ended early (pool exhausted): flag state and metrics as done."""
        state = _read_json(self.state_path)
        state["done"] = True
        write_json(self.state_path, state)
        write_record(self.metrics_path, metrics)


def metrics_document(params: dict, rows: list[dict], done: bool) -> dict:
    """The ``al`` record of `mollia.records` (metrics.json)."""
    return make_record("al", done=bool(done), params=normalise(params), rows=rows)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        if path.name == "metrics.json" and (path.parent / "state" / "state.json").exists():
            fix = "rerun the same command: it is rewritten from state/state.json"
        elif path.name == "metrics.json":
            fix = "it holds no resumable state: delete the folder (or use another --out) and rerun"
        else:
            fix = (f"the run cannot resume from it: delete {path.parent.parent} (or use another --out) and rerun; "
                   "metrics.json beside it keeps the iterations finished so far")
        raise CacheError(f"corrupt AL record {path}: {exc}; {fix}") from exc


def _check_params(saved: dict, asked: dict, path: Path) -> None:
    saved = normalise(saved)
    if saved != asked:
        diff = sorted(k for k in set(saved) | set(asked) if saved.get(k) != asked.get(k))
        detail = ", ".join(f"{k}: saved {saved.get(k)!r} vs asked {asked.get(k)!r}" for k in diff)
        raise CacheError(f"{path} belongs to a run with other parameters ({detail}); "
                         "refusing to resume or overwrite it: use a new output folder")
