"""The `mollia` command. Argument parsing only: each verb lives in its own module with
``register(subparsers)`` adding its parser and setting ``func`` to a function of the args."""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from mollia.errors import Interrupted, MolliaError

# one module per verb group; each exposes register(subparsers)
VERB_MODULES = ("data", "models", "probe", "annotate", "al", "study")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mollia", description="Mixture of LLMs in the active-learning loop.")
    sub = parser.add_subparsers(dest="verb", required=True)
    for name in VERB_MODULES:
        module = importlib.import_module(f"mollia.cli.{name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Python hides DeprecationWarnings outside __main__: a user's deprecated annotator name must show
    from mollia.errors import DeprecatedNameWarning

    warnings.simplefilter("default", DeprecatedNameWarning)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except Interrupted as exc:
        print(f"mollia: {exc}", file=sys.stderr)
        return Interrupted.exit_code
    except MolliaError as exc:
        print(f"mollia: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C anywhere else: finished work is on disk (caches, cells, atomic files)
        print("mollia: interrupted; what had finished is saved: rerun the same command to resume", file=sys.stderr)
        return Interrupted.exit_code
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
