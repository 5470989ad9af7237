"""The committed offline datasets: ``mollia/data/offline/<name>.parquet`` (package data).

Built by ``scripts/build_offline_data.py`` (sources, licences, split rules: ``PROVENANCE.md``
next to the files). Read through ``importlib.resources`` so an installed wheel works too.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from mollia.data.dataset import Dataset
from mollia.data.registry import DatasetSpec
from mollia.errors import DataError


def offline_dir() -> Path:
    """Folder of the committed parquet files (inside the installed package)."""
    return Path(str(resources.files("mollia.data") / "offline"))


def offline_path(spec: DatasetSpec) -> Path:
    if spec.offline_file is None:
        raise DataError(f"dataset {spec.name!r} has no offline build (sources: {', '.join(spec.sources)})")
    return offline_dir() / spec.offline_file


def load_offline(spec: DatasetSpec) -> Dataset:
    """The committed offline build of ``spec`` as a validated `Dataset` (source ``offline:<package>``)."""
    path = offline_path(spec)
    if not path.is_file():
        raise DataError(f"dataset {spec.name!r}: offline file {path} is missing; rebuild it with "
                        f"`python scripts/build_offline_data.py {spec.name}`")
    frame = pd.read_parquet(path)
    return Dataset.from_frame(spec.name, frame, spec.label_names, source="offline:" + "+".join(spec.offline_packages))
