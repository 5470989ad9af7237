"""Named datasets: `load_dataset(name, source)` and the `list_datasets` table."""

from __future__ import annotations

import pandas as pd

from mollia.data.dataset import SPLITS, Dataset
from mollia.data.offline import load_offline
from mollia.data.registry import REGISTRY, get
from mollia.errors import DataError, UnknownNameError

SOURCES = ("auto", "offline", "hub")


def load_dataset(name: str, source: str = "auto") -> Dataset:
    """The dataset ``name``: a built-in (registry) name, a user dataset registered with
    ``mollia data add`` (`mollia.data.user_registry`), or the path of a CSV/TSV/parquet/JSONL file
    (columns ``text`` and ``label``; named after the file's stem).

    ``source`` (built-in names): ``"auto"`` = the committed offline build where one exists, else
    the hub; ``"offline"`` / ``"hub"`` force one (a `DataError` if the dataset has no such source).
    Unknown names raise `UnknownNameError`, listing the built-in and the user's names.
    """
    from mollia.data import user_registry

    if source not in SOURCES:
        raise DataError(f"unknown source {source!r}; known {SOURCES}")
    if name not in REGISTRY:
        if user_registry.is_user_dataset(name):
            return user_registry.load_user_dataset(name)
        if user_registry.looks_like_path(name):
            from mollia.data.user import load

            return load(name)
        raise UnknownNameError("dataset", name, [*REGISTRY, *user_registry.user_dataset_names()])
    spec = get(name)
    if source == "auto":
        source = "offline" if spec.offline_file else "hub"
    if source not in spec.sources:
        raise DataError(f"dataset {name!r} has no {source} source (it has: {', '.join(spec.sources)})")
    if source == "offline":
        return load_offline(spec)
    from mollia.data.hub import load_hub  # pulls in `datasets` only when the hub is used

    return load_hub(spec)


def list_datasets() -> pd.DataFrame:
    """One row per dataset: name, sources, split sizes, AL pool size, label names, stand-in-for, hub id.

    Sizes are those of the offline build where one exists (``sizes_from="offline"``), else the
    paper's Table 1 (``sizes_from="paper"``); nothing is downloaded. The user's datasets
    (``mollia data add``) follow, ``sources="user"``, their sizes from the registered file.
    """
    from mollia.data import user_registry

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
    for name in user_registry.user_dataset_names():
        info = user_registry.user_dataset_info(name)
        sizes = info.get("split_sizes", {})
        rows.append({
            "name": name, "sources": "user", **{f"n_{s}": sizes.get(s) for s in SPLITS},
            "n_pool": sizes.get("train"), "sizes_from": "user", "n_labels": len(info.get("label_names", [])),
            "label_names": ", ".join(info.get("label_names", [])), "stand_in_for": "",
            "hub_id": "", "file": info.get("source_file", ""),
        })
    return pd.DataFrame(rows)
