"""The probe cache: per-item probes of one model under one setting, written per finished batch.

Layout (root = ``cache_dir`` or ``results_root()/"probes"``)::

    root/<dataset>/<model>/<setting>-<digest>/
        key.json            the full `ProbeKey` (dataset, model, prompt hash, label names, T,
                            temperature, top_p, max_new_tokens, seed, precision, engine version,
                            max_text_tokens where texts were truncated)
        part-000001-<pid>.npz  one shard per finished batch (written atomically), holding for each
        part-000002-<pid>.npz  item: id, a digest of its filled prompt, z, z_first, c (K floats each),
        ...                 the T raw generations and their parsed labels, plus the key again.

The key decides the folder: a run with another T, seed, temperature, template... never sees
these probes. When a run completes, its shards are merged into shards of at most `COMPACT_ITEMS` items
(``compact``: each merged shard is written and read back before the old ones are removed, so an
interruption leaves duplicates, which must agree, never a gap; a file damaged later costs only
its own items, and its error says to delete it and rerun). Reading is strict: a shard that cannot be read, whose key differs from
its folder's, whose arrays have the wrong shapes, two shards that disagree about an item, or an
item whose prompt digest differs from the dataset's text all raise `CacheError` naming the file;
nothing is silently recomputed over data already on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from mollia.atomic import atomic_path, write_json
from mollia.errors import CacheError
from mollia.paths import results_root

SHARD_PATTERN = "part-*.npz"
_SHARD_RE = re.compile(r"^part-(\d+)(?:-[0-9a-f]+)?\.npz$")
_ARRAYS = ("item_ids", "text_sha", "z", "z_first", "c", "gen_text", "gen_parsed")
# items per shard after compaction: a damaged file costs at most this many items
COMPACT_ITEMS = 256


def id_key(item: Any) -> str:
    """The cache's key of an item id: its text, so that an int id and its string are one item."""
    return str(item)


def _id_array(ids: Sequence[Any]) -> np.ndarray:
    """Ids as an array keeping their types: int64 or str when uniform, object when mixed."""
    ids = list(ids)
    if all(isinstance(i, (int, np.integer)) for i in ids):
        return np.asarray(ids, dtype=np.int64)
    if all(isinstance(i, str) for i in ids):
        return np.asarray(ids, dtype=str)
    out = np.empty(len(ids), dtype=object)
    out[:] = ids
    return out


