"""`mollia data ...`: list the registry datasets, show items, validate (and normalise) a user's file."""

from __future__ import annotations

import argparse

import pandas as pd

from mollia.data.dataset import SPLITS, Dataset
from mollia.errors import DataError


def register(subparsers) -> None:
    parser = subparsers.add_parser("data", help="datasets: list, show, load a file")
    verbs = parser.add_subparsers(dest="data_verb", required=True)

    p = verbs.add_parser("list", help="every registry dataset with sources, split sizes and label names")
    p.set_defaults(func=cmd_list)

    p = verbs.add_parser("show", help="a dataset's summary and its first items")
    p.add_argument("name")
    p.add_argument("--n", type=int, default=5, help="items to print (default 5)")
    p.add_argument("--source", default="auto", choices=("auto", "offline", "hub"))
    p.add_argument("--split", default=None, choices=SPLITS, help="only this split")
    p.set_defaults(func=cmd_show)

    p = verbs.add_parser("load", help="validate a CSV/TSV/parquet/JSONL file of labelled texts and summarise it")
    p.add_argument("path")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument("--label-names", default=None, help="comma-separated label names, in label-index order")
    p.add_argument("--split-column", default=None, help="column holding train/validation/test (else a seeded split)")
    p.add_argument("--name", default=None, help="dataset name (default: the file's stem)")
    p.add_argument("--seed", type=int, default=0, help="seed of the split made when there is no split column")
    p.add_argument("--n", type=int, default=3, help="items to print (default 3)")
    p.add_argument("--out", default=None, help="write the normalised frame here (.parquet), atomically")
    p.set_defaults(func=cmd_load)


def cmd_list(args: argparse.Namespace) -> int:
    from mollia.data import list_datasets

    table = list_datasets()
    columns = ["name", "sources", "n_train", "n_validation", "n_test", "n_pool", "sizes_from", "label_names", "stand_in_for"]
    with pd.option_context("display.max_colwidth", 80, "display.width", 250):
        print(table[columns].to_string(index=False))
    print("sizes_from: offline = the committed build; paper = the paper's Table 1 (hub, not downloaded)")
    return 0


def _summary(ds: Dataset, n: int) -> None:
    sizes = ds.split_sizes()
    print(f"dataset: {ds.name}  (source {ds.source})")
    print(f"items: {len(ds)}  train {sizes['train']}, validation {sizes['validation']}, test {sizes['test']}"
          + (f", excluded {sizes['excluded']} (text also in another split)" if "excluded" in sizes else ""))
    counts = pd.Series(ds.labels).value_counts()
    print("labels: " + ", ".join(f"{k}={name} ({int(counts.get(k, 0))})" for k, name in enumerate(ds.label_names)))
    if n > 0:
        head = ds.frame.head(n)
        for row in head.itertuples(index=False):
            text = row.text if len(row.text) <= 100 else row.text[:97] + "..."
            print(f"  [{row.id}] ({row.split}) {ds.label_names[row.label]}: {text!r}")


def cmd_show(args: argparse.Namespace) -> int:
    from mollia.data import load_dataset

    if args.n < 0:
        raise DataError(f"--n must be >= 0, got {args.n}")
    ds = load_dataset(args.name, source=args.source)
    if args.split:
        ds = ds.split(args.split)
    _summary(ds, args.n)
    return 0


def write_normalised(ds: Dataset, path: str) -> None:
    """The dataset's frame (+ ``label_name``) as zstd parquet, atomically; the label order rides in the
    schema metadata (``mollia.label_names``), so `mollia.data.load` reads the file back unchanged."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from mollia.atomic import atomic_path
    from mollia.data.user import LABEL_NAMES_METADATA_KEY

    frame = ds.frame.copy()
    frame["label_name"] = [ds.label_names[k] for k in ds.labels]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[LABEL_NAMES_METADATA_KEY] = json.dumps(list(ds.label_names)).encode()
    with atomic_path(path) as tmp:
        pq.write_table(table.replace_schema_metadata(metadata), tmp, compression="zstd")


def cmd_load(args: argparse.Namespace) -> int:
    from mollia.data import load

    if args.out and not args.out.lower().endswith((".parquet", ".pq")):
        raise DataError(f"--out must be a .parquet file, got {args.out!r}")
    label_names = None
    if args.label_names is not None:
        label_names = [s.strip() for s in args.label_names.split(",") if s.strip()]
    ds = load(args.path, text_column=args.text_column, label_column=args.label_column, label_names=label_names,
              name=args.name, split_column=args.split_column, seed=args.seed)
    _summary(ds, args.n)
    if args.out:
        write_normalised(ds, args.out)
        print(f"wrote {len(ds)} rows to {args.out}")
    print("ok")
    return 0
