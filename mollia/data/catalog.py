"""Named datasets: `load_dataset(name, source)` and the `list_datasets` table."""

from __future__ import annotations

import pandas as pd

from mollia.data.dataset import SPLITS, Dataset
from mollia.data.offline import load_offline
from mollia.data.registry import REGISTRY, get
from mollia.errors import DataError

SOURCES = ("auto", "offline", "hub")


def load_dataset(name: str, source: str = "auto") -> Dataset:
    """The registry dataset ``name``.

    ``source``: ``"auto"`` = the committed offline build where one exists, else the hub;
    ``"offline"`` / ``"hub"`` force one (a `DataError` if the dataset has no such source).
    Unknown names raise `UnknownNameError`.
    """
    spec = get(name)
    if source not in SOURCES:
        raise DataError(f"unknown source {source!r}; known {SOURCES}")
    if source == "auto":
        source = "offline" if spec.offline_file else "hub"
    if source not in spec.sources:
        raise DataError(f"dataset {name!r} has no {source} source (it has: {', '.join(spec.sources)})")
    if source == "offline":
        return load_offline(spec)
    from mollia.data.hub import load_hub  # pulls in `datasets` only when the hub is used

    return load_hub(spec)


def list_datasets() -> pd.DataFrame:
    """One row per registry dataset: name, sources, split sizes, AL pool size, label names, stand-in-for, hub id.

    Sizes are those of the offline build where one exists (``sizes_from="offline"``), else the
    paper's Table 1 (``sizes_from="paper"``); nothing is downloaded.
    """
    rows = []
    for spec in REGISTRY.values():
        if spec.offline_file:
            dataset = load_offline(spec)
            sizes, n_pool = dataset.split_sizes(), len(spec.pool(dataset))
            sizes_from = "offline"
        else:
            sizes = dict(zip(SPLITS, spec.paper_sizes or (None, None, None)))
            n_pool = sizes["train"] if spec.pool_size is None else min(spec.pool_size, sizes["train"])
            sizes_from = "paper"
        rows.append({
            "name": spec.name,
            "sources": "+".join(spec.sources),
            **{f"n_{s}": sizes[s] for s in SPLITS},
            "n_pool": n_pool,
            "sizes_from": sizes_from,
            "n_labels": len(spec.label_names),
            "label_names": ", ".join(spec.label_names),
            "stand_in_for": spec.stand_in_for or "",
            "hub_id": spec.hub_id or "",
        })
    return pd.DataFrame(rows)
