"""Hugging Face hub loaders: ``datasets.load_dataset(hub_id, hub_config)`` -> `Dataset`.

`load_hub` does the download (needs the hub); `frame_from_hub` does everything else (field and
label mapping, the paper's splits, ids) on any mapping of split name -> `datasets.Dataset` or
pandas frame, so it is tested on local data.

ids: hub rows are numbered in the order train, validation, test of the *hub's* splits, each in
hub row order (so for CogComp/trec, ids 0..5451 are train_5500 in file order, as offline).
Where the hub has no validation split, the paper's validation set (size from its Table 1) is
the last ``carve_validation`` rows of the hub train split permuted by
``numpy.random.default_rng(pool_seed)``: the paper's pool is the *first* 10,000 of that same
permutation (`DatasetSpec.sample_ids`), so the two never overlap.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from mollia.data.dataset import EXCLUDED, SPLITS, Dataset
from mollia.data.registry import DatasetSpec
from mollia.data.splits import exclude_cross_split_duplicates, permutation_tail_split
from mollia.errors import DataError


def load_hub(spec: DatasetSpec, cache_dir: str | None = None) -> Dataset:
    """Download ``spec.hub_id`` with `datasets.load_dataset` and map it (see `frame_from_hub`)."""
    if spec.hub_id is None:
        raise DataError(f"dataset {spec.name!r} has no hub source (sources: {', '.join(spec.sources)})")
    import datasets  # heavy: imported only when the hub is used

    try:
        hub = datasets.load_dataset(spec.hub_id, spec.hub_config, cache_dir=cache_dir)
    except Exception as exc:  # network, auth, missing dataset: name the source
        raise DataError(f"dataset {spec.name!r}: could not load {spec.hub_id!r} from the Hugging Face hub: {exc}") from exc
    parts = {split: hub[split] for split in dict.fromkeys(spec.hub_splits.values()) if split in hub}
    return Dataset.from_frame(spec.name, frame_from_hub(spec, parts), spec.label_names, source=f"hub:{spec.hub_id}")


def hub_label_names(part: Any, spec: DatasetSpec) -> list[str] | None:
    """ClassLabel names of ``spec.label_field`` in a `datasets.Dataset`, else ``None``."""
    features = getattr(part, "features", None)
    if features is None or spec.label_field not in features:
        return None
    return list(getattr(features[spec.label_field], "names", None) or []) or None


def map_labels(values: pd.Series, class_names: list[str] | None, spec: DatasetSpec) -> np.ndarray:
    """Hub labels (ints with ClassLabel ``class_names``, or strings) -> indices into ``spec.label_names``.

    Ints without class names are taken in the order of ``spec.hub_label_map``.
    """
    ours = list(spec.label_names)
    hub_order = class_names or list(spec.hub_label_map)
    if class_names is not None:
        unknown = [c for c in class_names if c not in spec.hub_label_map]
        if unknown:
            raise DataError(f"dataset {spec.name!r}: hub class(es) {unknown} not in the registry's map "
                            f"{dict(spec.hub_label_map)}")
    if values.map(lambda v: isinstance(v, str)).all():
        by_name = {hub: ours.index(our) for hub, our in spec.hub_label_map.items()}
        by_name.update({our: k for k, our in enumerate(ours)})
        bad = ~values.isin(list(by_name))
        if bad.any():
            raise DataError(f"dataset {spec.name!r}: hub label {values[bad].iloc[0]!r} is not one of "
                            f"{sorted(by_name)}")
        return values.map(by_name).to_numpy(dtype=np.int64)
    codes = pd.to_numeric(values, errors="coerce")
    bad = codes.isna() | (codes < 0) | (codes >= len(hub_order)) | (codes % 1 != 0)
    if bad.any():
        raise DataError(f"dataset {spec.name!r}: hub label {values[bad].iloc[0]!r} outside 0..{len(hub_order) - 1}")
    to_ours = np.array([ours.index(spec.hub_label_map[h]) for h in hub_order], dtype=np.int64)
    return to_ours[codes.to_numpy(dtype=np.int64)]


def frame_from_hub(spec: DatasetSpec, parts: Mapping[str, Any]) -> pd.DataFrame:
    """Hub splits (`datasets.Dataset` or pandas frames, keyed by hub split name) -> our frame.

    Columns: id, text, label, split (+ ``hub_split``, ``hub_row``: where each row came from).
    """
    frames = []
    next_id = 0
    needed = list(dict.fromkeys(spec.hub_splits.values()))
    missing = [s for s in needed if s not in parts]
    if missing:
        raise DataError(f"dataset {spec.name!r}: hub split(s) {missing} missing; have {sorted(parts)}")
    for hub_split in needed:
        part = parts[hub_split]
        table = part if isinstance(part, pd.DataFrame) else part.to_pandas()
        absent = [c for c in (spec.text_field, spec.label_field) if c not in table.columns]
        if absent:
            raise DataError(f"dataset {spec.name!r}: hub split {hub_split!r} has no column(s) {absent}; "
                            f"columns: {list(table.columns)}")
        frame = pd.DataFrame({
            "id": np.arange(next_id, next_id + len(table), dtype=np.int64),
            "text": table[spec.text_field].to_numpy(),
            "label": map_labels(table[spec.label_field].reset_index(drop=True), hub_label_names(part, spec), spec),
            "hub_split": hub_split,
            "hub_row": np.arange(len(table), dtype=np.int64),
        })
        next_id += len(table)
        ours = [s for s, h in spec.hub_splits.items() if h == hub_split]
        if len(ours) != 1:
            raise DataError(f"dataset {spec.name!r}: hub split {hub_split!r} maps to {ours}")
        frame["split"] = ours[0]
        if ours[0] == "train" and spec.carve_validation:
            if spec.carve_validation >= len(frame):
                raise DataError(f"dataset {spec.name!r}: hub split {hub_split!r} has {len(frame)} rows, too few to "
                                f"carve the paper's {spec.carve_validation} validation items from it")
            frame["split"] = permutation_tail_split(len(frame), spec.carve_validation, spec.pool_seed)
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    if spec.exclude_duplicates_across_splits:
        frame["split"] = exclude_cross_split_duplicates(frame["text"].to_numpy(), frame["split"].to_numpy())
    assert set(frame["split"]) <= set(SPLITS) | {EXCLUDED}
    return frame[["id", "text", "label", "split", "hub_split", "hub_row"]]
