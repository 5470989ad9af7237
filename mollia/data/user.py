"""A user's own labelled texts: CSV, parquet or JSONL -> a validated `Dataset`.

Rules (each violation is a `DataError` naming the file, the column or the row):

- formats by extension: ``.csv``, ``.tsv``, ``.parquet``/``.pq``, ``.jsonl``/``.ndjson``
  (one JSON object per line);
- ``text_column`` holds non-empty strings;
- ``label_column`` holds either label *names* (strings) or label *indices* (integers):
  names are looked up in ``label_names``; without ``label_names`` the names found are sorted
  and that order is the label order. Indices must lie in ``0..len(label_names)-1``; without
  ``label_names`` the distinct integers found, sorted, become the names (``"0"``, ``"1"``, ...)
  and the labels index into that list;
- ``split_column`` (optional) holds ``train``/``validation``/``test`` (``val``, ``valid`` and
  ``dev`` are read as validation); without it a seeded stratified split is made
  (`mollia.data.splits.fraction_split`: 70% train, 10% validation, 20% test);
- a column ``id`` (unique) is kept as the item id, else ids are the row numbers 0..n-1;
- other columns are kept as they are;
- a parquet file written by ``mollia data load --out`` carries its label order in its schema
  metadata; it is used when ``label_names`` is not given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from mollia.data.dataset import SPLITS, Dataset
from mollia.data.splits import fraction_split
from mollia.errors import DataError

# parquet schema metadata key holding the label order (written by `mollia data load --out`)
LABEL_NAMES_METADATA_KEY = b"mollia.label_names"
READERS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl",
           ".ndjson": "jsonl"}
SPLIT_ALIASES = {"train": "train", "validation": "validation", "val": "validation", "valid": "validation",
                 "dev": "validation", "test": "test"}


def read_table(path: str | Path) -> pd.DataFrame:
    """The file as a frame (CSV/TSV cells kept as written: no NA guessing, so a blank stays '')."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such file: {path}")
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise DataError(f"{path.name}: unknown extension {path.suffix!r}; use one of {sorted(READERS)}")
    try:
        if kind in ("csv", "tsv"):
            return pd.read_csv(path, sep="," if kind == "csv" else "\t", keep_default_na=False, na_values=[])
        if kind == "parquet":
            return pd.read_parquet(path)
        return pd.read_json(path, lines=True, dtype=False)
    except (ValueError, OSError, json.JSONDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path.name}: cannot read as {kind}: {exc}") from exc


def stored_label_names(path: Path) -> list[str] | None:
    """The label order stored in a parquet file's schema metadata, if any."""
    import pyarrow.parquet as pq

    metadata = pq.read_schema(path).metadata or {}
    raw = metadata.get(LABEL_NAMES_METADATA_KEY)
    return None if raw is None else [str(x) for x in json.loads(raw)]


def load(path: str | Path, text_column: str = "text", label_column: str = "label",
         label_names: Sequence[str] | None = None, name: str | None = None,
         split_column: str | None = None, seed: int = 0) -> Dataset:
    """A user's CSV / parquet / JSONL file as a `Dataset` (rules in the module docstring)."""
    path = Path(path)
    table = read_table(path)
    where = path.name
    if label_names is None and READERS.get(path.suffix.lower()) == "parquet":
        label_names = stored_label_names(path)
    name = name or path.stem
    columns = [text_column, label_column] + ([split_column] if split_column else [])
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"{where}: missing column(s) {missing}; the file has {list(table.columns)}")
    if len(table) == 0:
        raise DataError(f"{where}: no rows")
    table = table.reset_index(drop=True)

    texts = table[text_column]
    bad = ~texts.map(lambda t: isinstance(t, str) and t.strip() != "")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{where}: empty or non-string text in column {text_column!r} at row {i}: {_show(texts.iloc[i])}")

    labels, names = _labels(table[label_column], label_names, where, label_column)
    if len(names) < 2:
        raise DataError(f"{where}: column {label_column!r} holds a single label ({names[0]!r}); "
                        "a classification dataset needs at least 2 (pass label_names to name the others)")

    if "id" in table.columns and "id" not in (text_column, label_column):
        ids = table["id"]
        if ids.duplicated().any():
            raise DataError(f"{where}: duplicate id {_show(ids[ids.duplicated()].iloc[0])} in column 'id'")
    else:
        ids = pd.Series(np.arange(len(table), dtype=np.int64))

    if split_column:
        raw = table[split_column].map(lambda s: SPLIT_ALIASES.get(str(s).strip().lower()))
        if raw.isna().any():
            i = int(np.flatnonzero(raw.isna().to_numpy())[0])
            raise DataError(f"{where}: split {_show(table[split_column].iloc[i])} at row {i} is not one of {SPLITS} "
                            f"(or val/valid/dev)")
        split = raw.to_numpy()
    else:
        split = fraction_split(labels, seed=seed)

    frame = pd.DataFrame({"id": ids.to_numpy(), "text": texts.to_numpy(), "label": labels, "split": split})
    extras = [c for c in table.columns if c not in (text_column, label_column, split_column, "id", "text", "label", "split")]
    for c in extras:
        frame[c] = table[c].to_numpy()
    return Dataset.from_frame(name, frame, names, source=f"file:{path}")


def _labels(values: pd.Series, label_names: Sequence[str] | None, where: str, column: str) -> tuple[np.ndarray, list[str]]:
    """Label indices and label names, by the rules in the module docstring."""
    missing = values.map(lambda v: v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip()))
    if missing.any():
        i = int(np.flatnonzero(missing.to_numpy())[0])
        raise DataError(f"{where}: missing label in column {column!r} at row {i}")
    as_int = _as_int(values)
    if label_names is not None:
        names = [str(n) for n in label_names]
        if len(set(names)) != len(names) or len(names) < 2:
            raise DataError(f"label names must be at least 2 distinct names, got {names}")
        if as_int is not None:
            bad = (as_int < 0) | (as_int >= len(names))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise DataError(f"{where}: label {_show(values.iloc[i])} at row {i} is outside 0..{len(names) - 1} "
                                f"(label names {names})")
            return as_int, names
        text = values.map(lambda v: str(v).strip())
        bad = ~text.isin(names)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{where}: label {_show(values.iloc[i])} at row {i} is not one of {names}")
        return text.map({n: k for k, n in enumerate(names)}).to_numpy(dtype=np.int64), names
    if as_int is not None:
        found = np.unique(as_int)
        return np.searchsorted(found, as_int).astype(np.int64), [str(v) for v in found]
    text = values.map(lambda v: str(v).strip())
    names = sorted(text.unique())
    return text.map({n: k for k, n in enumerate(names)}).to_numpy(dtype=np.int64), names


def _as_int(values: pd.Series) -> np.ndarray | None:
    """The labels as integers if every one is an integer (int, integral float, or digits), else None."""
    if values.map(lambda v: isinstance(v, (bool, np.bool_))).any():
        return None
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.isna().any() or (numbers % 1 != 0).any():
        return None
    return numbers.to_numpy(dtype=np.int64)


def _show(value) -> str:
    """A cell for an error message: numpy scalars shown as plain Python values."""
    return repr(value.item() if isinstance(value, np.generic) else value)
