"""Probes and their ground truth for evaluation, from a folder of released arrays or a probe cache.

The ground truth is returned *separately* from the `ProbeTable` (annotators never get it): from
the released arrays where ``path`` holds them, else from the `Dataset` (`mollia.data.load_dataset`)
joined by item id.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mollia.errors import DataError
from mollia.probes.table import ProbeTable


def load_probes_any(path: str | Path, dataset: str) -> ProbeTable:
    """`mollia.probes.replay.load_probes` (cache, table file or released arrays)."""
    from mollia.probes.replay import load_probes

    return load_probes(path, dataset)


def load_ground_truth(path: str | Path, dataset: str, table: ProbeTable, source: str = "auto") -> pd.Series:
    """Labels indexed by item id for the rows of ``table``: released arrays first, else the Dataset."""
    from mollia.probes.paper import RELEASED_DATASETS, find_released_files, load_released

    if dataset in RELEASED_DATASETS:
        try:
            find_released_files(path, dataset)
        except DataError:
            pass
        else:
            released = load_released(path, dataset)
            return pd.Series(released.ground_truth, index=released.table.item_ids)
    from mollia.data import load_dataset

    ds = load_dataset(dataset, source=source)
    if tuple(ds.label_names) != tuple(table.label_names):
        raise DataError(f"dataset {dataset!r} labels {ds.label_names} differ from the probes' {table.label_names}")
    truth = pd.Series(ds.labels, index=ds.ids)
    missing = ~pd.Index(table.item_ids).isin(truth.index)
    if missing.any():
        raise DataError(f"dataset {dataset!r} has no item with id {table.item_ids[np.flatnonzero(missing)[0]]!r} "
                        "of the probe table")
    return truth.loc[list(table.item_ids)]


def load_texts(dataset: str, table: ProbeTable, source: str = "offline") -> dict | None:
    """item id -> text for the probed items where the dataset's texts are available, else None.

    The released ag_news / imdb arrays are indexed by rows of the authors' shuffled sample, not by
    dataset ids, so they get no texts; released trec rows are train_5500 ids (see
    `mollia.probes.paper`). Offline builds only by default: no network for a figure caption.
    """
    released = any(meta.get("source") == "paper-release" for meta in table.per_model.values())
    if released and dataset != "trec":
        return None
    try:
        from mollia.data import load_dataset

        ds = load_dataset(dataset, source=source)
    except Exception:  # no offline build here: qualitative listings go without text
        return None
    texts = dict(zip(ds.frame["id"].tolist(), ds.frame["text"].tolist()))
    return texts if all(i in texts for i in table.item_ids.tolist()) else None


def resolve_probes_dir(probes_dir: str | Path) -> Path:
    """``probes_dir`` as given, or (empty) ``$MOLLIA_PAPER_DIR/probes`` where that is set."""
    import os

    if str(probes_dir):
        return Path(probes_dir)
    env = os.environ.get("MOLLIA_PAPER_DIR")
    if env:
        return Path(env) / "probes"
    raise DataError("no probes given: set probes_dir (a folder of released arrays or a probe cache) "
                    "or the MOLLIA_PAPER_DIR environment variable")
