"""The one loader of "probes + their ground truth" (and texts, for examples), used by the CLI and
every notebook. Only evaluation reads ground truth, so it lives in the study: the stages load
probes (`mollia.probes.replay.load_probes`) and never a label beyond the `LabelledSet` they are
granted.

    data = load_probes_and_truth("/path/to/probes", "trec")
    table, truth, texts = data            # truth: int labels aligned with table's rows

Ground truth comes from the released arrays where ``probes`` holds them (they carry their own
labels), else from the `Dataset` joined by item id. Texts come from the same `Dataset` (offline
build unless a source is given) where every probed id is in it; the released ag_news / imdb rows
index the authors' shuffled sample, not dataset ids, so they get none.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np

from mollia.errors import DataError, MolliaError
from mollia.probes.table import ProbeTable


class ProbesAndTruth(NamedTuple):
    table: ProbeTable
    truth: np.ndarray  # (n,) int64, aligned with table.item_ids
    texts: list[str] | None  # aligned with table.item_ids, or None where unknown


def resolve_probes_dir(probes_dir: str | Path) -> Path:
    """``probes_dir`` as given, or (empty) ``$MOLLIA_PAPER_DIR/probes`` where that is set."""
    if str(probes_dir):
        return Path(probes_dir)
    env = os.environ.get("MOLLIA_PAPER_DIR")
    if env:
        return Path(env) / "probes"
    raise DataError("no probes given: set probes_dir (a folder of released arrays or a probe cache) "
                    "or the MOLLIA_PAPER_DIR environment variable")


def truth_from_dataset(table: ProbeTable, dataset) -> np.ndarray:
    """Labels of ``table``'s items from a `Dataset`, joined on item id (DataError on a missing id or
    other label names)."""
    if [s.lower() for s in dataset.label_names] != [s.lower() for s in table.label_names]:
        raise DataError(f"dataset {dataset.name!r} labels {list(dataset.label_names)} differ from the "
                        f"probes' {list(table.label_names)}")
    frame = dataset.frame.set_index("id")
    absent = [i for i in table.item_ids.tolist() if i not in frame.index]
    if absent:
        raise DataError(f"dataset {dataset.name!r} has no item {absent[0]!r} of the probe table")
    return frame.loc[table.item_ids.tolist(), "label"].to_numpy(dtype=np.int64)


def holds_released(probes: str | Path, dataset: str) -> bool:
    """Whether ``probes`` is a folder of the paper's released arrays of ``dataset``."""
    return _released(Path(probes), dataset, load=False) is not None


def _released(probes: Path, dataset: str, load: bool = True):
    from mollia.probes.paper import RELEASED_DATASETS, find_released_files, load_released

    if dataset not in RELEASED_DATASETS or not probes.is_dir():
        return None
    try:
        find_released_files(probes, dataset)
    except DataError:
        return None
    return load_released(probes, dataset) if load else True


def load_probes_and_truth(probes: str | Path, dataset: str, *, models: Sequence[str] | None = None,
                          source: str = "auto", texts: bool = True, text_source: str = "offline") -> ProbesAndTruth:
    """The probe table at ``probes`` (a probe-table file, a probe cache or released arrays), the
    ground truth of its rows and, with ``texts``, their texts (see the module doc)."""
    from mollia.probes.replay import load_probes

    path = resolve_probes_dir(probes)
    released = _released(path, dataset)
    if released is not None:
        table, truth, from_dataset = released.table, np.asarray(released.ground_truth, dtype=np.int64), None
        if models:
            table = table.select_models(models)
    else:
        from mollia.data import load_dataset

        table = load_probes(path, dataset, models=models or None)
        from_dataset = load_dataset(dataset, source=source)
        truth = truth_from_dataset(table, from_dataset)
    if truth.shape != (len(table),) or (len(truth) and (truth.min() < 0 or truth.max() >= table.n_labels)):
        raise DataError(f"ground truth of {dataset!r} at {path}: shape {truth.shape}, expected ({len(table)},) "
                        f"labels in 0..{table.n_labels - 1}")
    return ProbesAndTruth(table, truth, _texts(table, dataset, released is not None, text_source) if texts else None)


def _texts(table: ProbeTable, dataset: str, released: bool, source: str) -> list[str] | None:
    if released and dataset != "trec":  # released ag_news / imdb rows are not dataset ids
        return None
    try:
        from mollia.data import load_dataset

        ds = load_dataset(dataset, source=source)
    except MolliaError:  # no build here (offline) or no network: examples go without text
        return None
    by_id = dict(zip(ds.frame["id"].tolist(), ds.frame["text"].tolist()))
    ids = table.item_ids.tolist()
    return [by_id[i] for i in ids] if all(i in by_id for i in ids) else None
