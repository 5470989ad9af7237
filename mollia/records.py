"""The one writer and reader of ``metrics.json``, the hand-off from every notebook (and ``mollia al``)
to the report. Every record carries ``schema`` (this module's `SCHEMA`) and ``kind``; each kind
declares the fields it must hold (`KINDS`). Writers build records with `make_record` and write them
with `write_record` (atomic); readers use `read_record`, which refuses a record of another schema
version or a malformed one with a `RecordError` naming the file, instead of reading it wrongly.

Kinds: ``al`` (one AL run: params, per-iteration rows, done), ``annotation`` (notebook 02: Table 2
results of one dataset), ``analysis`` (notebook 06), ``probing`` (notebook 01), ``report``
(notebook 09), ``tour`` (notebook 00; the report skips it). A shared helper (like `mollia.atomic`):
every stage and the study may import it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mollia.atomic import write_json
from mollia.errors import MolliaError

SCHEMA = 1
# the fields the report reads from each kind (a record may hold more)
KINDS: dict[str, tuple[str, ...]] = {
    "al": ("done", "params", "rows"),
    "annotation": ("dataset", "results"),
    "analysis": ("dataset", "annotator"),
    "probing": ("dataset", "models"),
    "report": ("tables",),
    "tour": ("n", "probes", "final_micro_f1"),  # notebook 00: a demonstration the report skips
}


class RecordError(MolliaError, ValueError):
    """A metrics.json record of another schema version, an unknown kind, or missing fields."""


def check_record(record: Any, where: str, kind: str | None = None) -> dict:
    """``record`` if it is a well-formed record of this schema (of ``kind`` when given); RecordError otherwise."""
    if not isinstance(record, dict):
        raise RecordError(f"{where}: a record is a JSON object, got {type(record).__name__}")
    if record.get("schema") != SCHEMA:
        raise RecordError(f"{where}: record schema {record.get('schema')!r}, this mollia reads schema {SCHEMA}")
    found = record.get("kind")
    if found not in KINDS:
        raise RecordError(f"{where}: unknown record kind {found!r}; known: {sorted(KINDS)}")
    if kind is not None and found != kind:
        raise RecordError(f"{where}: a {found!r} record, expected {kind!r}")
    missing = [f for f in KINDS[found] if f not in record]
    if missing:
        raise RecordError(f"{where}: {found!r} record without {missing}")
    return record


def make_record(kind: str, **fields: Any) -> dict:
    """A record of ``kind`` (schema and kind first, then ``fields``), checked."""
    return check_record({"schema": SCHEMA, "kind": kind, **fields}, f"new {kind!r} record", kind)


def write_record(path: str | Path, record: dict) -> Path:
    """Check ``record`` and write it to ``path`` atomically."""
    check_record(record, str(path))
    return write_json(path, record)


def read_record(path: str | Path, kind: str | None = None) -> dict:
    """The record at ``path``, checked (schema, kind, fields); RecordError naming the file otherwise."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RecordError(f"{path}: unreadable record ({exc})") from exc
    return check_record(record, str(path), kind)
