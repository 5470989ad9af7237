"""Data stage: dataset registry, offline builders, hub loaders, the user's own files.

Never imports anything else of mollia but errors/paths/atomic.

- `load_dataset(name, source="auto")`: a registry dataset (offline build where one exists, else the hub).
- `list_datasets()`: every registry dataset with sources, split sizes and label names.
- `load(path, text_column=..., label_column=..., label_names=...)`: a user's CSV / parquet / JSONL.
- `registry.get(name)`: the `DatasetSpec` (labels, hub fields, the paper's splits and pool rule).
"""

from mollia.data import registry
from mollia.data.catalog import list_datasets, load_dataset
from mollia.data.dataset import SPLITS, Dataset
from mollia.data.registry import DatasetSpec
from mollia.data.user import load

__all__ = ["Dataset", "DatasetSpec", "SPLITS", "list_datasets", "load", "load_dataset", "registry"]
