"""The one writer and reader of ``metrics.json``, the hand-off from every notebook (and ``mollia al``)
to the report: one typed record class per kind.

==============  =====================================  ===========================================
kind            class                                  written by
==============  =====================================  ===========================================
``al``          `ALRecord` (params, per-iteration      Algorithm 1's driver (``mollia al``, notebooks
                rows, done)                            03, 04 ablation, 05 sensitivity, 07 beyond)
``annotation``  `AnnotationRecord` (Table 2 results)   notebook 02
``analysis``    `AnalysisRecord`                       notebook 06
``probing``     `ProbingRecord`                        notebook 01
``report``      `ReportRecord`                         notebook 09
``tour``        `TourRecord` (the report skips it)     notebook 00
==============  =====================================  ===========================================

Every record carries ``schema`` (`SCHEMA`) and ``kind``. A class declares its fields with their
types: those without a default are required, the others default (that default is also the
migration of records written before the field existed); any further field is kept in ``extra`` and
written back verbatim. Writers build a record (`make_record` or a class) and write it with
`write_record` (atomic); readers use `read_record` / `parse_record`, which refuse a record of
another schema version, an unknown kind, a missing required field or a field of the wrong type with
a `RecordError` naming the file, instead of reading it wrongly. Records also answer ``rec["field"]``
and ``rec.get("field")`` (declared fields and extras alike), so a reader written against the JSON
reads the typed record unchanged. A shared helper (like `mollia.atomic`): every stage and the study
may import it.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from mollia.atomic import write_json
from mollia.errors import MolliaError

SCHEMA = 1


class RecordError(MolliaError, ValueError):
    """A metrics.json record of another schema version, an unknown kind, or missing / mistyped fields."""


def _required(f) -> bool:
    return f.default is MISSING and f.default_factory is MISSING


@dataclass
class Record:
    """Base class: the declared fields of one kind, and ``extra`` (every other field, verbatim)."""

    KIND: ClassVar[str] = ""
    # renamed fields of records written by older code: old name -> current name
    RENAMED: ClassVar[dict[str, str]] = {}

    extra: dict[str, Any] = field(default_factory=dict, kw_only=True)

    # -- dict view (what is written; what readers written against the JSON use) ------------------
    def to_dict(self) -> dict:
        declared = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        return {"schema": SCHEMA, "kind": self.KIND, **declared, **self.extra}

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def __contains__(self, key: object) -> bool:
        return key in self.to_dict()

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_dict().get(key, default)

    def keys(self):
        return self.to_dict().keys()

    # -- reading --------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict, where: str = "record") -> "Record":
        """The typed record of ``data`` (a dict of this kind, ``schema`` / ``kind`` optional)."""
        data = {k: v for k, v in data.items() if k not in ("schema", "kind")}
        for old, new in cls.RENAMED.items():
            if old in data and new not in data:
                data[new] = data.pop(old)
        hints = typing.get_type_hints(cls)
        declared = {f.name: f for f in fields(cls) if f.name != "extra"}
        missing = [name for name, f in declared.items() if name not in data and _required(f)]
        if missing:
            raise RecordError(f"{where}: {cls.KIND!r} record without {missing}")
        for name in declared:
            if name in data and not _matches(data[name], hints[name]):
                raise RecordError(f"{where}: {cls.KIND!r} record field {name!r} should be {_type_name(hints[name])}, "
                                  f"got {type(data[name]).__name__}")
        values = {name: data[name] for name in declared if name in data}
        return cls(**values, extra={k: v for k, v in data.items() if k not in declared})


@dataclass
class ALRecord(Record):
    """One AL run (Algorithm 1): its parameters (`ALConfig.to_params`), one row per iteration
    (`mollia.al.records`), and whether it finished."""

    KIND: ClassVar[str] = "al"
    done: bool
    params: dict
    rows: list


@dataclass
class AnnotationRecord(Record):
    """Notebook 02: Table 2 results of one dataset (``{method: {mean, std, per_seed}}``), beside
    Table 3's negative labels, Table 5's hyperparameters and the calibration of each method."""

    KIND: ClassVar[str] = "annotation"
    RENAMED: ClassVar[dict[str, str]] = {"molam_hyperparameters": "hyperparameters"}
    dataset: str
    results: dict
    params: dict = field(default_factory=dict)
    n_items: int | None = None
    negative_labels: dict = field(default_factory=dict)
    hyperparameters: dict | None = None
    probe_set: str = ""


@dataclass
class AnalysisRecord(Record):
    """Notebook 06: Table 3, Fig. 6 (both statistics) and Fig. 12 of one dataset and annotator."""

    KIND: ClassVar[str] = "analysis"
    dataset: str
    annotator: str
    probe_set: str = ""
    baselines: list = field(default_factory=list)
    seed: int | None = None
    negative_labels: dict = field(default_factory=dict)
    qualitative: list = field(default_factory=list)
    flag_precision: list = field(default_factory=list)
    # records written before Fig. 6's accurate-detection statistic: none (the report computes it
    # from the AL records, `tables.accurate_detection`)
    accurate_detection: list = field(default_factory=list)


@dataclass
class ProbingRecord(Record):
    """Notebook 01: each LLM's zero-shot accuracy on one dataset."""

    KIND: ClassVar[str] = "probing"
    dataset: str
    models: list
    params: dict = field(default_factory=dict)
    probe_metadata: dict = field(default_factory=dict)