def text_digest(text: str) -> str:
    """Short digest of an item's filled prompt: ties cached probes to the text they were made from."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)) or "_"


@dataclass(frozen=True)
class ProbeKey:
    """Everything that changes the numbers of a probe, apart from the item."""

    dataset: str
    model: str
    prompt_hash: str
    label_names: tuple[str, ...]
    T: int
    temperature: float
    top_p: float
    max_new_tokens: int
    seed: int
    precision: str = "float32"
    engine_version: int = 1
    z_prune: float = 0.0  # engine version >= 2: branches of the label-form trie below this are not scored
    # texts cut to their first N whitespace-separated tokens before prompting (None: whole texts)
    max_text_tokens: int | None = None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["label_names"] = list(self.label_names)
        if d["max_text_tokens"] is None:  # absent when unused: caches written before the option keep their key
            del d["max_text_tokens"]
        return d

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()[:16]

    def folder_name(self) -> str:
        cut = "" if self.max_text_tokens is None else f"-cut{self.max_text_tokens}"
        return (f"T{self.T}-temp{self.temperature:g}-p{self.top_p:g}-tok{self.max_new_tokens}-seed{self.seed}{cut}-"
                f"{self.digest()}")


@dataclass
class ProbeRecords:
    """Per-item probes of one model (rows = items)."""

    item_ids: np.ndarray
    text_sha: np.ndarray
    z: np.ndarray
    z_first: np.ndarray
    c: np.ndarray
    gen_text: np.ndarray  # (n, T) str
    gen_parsed: np.ndarray  # (n, T) int, label index or -1 (invalid)

    def __len__(self) -> int:
        return len(self.item_ids)

    @property
    def index(self) -> dict[str, int]:
        """Row of each item, keyed by `id_key` (so 7 and "7" are one item, whatever dtype a shard has)."""
        return {id_key(item): row for row, item in enumerate(self.item_ids.tolist())}

    def rows(self, positions: Sequence[int]) -> "ProbeRecords":
        pos = np.asarray(positions, dtype=np.int64)
        return ProbeRecords(*(getattr(self, a)[pos] for a in _ARRAYS))

    def take(self, ids: Sequence[Any]) -> "ProbeRecords":
        index = self.index
        ids = ids.tolist() if isinstance(ids, np.ndarray) else list(ids)  # np.asarray would make 7 "7"
        missing = [i for i in ids if id_key(i) not in index]
        if missing:
            raise CacheError(f"probe cache holds no probes for item {missing[0]!r} ({len(missing)} missing)")
        taken = self.rows([index[id_key(i)] for i in ids])
        taken.item_ids = _id_array(ids)  # the caller's ids, with the caller's types
        return taken

    def check_texts(self, ids: Sequence[Any], digests: Sequence[str], folder: Path) -> None:
        """Items cached under these ids must have been made from the same filled prompts."""
        index = self.index
        for item, digest in zip(np.asarray(ids).tolist(), digests):
            row = index.get(id_key(item))
            if row is not None and self.text_sha[row] != digest:
                raise CacheError(f"probe cache {folder}: item {item!r} was probed with another text "
                                 f"(cached prompt digest {self.text_sha[row]}, now {digest}); "
                                 "the dataset changed under the same name: use another cache_dir or remove the folder")

    def generations_frame(self, model: str) -> pd.DataFrame:
        n, T = self.gen_text.shape if self.gen_text.ndim == 2 else (len(self), 0)
        return pd.DataFrame({
            "item_id": np.repeat(self.item_ids, T),
            "model": model,
            "sample": np.tile(np.arange(T), n),
            "text": self.gen_text.reshape(-1).astype(object),
            "parsed": self.gen_parsed.reshape(-1).astype(np.int64),
        })

    @classmethod
    def concat(cls, parts: Sequence["ProbeRecords"]) -> "ProbeRecords":
        ids = _id_array([i for p in parts for i in p.item_ids.tolist()])  # np.concatenate would make 7 "7"
        return cls(ids, *(np.concatenate([getattr(p, a) for p in parts]) for a in _ARRAYS[1:]))


def empty_records(K: int, T: int) -> ProbeRecords:
    return ProbeRecords(np.zeros(0, dtype=np.int64), np.zeros(0, dtype="<U16"), np.zeros((0, K)), np.zeros((0, K)),
                        np.zeros((0, K)), np.zeros((0, T), dtype="<U1"), np.zeros((0, T), dtype=np.int64))


class ProbeCache:
    """The cache folder of one `ProbeKey`."""

    def __init__(self, key: ProbeKey, root: str | Path | None = None):
        self.key = key
        self.root = Path(root) if root is not None else results_root() / "probes"
        self.folder = self.root / _safe(key.dataset) / _safe(key.model) / key.folder_name()

    # -- reading --------------------------------------------------------------------------------
    def shards(self) -> list[Path]:
        return self.shards_in(self.folder)

    @staticmethod
    def shards_in(folder: Path) -> list[Path]:
        """The shard files of a setting folder, in writing order."""
        found = [(int(m.group(1)), p) for p in Path(folder).glob(SHARD_PATTERN) if (m := _SHARD_RE.match(p.name))]
        return [p for _, p in sorted(found)]

    def load(self) -> ProbeRecords:
        """All items cached for this key (empty when nothing is). Strict: see the module docstring."""
        key_file = self.folder / "key.json"
        if key_file.exists():
            try:
                stored = json.loads(key_file.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise CacheError(f"corrupt probe cache key file {key_file}: {exc}. Delete it and rerun the same command: "
                                 "it is rewritten (every shard carries its own copy of the key)") from exc
            if stored != self.key.as_dict():
                raise CacheError(f"probe cache {key_file} holds key {stored}, expected {self.key.as_dict()}")
        parts = [read_shard(p, self.key) for p in self.shards()]
        if not parts:
            return empty_records(len(self.key.label_names), self.key.T)
        merged = ProbeRecords.concat(parts)
        return _deduplicate(merged, self.folder)

    # -- writing --------------------------------------------------------------------------------
    def write_shard(self, records: ProbeRecords) -> Path:
        """Write one finished batch atomically as the next shard."""
        self.folder.mkdir(parents=True, exist_ok=True)
        key_file = self.folder / "key.json"
        if not key_file.exists():
            write_json(key_file, self.key.as_dict())
        existing = self.shards()
        number = int(_SHARD_RE.match(existing[-1].name).group(1)) + 1 if existing else 1
        # the writer's pid in the name: two processes filling one cache never replace each other's
        # shard (their items, when shared, are identical and deduplicated on reading)
        path = self.folder / f"part-{number:06d}-{os.getpid():x}.npz"
        arrays = {a: np.asarray(getattr(records, a)) for a in _ARRAYS}
        # ids as text plus which were integers: one dtype per file, and the types come back exact
        # (a shard mixing dataset items with augmented "aug-..." items would otherwise turn 7 into "7")
        ids = records.item_ids.tolist()
        arrays["item_ids"] = np.array([str(i) for i in ids], dtype=str) if ids else np.zeros(0, dtype="<U1")
        arrays["item_id_is_int"] = np.array([isinstance(i, (int, np.integer)) for i in ids], dtype=bool)
        arrays["key"] = np.array(json.dumps(self.key.as_dict(), sort_keys=True))
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, **arrays)
        return path

    def compact(self) -> None:
        """Merge the per-batch shards into shards of at most `COMPACT_ITEMS` items. Each merged shard
        is read back and compared with what it should hold before any old shard is removed, so an
        interruption or a bad write leaves duplicates (which must agree), never a gap; and a file
        damaged later costs only its own items."""
        old = self.shards()
        merged = self.load()
        if len(old) <= max(1, -(-len(merged) // COMPACT_ITEMS)):
            return
        written = []
        try:
            for start in range(0, len(merged), COMPACT_ITEMS):
                part = merged.rows(np.arange(start, min(start + COMPACT_ITEMS, len(merged))))
                path = self.write_shard(part)
                written.append(path)
                back = read_shard(path, self.key)
                if not all(np.array_equal(getattr(back, a), getattr(part, a)) for a in _ARRAYS[1:]) or \
                        [id_key(i) for i in back.item_ids.tolist()] != [id_key(i) for i in part.item_ids.tolist()]:
                    raise CacheError(f"probe cache {self.folder}: the merged shard {path.name} does not read back "
                                     "as written; the per-batch shards are kept")
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise
        for p in old:
            p.unlink()


SHARD_FIX = ("It holds only its own items (at most one batch, or 256 items after compaction): delete it, or move "
             "it out of the folder, and rerun the same command; only its items are probed again, every other "
             "shard is kept")


def read_shard(path: Path, key: ProbeKey) -> ProbeRecords:
    K, T = len(key.label_names), key.T
    try:
        with np.load(path, allow_pickle=False) as data:
            stored_key = json.loads(str(data["key"]))
            arrays = {a: data[a] for a in _ARRAYS}
            is_int = data["item_id_is_int"] if "item_id_is_int" in data.files else None
    except Exception as exc:  # zipfile, OSError, ValueError, KeyError, EOFError: all mean a damaged file
        raise CacheError(f"corrupt probe cache file {path}: {type(exc).__name__}: {exc}. {SHARD_FIX}") from exc
    if stored_key != key.as_dict():
        raise CacheError(f"probe cache file {path} was written for key {stored_key}, not {key.as_dict()}")
    n = len(arrays["item_ids"])
    if is_int is not None:
        if is_int.shape != (n,):
            raise CacheError(f"probe cache file {path}: item_id_is_int has shape {is_int.shape}, expected {(n,)}")
        try:
            arrays["item_ids"] = _id_array([int(i) if flag else str(i)
                                            for i, flag in zip(arrays["item_ids"].tolist(), is_int.tolist())])
        except ValueError as exc:
            raise CacheError(f"probe cache file {path}: an item id flagged as an integer is not one ({exc})") from exc
    expected = {"text_sha": (n,), "z": (n, K), "z_first": (n, K), "c": (n, K), "gen_text": (n, T), "gen_parsed": (n, T)}
    for name, shape in expected.items():
        if arrays[name].shape != shape:
            raise CacheError(f"probe cache file {path}: {name} has shape {arrays[name].shape}, expected {shape}")
    for name in ("z", "z_first", "c"):
        if not np.isfinite(arrays[name]).all() or (arrays[name] < 0).any():
            raise CacheError(f"probe cache file {path}: {name} holds negative, NaN or inf values")
    if (arrays["c"].sum(axis=1) > 1 + 1e-9).any() or ((arrays["gen_parsed"] < -1) | (arrays["gen_parsed"] >= K)).any():
        raise CacheError(f"probe cache file {path}: consistency shares or parsed labels out of range")
    return ProbeRecords(**arrays)


def _deduplicate(records: ProbeRecords, folder: Path) -> ProbeRecords:
    ids = [id_key(i) for i in records.item_ids.tolist()]
    first: dict[str, int] = {}
    keep = []
    for row, item in enumerate(ids):
        if item in first:
            a, b = first[item], row
            same = all(np.array_equal(getattr(records, f)[a], getattr(records, f)[b]) for f in _ARRAYS[1:])
            if not same:
                raise CacheError(f"probe cache {folder}: two shards disagree about item {item!r}")
            continue
        first[item] = row
        keep.append(row)
    return records if len(keep) == len(ids) else records.rows(keep)
