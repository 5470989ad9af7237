"""`mollia data ...`: list the registry datasets, show items, validate (and normalise) a user's file."""

from __future__ import annotations

import argparse

import pandas as pd

from mollia.cli.args import non_negative_int
from mollia.data.dataset import SPLITS, Dataset
from mollia.errors import DataError


def register(subparsers) -> None:
    parser = subparsers.add_parser("data", help="datasets: list, show, add (register) or load a file")
    verbs = parser.add_subparsers(dest="data_verb", required=True)

    p = verbs.add_parser("list", help="every dataset (built-in and yours) with sources, split sizes and label names")
    p.set_defaults(func=cmd_list)

    p = verbs.add_parser("add", help="validate a file of labelled texts and register it as a dataset under MOLLIA_HOME",
                         description="Validate FILE (CSV/TSV/parquet/JSONL) and register it as dataset NAME: every "
                                     "command, notebook and grid then takes --dataset NAME / dataset: NAME.")
    p.add_argument("path", metavar="FILE")
    p.add_argument("--name", required=True, help="the dataset's name (letters, digits, . _ -)")
    _add_file_arguments(p)
    p.add_argument("--force", action="store_true", help="replace a dataset already registered under NAME")
    p.add_argument("--n", type=non_negative_int, default=3, help="items to print (default 3)")
    p.set_defaults(func=cmd_add)

    p = verbs.add_parser("remove", help="unregister a dataset added with `mollia data add` (its probes stay)")
    p.add_argument("name")
    p.set_defaults(func=cmd_remove)

    p = verbs.add_parser("show", help="a dataset's summary and its first items")
    p.add_argument("name", help="a dataset name (mollia data list) or a file path")
    p.add_argument("--n", type=non_negative_int, default=5, help="items to print (default 5)")
    p.add_argument("--source", default="auto", choices=("auto", "offline", "hub"))
    p.add_argument("--split", default=None, choices=SPLITS, help="only this split")
    p.set_defaults(func=cmd_show)

    p = verbs.add_parser("load", help="validate a CSV/TSV/parquet/JSONL file of labelled texts and summarise it")
    p.add_argument("path")
    p.add_argument("--name", default=None, help="dataset name (default: the file's stem)")
    _add_file_arguments(p)
    p.add_argument("--n", type=non_negative_int, default=3, help="items to print (default 3)")
    p.add_argument("--out", default=None, help="write the normalised frame here (.parquet), atomically")
    p.set_defaults(func=cmd_load)


def _add_file_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--text-column", default="text", help="column of the texts (default text)")
    p.add_argument("--label-column", default="label", help="column of the labels: names or 0-based indices")
    p.add_argument("--label-names", default=None,
                   help="comma-separated label names in label-index order; labels outside the list are refused "
                        "(without it: the labels found, sorted, and a warning for labels met only once)")
    p.add_argument("--split-column", default=None, help="column holding train/validation/test (else a seeded "
                                                        "stratified 70/10/20 split)")
    p.add_argument("--encoding", default=None, help="text encoding of CSV/TSV/JSONL (default utf-8; e.g. latin-1)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of the split made when there is no split column")


def _label_names(text: str | None) -> list[str] | None:
    return None if text is None else [s.strip() for s in text.split(",") if s.strip()]


def _read_reporting_warnings(read):
    """Run ``read()``; print each RareLabelWarning as a 'warning:' line (stderr) instead of Python's format."""
    import sys
    import warnings

    from mollia.data.user import RareLabelWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RareLabelWarning)
        result = read()
    for w in caught:
        if issubclass(w.category, RareLabelWarning):
            print(f"warning: {w.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result


def cmd_add(args: argparse.Namespace) -> int:
    from mollia.data.user_registry import add_user_dataset, user_dataset_dir

    ds = _read_reporting_warnings(lambda: add_user_dataset(
        args.path, args.name, text_column=args.text_column, label_column=args.label_column,
        label_names=_label_names(args.label_names), split_column=args.split_column, encoding=args.encoding,
        seed=args.seed, force=args.force))
    _summary(ds, args.n)
    print(f"registered dataset {ds.name!r} in {user_dataset_dir(ds.name)}; use --dataset {ds.name} "
          f"(mollia probe run, table2, al, grid) or dataset: {ds.name} (notebooks, grids)")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from mollia.data.user_registry import remove_user_dataset

    print(f"removed {remove_user_dataset(args.name)}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from mollia.data import list_datasets

    table = list_datasets()
    columns = ["name", "sources", "n_train", "n_validation", "n_test", "n_pool", "sizes_from", "label_names", "stand_in_for"]
    with pd.option_context("display.max_colwidth", 80, "display.width", 250):
        print(table[columns].to_string(index=False))
    print("sizes_from: offline = the committed build; paper = the paper's Table 1 (hub, not downloaded); "
          "user = your file, registered with `mollia data add FILE --name NAME`")
    if "file" in table.columns:
        for row in table[table["sources"] == "user"].itertuples(index=False):
            print(f"  {row.name}: from {row.file}")
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

    ds = load_dataset(args.name, source=args.source)
    if args.split:
        ds = ds.split(args.split)
    _summary(ds, args.n)
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    from mollia.data import load

    if args.out and not args.out.lower().endswith((".parquet", ".pq")):
        raise DataError(f"--out must be a .parquet file, got {args.out!r}")
    ds = _read_reporting_warnings(lambda: load(
        args.path, text_column=args.text_column, label_column=args.label_column,
        label_names=_label_names(args.label_names), name=args.name, split_column=args.split_column, seed=args.seed,
        encoding=args.encoding))
    _summary(ds, args.n)
    if args.out:
        from mollia.data.user import write_normalised

        write_normalised(ds, args.out)
        print(f"wrote {len(ds)} rows to {args.out}")
    print("ok")
    return 0