@dataclass
class ReportRecord(Record):
    """Notebook 09: which tables and figures the report wrote, and which it could not and why."""

    KIND: ClassVar[str] = "report"
    tables: list
    missing: dict = field(default_factory=dict)


@dataclass
class TourRecord(Record):
    """Notebook 00: a demonstration (the report skips it)."""

    KIND: ClassVar[str] = "tour"
    n: int
    probes: str
    final_micro_f1: dict


RECORD_CLASSES: dict[str, type[Record]] = {c.KIND: c for c in (ALRecord, AnnotationRecord, AnalysisRecord,
                                                                 ProbingRecord, ReportRecord, TourRecord)}
# the fields each kind must hold (derived from the classes)
KINDS: dict[str, tuple[str, ...]] = {kind: tuple(f.name for f in fields(c) if f.name != "extra" and _required(f))
                                     for kind, c in RECORD_CLASSES.items()}


def _matches(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(hint))
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    target = origin or hint
    if target is bool:
        return isinstance(value, bool)
    if target is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if target is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, target)


def _type_name(hint: Any) -> str:
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    return "None" if hint is type(None) else getattr(typing.get_origin(hint) or hint, "__name__", str(hint))


def parse_record(record: Any, where: str, kind: str | None = None) -> Record:
    """The typed record of ``record`` (a dict read from ``where``) if it is well formed and of this
    schema (and of ``kind`` when given); RecordError otherwise."""
    if isinstance(record, Record):
        record = record.to_dict()
    if not isinstance(record, dict):
        raise RecordError(f"{where}: a record is a JSON object, got {type(record).__name__}")
    if record.get("schema") != SCHEMA:
        raise RecordError(f"{where}: record schema {record.get('schema')!r}, this mollia reads schema {SCHEMA}")
    found = record.get("kind")
    if found not in RECORD_CLASSES:
        raise RecordError(f"{where}: unknown record kind {found!r}; known: {sorted(RECORD_CLASSES)}")
    if kind is not None and found != kind:
        raise RecordError(f"{where}: a {found!r} record, expected {kind!r}")
    return RECORD_CLASSES[found].from_dict(record, where)


def check_record(record: Any, where: str, kind: str | None = None) -> dict:
    """``record`` (a dict) if it is a well-formed record of this schema; RecordError otherwise."""
    parse_record(record, where, kind)
    return record


def make_record(kind: str, **fields_: Any) -> dict:
    """A record of ``kind`` as the dict that is written (schema and kind first), checked by its class."""
    if kind not in RECORD_CLASSES:
        raise RecordError(f"new record: unknown record kind {kind!r}; known: {sorted(RECORD_CLASSES)}")
    return parse_record({"schema": SCHEMA, "kind": kind, **fields_}, f"new {kind!r} record", kind).to_dict()


def write_record(path: str | Path, record: dict | Record) -> Path:
    """Check ``record`` (a dict or a typed record) and write it to ``path`` atomically."""
    return write_json(path, parse_record(record, str(path)).to_dict())


def read_record(path: str | Path, kind: str | None = None) -> Record:
    """The typed record at ``path``, checked (schema, kind, fields); RecordError naming the file otherwise."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RecordError(f"{path}: unreadable record ({exc})") from exc
    return parse_record(record, str(path), kind)
