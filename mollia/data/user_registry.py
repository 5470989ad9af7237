"""The user's own datasets, registered by name under ``$MOLLIA_HOME/datasets/<name>/``.

``mollia data add FILE --name NAME ...`` validates FILE (`mollia.data.user.load`: columns, texts,
labels, splits, size) and writes, atomically:

    $MOLLIA_HOME/datasets/<name>/data.parquet   the normalised frame (id, text, label, split, label_name,
                                               the file's other columns); label order in its schema
    $MOLLIA_HOME/datasets/<name>/dataset.json   where it came from (file, sha256, columns, encoding),
                                               label names, split sizes, when it was added

From then on the name works wherever a built-in name does (`mollia.data.load_dataset`). A path
to a CSV/TSV/parquet/JSONL file is accepted too: its name is the file's stem, columns ``text`` and
``label`` (or the label order a ``mollia data load --out`` parquet carries).
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import Path
from typing import Sequence

import pandas as pd

from mollia.data.dataset import Dataset
from mollia.digest import file_sha256
from mollia.errors import DataError
from mollia.paths import mollia_home

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DATA_FILE, META_FILE = "data.parquet", "dataset.json"


def user_datasets_root() -> Path:
    return mollia_home() / "datasets"


def user_dataset_dir(name: str) -> Path:
    return user_datasets_root() / name


def user_dataset_names() -> list[str]:
    root = user_datasets_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / DATA_FILE).is_file() and (p / META_FILE).is_file())


def is_user_dataset(name: str) -> bool:
    return bool(NAME_RE.match(str(name))) and (user_dataset_dir(name) / DATA_FILE).is_file()


def looks_like_path(name: str) -> bool:
    """A dataset argument naming a file rather than a registered name."""
    from mollia.data.user import READERS

    text = str(name)
    return ("/" in text or "\\" in text or Path(text).suffix.lower() in READERS) and Path(text).expanduser().is_file()


def dataset_name(name_or_path: str) -> str:
    """The dataset's name: a registered or built-in name as it is; a file path -> the file's stem."""
    text = str(name_or_path)
    return Path(text).stem if looks_like_path(text) else text


def add_user_dataset(path: str | Path, name: str, text_column: str = "text", label_column: str = "label",
                     label_names: Sequence[str] | None = None, split_column: str | None = None,
                     encoding: str | None = None, seed: int = 0, force: bool = False) -> Dataset:
    """Validate ``path`` and register it as dataset ``name`` (see the module docstring).

    A built-in name is refused; an existing user name is refused unless ``force`` (probes cached
    under the name are tied to each item's text, so a changed file is caught there too).
    """
    from mollia.atomic import write_json
    from mollia.data.registry import REGISTRY
    from mollia.data.user import load, write_normalised

    if not NAME_RE.match(str(name)):
        raise DataError(f"dataset name {name!r}: use letters, digits, '.', '_' or '-' (at most 64, starting with a "
                        "letter or digit)")
    if name in REGISTRY:
        raise DataError(f"{name!r} is a built-in dataset; choose another --name")
    folder = user_dataset_dir(name)
    if (folder / DATA_FILE).exists() and not force:
        raise DataError(f"dataset {name!r} is already registered ({folder}); pass --force to replace it, "
                        "or choose another --name")
    ds = load(path, text_column=text_column, label_column=label_column, label_names=label_names, name=name,
              split_column=split_column, seed=seed, encoding=encoding)
    write_normalised(ds, folder / DATA_FILE)
    source = Path(path).expanduser().resolve()
    write_json(folder / META_FILE, {
        "name": name, "source_file": str(source), "source_sha256": file_sha256(source),
        "text_column": text_column, "label_column": label_column, "split_column": split_column,
        "encoding": encoding or "utf-8", "split_seed": seed if not split_column else None,
        "label_names": list(ds.label_names), "n_items": len(ds), "split_sizes": ds.split_sizes(),
        "added": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    })
    return load_user_dataset(name)


def load_user_dataset(name: str) -> Dataset:
    """A registered user dataset, as `add_user_dataset` stored it."""
    from mollia.data.user import stored_label_names

    folder = user_dataset_dir(name)
    data = folder / DATA_FILE
    try:
        frame = pd.read_parquet(data)
        label_names = stored_label_names(data)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise DataError(f"user dataset {name!r}: cannot read {data} ({type(exc).__name__}: {exc}); register it again "
                        f"with `mollia data add FILE --name {name} --force`") from exc
    if label_names is None:
        raise DataError(f"user dataset {name!r}: {data} carries no label names; register it again with "
                        f"`mollia data add FILE --name {name} --force`")
    return Dataset.from_frame(name, frame.drop(columns=["label_name"], errors="ignore"), label_names,
                              source=f"user:{folder}")


def user_dataset_info(name: str) -> dict:
    path = user_dataset_dir(name) / META_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"user dataset {name!r}: cannot read {path} ({exc}); register it again with "
                        f"`mollia data add FILE --name {name} --force`") from exc


def remove_user_dataset(name: str) -> Path:
    import shutil

    folder = user_dataset_dir(name)
    if not is_user_dataset(name):
        raise DataError(f"no user dataset {name!r} under {user_datasets_root()}")
    shutil.rmtree(folder)
    return folder
