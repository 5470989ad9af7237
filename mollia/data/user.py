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
  metadata; it is used when ``label_names`` is not given;
- text files are read as UTF-8 unless ``encoding`` says otherwise; a byte that does not decode is
  reported with its line and row, and the option to pass;
- at least `MIN_ITEMS` rows, and no split left empty (the AL loop early-stops on validation and
  scores on test);
- without ``label_names``, a label met only once is warned about (`RareLabelWarning`): a typo
  ("sprots") would otherwise become a class of one item.
"""

from __future__ import annotations

import json
import warnings
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
# smallest file accepted: with the default 70/10/20 split, 3 validation and 6 test items
MIN_ITEMS = 30
SPLIT_ALIASES = {"train": "train", "validation": "validation", "val": "validation", "valid": "validation",
                 "dev": "validation", "test": "test"}


class RareLabelWarning(UserWarning):
    """A label occurs only once in a file read without ``label_names``."""


def read_table(path: str | Path, encoding: str | None = None) -> pd.DataFrame:
    """The file as a frame (CSV/TSV cells kept as written: no NA guessing, so a blank stays '')."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such file: {path}")
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise DataError(f"{path.name}: unknown extension {path.suffix!r}; use one of {sorted(READERS)}")
    encoding = encoding or "utf-8"
    try:
        "".encode(encoding)
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r} (e.g. utf-8, latin-1, cp1252, utf-16)") from None
    try:
        if kind in ("csv", "tsv"):
            return pd.read_csv(path, sep="," if kind == "csv" else "\t", keep_default_na=False, na_values=[],
                               encoding=encoding)
        if kind == "parquet":
            return pd.read_parquet(path)
        with open(path, encoding=encoding) as fh:
            return pd.read_json(fh, lines=True, dtype=False)
    except UnicodeDecodeError as exc:
        raise DataError(_decode_error(path, kind, encoding, exc)) from exc
    except (ValueError, OSError, json.JSONDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path.name}: cannot read as {kind}: {exc}") from exc


def _decode_error(path: Path, kind: str, encoding: str, exc: UnicodeDecodeError) -> str:
    """Where the first undecodable byte is (line, data row, the bytes around it) and what to pass."""
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError as bad:
                row = number - 2 if kind in ("csv", "tsv") else number - 1  # data rows count from 0
                where = f"line {number}" + (f" (data row {row})" if row >= 0 else " (the header)")
                context = line[max(0, bad.start - 20): bad.end + 20]
                return (f"{path.name}: {where} is not valid {encoding}: byte {line[bad.start:bad.end].hex(' ')} at "
                        f"column {bad.start + 1}, in {context!r}; pass the file's encoding, e.g. --encoding latin-1 "
                        "(or cp1252, utf-16)")
    return f"{path.name}: not valid {encoding} ({exc}); pass the file's encoding, e.g. --encoding latin-1"


def write_normalised(ds: Dataset, path: str | Path) -> None:
    """The dataset's frame (+ ``label_name``) as zstd parquet, atomically; the label order rides in the
    schema metadata (``mollia.label_names``), so `load` reads the file back unchanged."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mollia.atomic import atomic_path

    frame = ds.frame.copy()
    frame["label_name"] = [ds.label_names[k] for k in ds.labels]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[LABEL_NAMES_METADATA_KEY] = json.dumps(list(ds.label_names)).encode()
    with atomic_path(path) as tmp:
        pq.write_table(table.replace_schema_metadata(metadata), tmp, compression="zstd")


def stored_label_names(path: Path) -> list[str] | None:
    """The label order stored in a parquet file's schema metadata, if any."""
    import pyarrow.parquet as pq

    metadata = pq.read_schema(path).metadata or {}
    raw = metadata.get(LABEL_NAMES_METADATA_KEY)
    return None if raw is None else [str(x) for x in json.loads(raw)]


def load(path: str | Path, text_column: str = "text", label_column: str = "label",
         label_names: Sequence[str] | None = None, name: str | None = None,
         split_column: str | None = None, seed: int = 0, encoding: str | None = None,
         min_items: int = MIN_ITEMS) -> Dataset:
    """A user's CSV / parquet / JSONL file as a `Dataset` (rules in the module docstring)."""
    path = Path(path)
    table = read_table(path, encoding)
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
    if label_names is None:
        _warn_rare_labels(labels, names, where, label_column)
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
    _check_size(split, where, min_items, bool(split_column))

    frame = pd.DataFrame({"id": ids.to_numpy(), "text": texts.to_numpy(), "label": labels, "split": split})
    extras = [c for c in table.columns if c not in (text_column, label_column, split_column, "id", "text", "label", "split")]
    for c in extras:
        frame[c] = table[c].to_numpy()
    return Dataset.from_frame(name, frame, names, source=f"file:{path}")


def _check_size(split: np.ndarray, where: str, min_items: int, from_column: bool) -> None:
    """Refuse a file too small for the pipeline, saying the minimum."""
    if len(split) < min_items:
        raise DataError(f"{where}: {len(split)} rows; a dataset needs at least {min_items} (with the default 70/10/20 "
                        f"split that leaves {int(min_items * 0.1)} validation and {int(min_items * 0.2)} test items; "
                        "active learning with the defaults --initial 50 --batch-size 50 needs >= 100 train items)")
    empty = [s for s in SPLITS if not (split == s).any()]
    if empty:
        how = "the split column" if from_column else "the 70/10/20 split"
        raise DataError(f"{where}: {how} leaves no {' and no '.join(empty)} items; every split needs items (validation "
                        "for early stopping, test for the scores)")


def _warn_rare_labels(labels: np.ndarray, names: list[str], where: str, column: str) -> None:
    counts = np.bincount(labels, minlength=len(names))
    once = [names[k] for k in np.flatnonzero(counts == 1)]
    if once and len(labels) >= 2 * len(names):
        rows = [int(np.flatnonzero(labels == names.index(n))[0]) for n in once[:5]]
        shown = ", ".join(f"{n!r} (row {r})" for n, r in zip(once, rows))
        warnings.warn(f"{where}: label(s) {shown} occur only once in column {column!r}; a typo becomes a class of one "
                      "item. Pass --label-names (label_names=) to refuse labels outside your list",
                      RareLabelWarning, stacklevel=3)


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
