"""Data stage: dataset registry, offline builders, hub loaders, the user's own files.

Never imports anything else of mollia but errors/paths/atomic.

- `load_dataset(name, source="auto")`: a registry dataset (offline build where one exists, else the hub).
- `list_datasets()`: every registry dataset with sources, split sizes and label names.
- `load(path, text_column=..., label_column=..., label_names=...)`: a user's CSV / parquet / JSONL.
- `add_user_dataset(path, name, ...)`: validate and register it under ``$MOLLIA_HOME/datasets`` (then
  `load_dataset(name)` and every command take the name); a file path works as a name too.
- `registry.get(name)`: the `DatasetSpec` (labels, hub fields, the paper's splits and pool rule).
"""

from mollia.data import registry
from mollia.data.catalog import list_datasets, load_dataset
from mollia.data.dataset import SPLITS, Dataset
from mollia.data.registry import DatasetSpec
from mollia.data.user import load
from mollia.data.user_registry import add_user_dataset, dataset_name

__all__ = ["Dataset", "DatasetSpec", "SPLITS", "add_user_dataset", "dataset_name", "list_datasets", "load",
           "load_dataset", "registry"]
