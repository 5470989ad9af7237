"""The replay backend: serve a `ProbeTable` from what is on disk, with no model.

`load_probes` accepts:

- a probe-table file (``.npz``, `ProbeTable.save` format, e.g. what ``mollia probe run --out``
  writes), or a folder of them named ``<dataset>.npz`` (the committed live probes,
  `LIVE_PROBES_DIR`);
- one probe-cache setting folder (``.../<dataset>/<model>/<setting>-<digest>/``, holding
  ``key.json`` and ``part-*.npz``, see `mollia.probes.cache`);
- a probe-cache root (``results/probes`` or a ``cache_dir``): every model cached for the dataset,
  one setting folder each (several settings for one model are ambiguous: pass ``models`` to
  choose models, or the setting folder itself);
- a folder of the paper's released arrays (``{dataset}_meta_x.npy`` ..., or the authors'
  ``output_exp/``), through `mollia.probes.paper.load_released`; only the table comes back, never
  the ground truth.

Items: a cache folder serves the items that every selected model has, in the first model's
cache order (sorted by item id).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from mollia.errors import CacheError, DataError
from mollia.probes.cache import ProbeCache, ProbeKey, ProbeRecords, _safe, id_key
from mollia.probes.paper import RELEASED_DATASETS, find_released_files, load_released
from mollia.probes.table import ProbeTable


# probe tables of the offline LLMs shipped with the package (scripts/build_live_probes.py)
LIVE_PROBES_DIR = Path(__file__).resolve().parents[1] / "data" / "live_probes"


def load_probes(path_or_folder, dataset, models: Sequence[str] | None = None) -> ProbeTable:
    """A `ProbeTable` of ``dataset`` (a name or a `Dataset`) from a file or folder (see module doc)."""
    from mollia.data.user_registry import dataset_name

    name = dataset_name(dataset) if isinstance(dataset, str) else getattr(dataset, "name", None)
    if not isinstance(name, str):
        raise DataError(f"expected a dataset name, file path or Dataset, got {dataset!r}")
    path = Path(path_or_folder)
    if not path.exists():
        raise CacheError(f"no probes at {path}")
    if path.is_file():
        table = ProbeTable.load(path)
        if table.dataset != name:
            raise DataError(f"{path} holds probes of dataset {table.dataset!r}, not {name!r}")
        return table.select_models(models) if models else table
    if (path / "key.json").exists():
        return _table_from_settings([path], name)
    if (path / f"{_safe(name)}.npz").is_file():
        return load_probes(path / f"{_safe(name)}.npz", name, models)
    if name in RELEASED_DATASETS:
        try:
            find_released_files(path, name)
        except DataError:
            pass
        else:
            table = load_released(path, name).table
            return table.select_models(models) if models else table
    dataset_dir = path / _safe(name)
    if not dataset_dir.is_dir():
        raise DataError(f"{path}: neither a probe table, a probe cache holding {name!r}, nor released arrays of it")
    settings = []
    model_dirs = sorted(d for d in dataset_dir.iterdir() if d.is_dir())
    if models:
        wanted = {_safe(m): m for m in models}
        missing = [m for s, m in wanted.items() if not (dataset_dir / s).is_dir()]
        if missing:
            raise DataError(f"probe cache {dataset_dir} has no probes of model(s) {missing}; "
                            f"it has {[d.name for d in model_dirs]}")
        model_dirs = [dataset_dir / s for s in wanted]
    for model_dir in model_dirs:
        found = sorted(d for d in model_dir.iterdir() if (d / "key.json").exists())
        if len(found) > 1:
            raise DataError(f"probe cache {model_dir} holds several settings ({[d.name for d in found]}): "
                            "pass one setting folder to load_probes")
        settings += found
    if not settings:
        raise DataError(f"probe cache {dataset_dir} holds no finished probes")
    return _table_from_settings(settings, name)


def _read_setting(folder: Path) -> tuple[ProbeKey, ProbeRecords]:
    key_file = folder / "key.json"
    try:
        raw = json.loads(key_file.read_text(encoding="utf-8"))
        raw["label_names"] = tuple(raw["label_names"])
        key = ProbeKey(**raw)
    except (OSError, json.JSONDecodeError, TypeError, KeyError) as exc:
        raise CacheError(f"corrupt probe cache key file {key_file}: {exc}") from exc
    cache = ProbeCache(key, folder.parents[2])
    if cache.folder.resolve() != folder.resolve():
        raise CacheError(f"probe cache folder {folder} does not match its key file (expected {cache.folder.name})")
    return key, cache.load()


def _table_from_settings(folders: Sequence[Path], dataset: str) -> ProbeTable:
    keys, records = zip(*(_read_setting(f) for f in folders))
    for key, folder in zip(keys, folders):
        if key.dataset != dataset:
            raise DataError(f"{folder} holds probes of dataset {key.dataset!r}, not {dataset!r}")
        if key.label_names != keys[0].label_names:
            raise DataError(f"{folder}: label names {key.label_names} differ from {keys[0].label_names}")
    models = [k.model for k in keys]
    if len(set(models)) != len(models):
        raise DataError(f"several settings of one model among {[str(f) for f in folders]}")
    # ints before strings (a cache may also hold augmented "aug-..." items), each in order
    common = [i for i in sorted(records[0].item_ids.tolist(), key=lambda i: (isinstance(i, str), i))
              if all(id_key(i) in r.index for r in records[1:])]
    if not common:
        raise DataError(f"the probe caches {[str(f) for f in folders]} share no item")
    taken = [r.take(common) for r in records]
    return ProbeTable(
        dataset=dataset, label_names=keys[0].label_names, models=tuple(models),
        item_ids=taken[0].item_ids, z=np.stack([t.z for t in taken], 1), c=np.stack([t.c for t in taken], 1),
        z_first=np.stack([t.z_first for t in taken], 1),
        per_model={k.model: dict(k.as_dict(), source="replay", cache=str(f)) for k, f in zip(keys, folders)},
        generations=pd.concat([t.generations_frame(k.model) for k, t in zip(keys, taken)], ignore_index=True),
    )
